#!/usr/bin/env python3
"""virtio-balloon free page hinting with a real Debian 12 distribution guest (systemd, sshd,
cron, rsyslog; see build_image.sh), legacy vs hinted precopy.  A copy of the busybox anchor's
bench.py (/work/shared/anchors/qemu-fph/bench.py) with these changes:
  - the guest boots the rootfs's own kernel + initrd from a raw ext4 disk (virtio-blk,
    snapshot=on on source and destination, so the image stays pristine) and has a virtio-net
    NIC on QEMU's user network (restrict=on); the FPH loop is a systemd service;
  - --pre-idle S: seconds the booted guest stays idle before the workload command (fill);
  - --mem-only: boot one guest, stay idle --settle s after FPH-READY, record `mem` (+ a few
    `sh` diagnostics), quit; no migration;
  - the balloon's FPH-VIRTIO line is picked by device id 5 (the NIC and disk are virtio too).
(Original docstring follows.)

virtio-balloon free page hinting: real QEMU + real Linux guest, legacy vs hinted precopy.

Per run: boot a source QEMU (Debian kernel + tiny initramfs, see build_guest.py) and a
destination QEMU (same command line + -incoming defer), wait for the guest, start the
workload, let it settle, snapshot the guest's buddyinfo/meminfo, live-migrate over TCP
(127.0.0.1) with max-bandwidth 100 GiB/s and the given downtime-limit, record
query-migrate, the guest's churn rate (busy), the destination guest's meminfo after
the switchover, then quit both.  One JSON line per run is appended to --out.

The guest is driven over its serial console (a unix-socket chardev): the host writes
commands ("mem", "busy T WS", "fill PCT"), the guest's /init answers with FPH-* lines.
Every serial line is timestamped on the host when it arrives.

Every (size, workload, downtime, rep) pair of runs (legacy + hinted, order alternating
per rep) holds the exclusive flock(2) on /tmp/precopy-bench.lock from the first boot to the
last quit.
"""
import argparse
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

# qmp.py of the project's QEMU harness, beside the repository (ANCHOR overrides).
ANCHOR = os.environ.get("ANCHOR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               "..", "..", "..", "shared", "anchors", "qemu-fph"))
sys.path.insert(0, ANCHOR)
from qmp import QMP, wait_migration_events, event_time  # noqa: E402

MiB, GiB = 1 << 20, 1 << 30
LOCK_PATH = "/tmp/precopy-bench.lock"
WORK = os.environ.get("WORK", "/tmp/qemu-distro")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
MAX_BANDWIDTH = 100 * GiB          # "migrate_set_speed 100G" (bytes/s)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


class BenchLock:
    def __enter__(self):
        self.f = open(LOCK_PATH, "a")
        t = time.time()
        fcntl.flock(self.f.fileno(), fcntl.LOCK_EX)
        self.waited = time.time() - t
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f.fileno(), fcntl.LOCK_UN)
        self.f.close()


def meminfo_host():
    d = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            d[k] = int(v.split()[0]) * 1024
    return d


def sys_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(x) for x in fields[11:13]) / CLK_TCK


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except FileNotFoundError:
        pass
    return None


def cpu_snapshot(*procs):
    busy, steal = sys_cpu()
    own = sum(os.times()[:2])
    return {"t": time.time(), "busy": busy, "steal": steal,
            "ours": own + sum(proc_cpu(p.pid) for p in procs if p is not None)}


def foreign(a, b):
    """Host CPU seconds (and share of the 2 CPUs) used by processes other than this
    harness and its two QEMUs between snapshots a and b."""
    cpu = (b["busy"] - a["busy"]) - (b["ours"] - a["ours"])
    dt = b["t"] - a["t"]
    return {"cpu_s": round(cpu, 2), "window_s": round(dt, 2),
            "cpus": round(cpu / dt, 2) if dt > 0 else None, "steal_s": round(b["steal"] - a["steal"], 2)}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ------------------------------------------------------------------ serial console
class Serial:
    """Reads a QEMU socket chardev in a thread; keeps (host_time, line) for every line."""

    def __init__(self, path, logpath, timeout=60):
        self.lines = []
        self.cv = threading.Condition()
        self.logf = open(logpath, "a")
        deadline = time.time() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.time() > deadline:
                    raise RuntimeError("cannot connect serial %s" % path)
                time.sleep(0.02)
        self.sock = s
        self.closed = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            now = time.time()
            if not chunk:
                with self.cv:
                    self.closed = True
                    self.cv.notify_all()
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace").rstrip("\r")
                self.logf.write("%.3f %s\n" % (now, text))
                with self.cv:
                    self.lines.append((now, text))
                    self.cv.notify_all()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def wait_for(self, pattern, timeout, start_index=0):
        """Wait for a line matching regex `pattern` at index >= start_index.
        Returns (index, time, line)."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        i = start_index
        with self.cv:
            while True:
                while i < len(self.lines):
                    t, l = self.lines[i]
                    if rx.search(l):
                        return i, t, l
                    i += 1
                left = deadline - time.time()
                if left <= 0 or self.closed:
                    raise TimeoutError("serial: no %r within %ss" % (pattern, timeout))
                self.cv.wait(left)

    def command(self, cmd, end_pattern, timeout=60):
        with self.cv:
            start = len(self.lines)
        self.send(cmd)
        i, t, l = self.wait_for(end_pattern, timeout, start)
        with self.cv:
            return [x[1] for x in self.lines[start:i + 1]]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.t.join(timeout=2)
        self.logf.close()


def parse_mem(lines):
    """FPH-BUDDY / FPH-MEMINFO lines -> dict."""
    zones, mi = [], {}
    for l in lines:
        if l.startswith("FPH-BUDDY "):
            # "Node 0, zone   Normal   12  3 ..." (orders 0..10)
            m = re.match(r"FPH-BUDDY Node (\d+), zone\s+(\S+)\s+(.*)", l)
            counts = [int(x) for x in m.group(3).split()]
            zones.append({"zone": m.group(2), "free_blocks_by_order": counts})
        elif l.startswith("FPH-MEMINFO "):
            k, v = l[len("FPH-MEMINFO "):].split(":", 1)
            mi[k] = int(v.split()[0])
    top = sum(z["free_blocks_by_order"][-1] for z in zones)
    order_max = len(zones[0]["free_blocks_by_order"]) - 1 if zones else None
    buddy_free_kib = sum(c * 4 * (1 << o) for z in zones for o, c in enumerate(z["free_blocks_by_order"]))
    return {"buddyinfo": zones, "meminfo_kib": mi, "max_order": order_max,
            "free_max_order_blocks": top,
            "free_in_max_order_mib": top * 4 * (1 << order_max) / 1024 if zones else None,
            "buddy_free_mib": buddy_free_kib / 1024}


# ------------------------------------------------------------------ QEMU
class Proc:
    def __init__(self, argv, logpath):
        self.argv = argv
        self.logf = open(logpath, "a")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                  stderr=subprocess.STDOUT)
        self.pid = self.p.pid

    def stop(self, qmp=None):
        if self.p.poll() is None and qmp is not None:
            try:
                qmp.cmd("quit", timeout=10)
            except Exception:
                pass
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)     # our own child, by PID
            self.p.wait()
        self.logf.close()


def qemu_argv(a, size_mib, hint, tag, incoming):
    append = "root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1 net.ifnames=0 " + a.guest_append
    if a.accel == "tcg":    # multi-threaded TCG, one host thread per vCPU
        argv = [QEMU, "-machine", "q35", "-accel", "tcg,thread=multi"]
    else:
        argv = [QEMU, "-machine", "q35,accel=%s" % a.accel]
    argv += ["-smp", str(a.smp), "-m", "%dM" % size_mib,
             "-kernel", os.path.join(WORK, "vmlinuz"),
             "-initrd", os.path.join(WORK, "initrd.img"),
             "-append", append.strip(),
             "-nodefaults", "-display", "none", "-no-reboot",
             "-chardev", "socket,id=ser0,path=%s/%s.ser,server=on,wait=off" % (WORK, tag),
             "-serial", "chardev:ser0",
             "-qmp", "unix:%s/%s.qmp,server=on,wait=off" % (WORK, tag),
             "-drive", "file=%s,if=virtio,format=raw,snapshot=on" % os.path.join(WORK, "disk.raw"),
             "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0",
             "-object", "iothread,id=io0",
             "-device", "virtio-balloon-pci,id=bal0,free-page-hint=%s,iothread=io0"
             % ("on" if hint else "off")]
    if incoming:
        argv += ["-incoming", "defer"]
    return argv


def balloon_status(q):
    """Host-side view of the balloon's negotiated features (QEMU >= 7.2 x-query-virtio-status)."""
    try:
        for d in q.cmd("x-query-virtio"):
            if "balloon" in d.get("name", ""):
                st = q.cmd("x-query-virtio-status", path=d["path"])
                return {"path": d["path"],
                        "host_features": st.get("host-features", {}).get("dev-features"),
                        "guest_features": st.get("guest-features", {}).get("dev-features"),
                        "status": st.get("status")}
    except Exception as e:  # noqa: BLE001
        return {"error": str(e)}
    return {"error": "no balloon in x-query-virtio"}


ERR_RX = re.compile(r"Kernel panic|BUG:|Oops|corruption|general protection|soft lockup|"
                    r"hung_task|Call Trace|CHURN-CORRUPT|segfault|trap ")


def guest_errors(ss, sd, t0):
    """Kernel/churn error lines: source before `migrate`, source after, destination."""
    res = {}
    for name, ser, pred in (("src_before_migrate", ss, lambda t: t < t0),
                            ("src_after_migrate", ss, lambda t: t >= t0),
                            ("dst", sd, lambda t: True)):
        with ser.cv:
            bad = [l for t, l in ser.lines if pred(t) and ERR_RX.search(l)]
        res[name] = {"count": len(bad), "first": bad[:5]}
    return res


def churn_lines(ser_list):
    """All CHURN lines from the given serial readers:
    (host_time, seq, bytes, cum, interval_ms, corrupt_pages or None)."""
    out = []
    for ser in ser_list:
        with ser.cv:
            for t, l in ser.lines:
                if l.startswith("CHURN "):
                    p = l.split()
                    out.append((t, int(p[1]), int(p[3]), int(p[4]), float(p[5]),
                                int(p[7]) if len(p) > 7 else None))
    out.sort()
    return out


def churn_stats(lines, t_mig0, t_mig1, baseline_s=10.0, post_s=8.0):
    """Rates in MiB/s of the guest's churn program around a migration window (host times)."""
    if not lines:
        return None
    before = [x for x in lines if x[0] <= t_mig0]
    after = [x for x in lines if x[0] >= t_mig1]
    res = {}
    base = [x for x in before if x[0] > t_mig0 - baseline_s]
    if base:
        res["baseline_mib_s"] = round(sum(x[2] for x in base) / MiB / (sum(x[4] for x in base) / 1e3), 1)
    if before and after:
        l0, l1 = before[-1], after[0]
        # cumulative counter is monotonic across the switchover (same process)
        res["span_mib_s"] = round((l1[3] - l0[3]) / MiB / (l1[0] - l0[0]), 1)
        res["span_s"] = round(l1[0] - l0[0], 3)
    inside = [x for x in lines if t_mig0 < x[0] < t_mig1]
    res["inside_lines_mib_s"] = [round(x[2] / MiB / (x[4] / 1e3), 1) for x in inside]
    post = [x for x in after if x[0] < t_mig1 + post_s][1:]   # skip the line spanning the switchover
    if post:
        res["post_mib_s"] = round(sum(x[2] for x in post) / MiB / (sum(x[4] for x in post) / 1e3), 1)
    if lines[-1][5] is not None:       # verify mode: corrupt pages seen by the guest program
        res["corrupt_pages_before_migrate"] = before[-1][5] if before else None
        res["corrupt_pages_last"] = lines[-1][5]
        res["lines_after_completion"] = len(after)
    return res


def run_once(a, size_mib, workload, downtime_ms, hint, rep, qemu_version):
    mode = "hinted" if hint else "legacy"
    rid = "%s-%dM-%s-dt%d-r%d-%s" % (time.strftime("%Y%m%d-%H%M%S"), size_mib, workload, downtime_ms, rep, mode)
    seriallog = os.path.join(a.serial_dir, rid + ".log")
    for tag in ("src", "dst"):
        for ext in ("ser", "qmp"):
            p = os.path.join(WORK, "%s.%s" % (tag, ext))
            if os.path.exists(p):
                os.unlink(p)
    rec = {"run_id": rid, "size_mib": size_mib, "workload": workload, "downtime_limit_ms": downtime_ms,
           "mode": mode, "rep": rep, "accel": a.accel, "smp": a.smp, "qemu_version": qemu_version,
           "guest_append": a.guest_append, "max_bandwidth": MAX_BANDWIDTH,
           "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    src = dst = qs = qd = ss = sd = None
    try:
        src_argv = qemu_argv(a, size_mib, hint, "src", False)
        dst_argv = qemu_argv(a, size_mib, hint, "dst", True)
        rec["src_argv"], rec["dst_argv"] = src_argv, dst_argv
        # the TCG guest with 4 vCPUs on 2 host CPUs occasionally hangs during boot
        # (soft lockup of a kworker); retry the boot, never a migration
        rec["boot_failures"] = []
        for attempt in range(a.boot_attempts):
            t_boot = time.time()
            src = Proc(src_argv, os.path.join(WORK, "src.log"))
            ss = Serial(os.path.join(WORK, "src.ser"), seriallog)
            qs = QMP(os.path.join(WORK, "src.qmp"))
            try:
                _, t_ready, _ = ss.wait_for(r"^FPH-READY", a.boot_timeout)
                break
            except TimeoutError:
                with ss.cv:
                    tail = [l for _, l in ss.lines[-3:]]
                rec["boot_failures"].append({"after_s": round(time.time() - t_boot, 1), "serial_tail": tail})
                log("boot attempt %d failed: %s" % (attempt + 1, tail))
                src.stop(qs)
                qs.close()
                ss.close()
                src = qs = ss = None
                for ext in ("ser", "qmp"):
                    pth = os.path.join(WORK, "src.%s" % ext)
                    if os.path.exists(pth):
                        os.unlink(pth)
        else:
            raise TimeoutError("guest did not boot in %d attempts" % a.boot_attempts)
        rec["boot_s"] = round(t_ready - t_boot, 2)
        with ss.cv:
            virtio = [l for _, l in ss.lines if l.startswith("FPH-VIRTIO")]
        rec["guest_virtio"] = virtio
        bal = [l for l in virtio if "device=0x0005" in l]
        m = re.search(r"bit3_free_page_hint=(\d)", bal[0]) if bal else None
        rec["guest_bit3_free_page_hint"] = int(m.group(1)) if m else None
        rec["balloon_host_view"] = balloon_status(qs)
        with ss.cv:
            rec["guest_systemd"] = [l for _, l in ss.lines if l.startswith("FPH-SYSTEMD")]
        if a.mem_only:
            time.sleep(max(0.0, a.settle - (time.time() - t_ready)))
            rec["settle_s"] = round(time.time() - t_ready, 2)
            rec["guest_mem_idle"] = parse_mem(ss.command("mem", r"^FPH-MEM-END"))
            for key, c in (("ps_top_rss", "ps -eo rss,comm --sort=-rss | head -25"),
                           ("systemd_analyze", "systemd-analyze 2>&1 | head -3"),
                           ("df_run", "df -k /run /dev/shm /tmp 2>&1"),
                           ("slab_top_kib", "awk 'NR>2{printf \"%s %d\\n\", $1, $3*$4/1024}' /proc/slabinfo | sort -k2 -n -r | head -10")):
                out = ss.command("sh " + c, r"^FPH-SH-DONE", timeout=60)
                rec[key] = [l.rstrip() for l in out[1:-1]] if len(out) > 1 else out
            rec["host_rss_mib_src"] = rss_mib(src.pid)
            return rec
        if a.pre_idle > 0:
            time.sleep(max(0.0, a.pre_idle - (time.time() - t_ready)))
            rec["pre_idle_s"] = round(time.time() - t_ready, 2)
        # destination (started after the source guest booted: it only listens)
        dst = Proc(dst_argv, os.path.join(WORK, "dst.log"))
        sd = Serial(os.path.join(WORK, "dst.ser"), seriallog)
        qd = QMP(os.path.join(WORK, "dst.qmp"))
        # workload; the settle period starts when the workload command has returned
        # (idle: at READY; busy: churn started; used: fill written and freed)
        if workload in ("busy", "verify"):
            ss.command("%s %d %d %d" % (workload, a.threads or a.smp, a.workset_mib, a.interval_ms),
                       r"^FPH-BUSY-STARTED")
        elif workload == "used":
            out = ss.command("fill %d" % a.fill_pct, r"^FPH-FILL-DONE", timeout=600)
            rec["fill"] = [l for l in out if l.startswith("CHURN-FILL")]
        t_wl = t_ready if workload == "idle" else time.time()
        time.sleep(max(0.0, a.settle - 10.0 - (time.time() - t_wl)))
        snapA = cpu_snapshot(src, dst)
        time.sleep(max(0.0, a.settle - (time.time() - t_wl)))
        rec["settle_s"] = round(time.time() - t_wl, 2)
        memout = ss.command("mem", r"^FPH-MEM-END")
        rec["guest_mem_before"] = parse_mem(memout)
        # migration setup
        port = free_port()
        uri = "tcp:127.0.0.1:%d" % port
        caps = [{"capability": "events", "state": True}]
        for q in (qs, qd):
            q.cmd("migrate-set-capabilities", capabilities=caps)
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": MAX_BANDWIDTH, "downtime-limit": downtime_ms})
        rec["migrate_parameters"] = {k: v for k, v in qs.cmd("query-migrate-parameters").items()
                                     if k in ("max-bandwidth", "downtime-limit")}
        qd.cmd("migrate-incoming", uri=uri)
        rec["uri"] = uri
        busy0, steal0 = sys_cpu()
        cpu0 = {"src": proc_cpu(src.pid), "dst": proc_cpu(dst.pid)}
        rss0 = {"src": rss_mib(src.pid), "dst": rss_mib(dst.pid)}
        snapB = cpu_snapshot(src, dst)
        rec["foreign_cpu_pre_s"] = foreign(snapA, snapB)
        t0 = time.time()
        rec["t_migrate_host"] = round(t0, 3)
        qs.cmd("migrate", uri=uri)
        mig_timeout = a.busy_mig_timeout if workload in ("busy", "verify") else a.mig_timeout
        try:
            done = wait_migration_events([qs, qd], {"completed"}, mig_timeout)
        except TimeoutError:
            # did not converge: keep the state at the cap, then cancel
            rec["status"] = "not-converged"
            rec["not_converged_after_s"] = round(time.time() - t0, 1)
            rec["query_migrate"] = qs.cmd("query-migrate")
            if workload in ("busy", "verify"):
                rec["churn"] = churn_stats(churn_lines([ss, sd]), t0, time.time())
            qs.cmd("migrate_cancel")
            ram = rec["query_migrate"].get("ram", {})
            rec["derived"] = {"total_time_ms": None, "elapsed_ms_at_cap": rec["query_migrate"].get("total-time"),
                              "transferred_mib": round(ram.get("transferred", 0) / MiB, 1),
                              "dirty_sync_count": ram.get("dirty-sync-count"),
                              "remaining_mib": round(ram.get("remaining", 0) / MiB, 1),
                              "expected_downtime_ms": rec["query_migrate"].get("expected-downtime")}
            return rec
        t1 = time.time()
        rec["foreign_cpu_mig_s"] = foreign(snapB, cpu_snapshot(src, dst))
        # 'completed' is emitted before total-time/downtime are computed (QEMU 7.2);
        # the runstate becomes 'postmigrate' right after.
        for _ in range(5000):
            if qs.cmd("query-status").get("status") == "postmigrate":
                break
            time.sleep(0.001)
        info = qs.cmd("query-migrate")
        busy1, steal1 = sys_cpu()
        rec["host_cpu_busy_s"] = round(busy1 - busy0, 3)
        rec["host_steal_s"] = round(steal1 - steal0, 3)
        rec["qemu_cpu_s"] = {"src": round(proc_cpu(src.pid) - cpu0["src"], 3),
                             "dst": round(proc_cpu(dst.pid) - cpu0["dst"], 3)}
        rec["rss_mib_before"] = rss0
        rec["rss_mib_after"] = {"src": rss_mib(src.pid), "dst": rss_mib(dst.pid)}
        rec["client_wall_s"] = round(t1 - t0, 4)
        rec["status"] = info.get("status")
        rec["query_migrate"] = info
        rec["dst_query_migrate"] = qd.cmd("query-migrate")
        ev = [e for _, e in qs.events if e["event"] == "MIGRATION"]
        setup_ev = [e for e in ev if e["data"]["status"] == "setup"]
        if setup_ev:
            ts = event_time(setup_ev[0])
            rec["src_completed_evt_s"] = round(event_time(done[qs][1]) - ts, 4)
            rec["dst_completed_evt_s"] = round(event_time(done[qd][1]) - ts, 4)
        rec["balloon_host_view_after"] = balloon_status(qs)
        # destination guest: is it alive, did it get its hinted blocks back (DONE)?
        time.sleep(a.post_s)
        try:
            rec["guest_mem_dst_after"] = parse_mem(sd.command("mem", r"^FPH-MEM-END", timeout=60))
            rec["guest_mem_dst_after"]["t_after_completion_s"] = round(time.time() - t1, 2)
        except Exception as e:  # noqa: BLE001
            rec["guest_mem_dst_after"] = {"error": str(e)}
        if workload in ("busy", "verify"):
            rec["churn"] = churn_stats(churn_lines([ss, sd]), t0, t1)
        rec["guest_errors"] = guest_errors(ss, sd, t0)
        # derived
        ram = info.get("ram", {})
        total_pages = ram.get("total", 0) // ram.get("page-size", 4096)
        rec["derived"] = {
            "total_time_ms": info.get("total-time"),
            "downtime_ms": info.get("downtime"),
            "setup_time_ms": info.get("setup-time"),
            "transferred_mib": round(ram.get("transferred", 0) / MiB, 1),
            "duplicate_pages": ram.get("duplicate"),
            "normal_pages": ram.get("normal"),
            "ram_total_pages": total_pages,
            "pages_never_sent_min": total_pages - ram.get("duplicate", 0) - ram.get("normal", 0),
            "dirty_sync_count": ram.get("dirty-sync-count"),
        }
    except Exception as e:  # noqa: BLE001
        rec["error"] = "%s: %s" % (type(e).__name__, e)
        log("ERROR", rid, rec["error"])
    finally:
        for proc, q in ((src, qs), (dst, qd)):
            if proc is not None:
                proc.stop(q)
            if q is not None:
                q.close()
        for s in (ss, sd):
            if s is not None:
                s.close()
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2048,8192", help="guest RAM sizes, MiB")
    ap.add_argument("--workloads", default="idle,busy")
    ap.add_argument("--downtimes", default="2000", help="downtime-limit values, ms")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0, help="churn threads (default = smp)")
    ap.add_argument("--workset-mib", type=int, default=384)
    ap.add_argument("--interval-ms", type=int, default=1000)
    ap.add_argument("--fill-pct", type=int, default=75)
    ap.add_argument("--settle", type=float, default=25.0, help="s from workload start to migration")
    ap.add_argument("--post-s", type=float, default=8.0, help="s after completion before dst 'mem'")
    ap.add_argument("--guest-append", default="init_on_alloc=0")
    ap.add_argument("--boot-timeout", type=float, default=600)
    ap.add_argument("--pre-idle", type=float, default=0.0, help="s idle after FPH-READY before the workload")
    ap.add_argument("--mem-only", action="store_true", help="boot, idle --settle s, mem, quit (no migration)")
    ap.add_argument("--hint", default="on", help="--mem-only: free-page-hint on|off")
    ap.add_argument("--boot-attempts", type=int, default=3)
    ap.add_argument("--mig-timeout", type=float, default=600)
    ap.add_argument("--busy-mig-timeout", type=float, default=90,
                    help="cap for busy migrations; then migrate_cancel and record not-converged")
    ap.add_argument("--max-guest-total-mib", type=int, default=18 * 1024)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    a.serial_dir = os.path.join(os.path.dirname(os.path.abspath(a.out)), "serial")
    os.makedirs(a.serial_dir, exist_ok=True)
    qemu_version = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    sizes = [int(x) for x in a.sizes.split(",")]
    for size in sizes:
        if 2 * size > a.max_guest_total_mib:
            sys.exit("size %d MiB: source+destination exceed %d MiB" % (size, a.max_guest_total_mib))
    for size in sizes:
        for workload in a.workloads.split(","):
            for dt in [int(x) for x in a.downtimes.split(",")]:
                for rep in range(a.reps):
                    order = (False, True) if rep % 2 == 0 else (True, False)
                    if a.mem_only:
                        order = (a.hint == "on",)
                    with BenchLock() as lk:
                        for hint in order:
                            need = (1 if a.mem_only else 2) * size * MiB + 1 * GiB
                            avail = meminfo_host()["MemAvailable"]
                            if avail < need:
                                log("SKIP: MemAvailable %.1f GiB < %.1f GiB" % (avail / GiB, need / GiB))
                                rec = {"size_mib": size, "workload": workload, "downtime_limit_ms": dt,
                                       "mode": "hinted" if hint else "legacy", "rep": rep,
                                       "skipped": "MemAvailable %.1f GiB" % (avail / GiB)}
                            else:
                                rec = run_once(a, size, workload, dt, hint, rep, qemu_version)
                            rec["lock_waited_s"] = round(lk.waited, 1)
                            rec["host_loadavg"] = open("/proc/loadavg").read().split()[:3]
                            rec["host_mem_available_mib"] = meminfo_host()["MemAvailable"] // MiB
                            with open(a.out, "a") as f:
                                f.write(json.dumps(rec) + "\n")
                            d = rec.get("derived", {})
                            if a.mem_only:
                                mi = rec.get("guest_mem_idle", {}).get("meminfo_kib", {})
                                log("%dM mem-only r%d: boot=%s s MemTotal=%s MemFree=%s Cached=%s AnonPages=%s kB %s"
                                    % (size, rep, rec.get("boot_s"), mi.get("MemTotal"), mi.get("MemFree"),
                                       mi.get("Cached"), mi.get("AnonPages"), rec.get("error", "")))
                                continue
                            log("%dM %s dt=%d r%d %s: total=%s ms down=%s ms xfer=%s MiB never_sent=%s syncs=%s boot=%s churn=%s %s"
                                % (size, workload, dt, rep, rec.get("mode"), d.get("total_time_ms"),
                                   d.get("downtime_ms"), d.get("transferred_mib"), d.get("pages_never_sent_min"),
                                   d.get("dirty_sync_count"), rec.get("boot_s"), rec.get("churn"),
                                   rec.get("error", "")))


if __name__ == "__main__":
    main()
