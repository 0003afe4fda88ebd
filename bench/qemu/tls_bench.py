#!/usr/bin/env python3
"""QEMU precopy RAM migration over mutual TLS: the row the QEMU anchor harness lacks.

Wraps the anchor harness's bench.py (imported from --anchors, not copied): the same case
`random` (file-backed source RAM, every page random), the same sink `tcp-pre` (a destination
QEMU on 127.0.0.1 with `-incoming defer` and preallocated RAM), the same run, checks, noise rule
and JSON line, with TLS added:

  * both QEMUs get `-object tls-creds-x509,id=tls0,dir=<certdir>,endpoint=server|client,
    verify-peer=on` (server = destination, client = source);
  * right after QMP negotiation, both get `migrate-set-parameters tls-creds=tls0
    tls-hostname=localhost` (so before `migrate-incoming` and `migrate`);
  * the certificates are a throwaway CA, a server certificate (CN and SAN localhost, 127.0.0.1)
    and a client certificate, EC P-256, made with `openssl` in a temporary directory that is
    deleted at the end (ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem,
    client-key.pem: the layout tls-creds-x509 reads).

Each JSON line carries sink "tcp-pre-tls" and a "tls" object. Like bench.py, it holds flock(2) on
/tmp/precopy-bench.lock for the whole group (RAM image, runs, cleanup).

  python3 bench/qemu/tls_bench.py --anchors /work/shared/anchors/qemu --sizes 1 --reps 1 \
      --out /tmp/qemu-anchor/tls.jsonl
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CASE = "random"
SINK = "tcp-pre"              # the anchor sink whose run this is, TLS added
SINK_NAME = "tcp-pre-tls"     # what the JSON lines say
HOSTNAME = "localhost"


def openssl(certdir, *args):
    r = subprocess.run(["openssl", *args], cwd=certdir, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr.strip()))


def make_certs(certdir):
    """A CA, a server and a client certificate signed by it, EC P-256, valid 2 days."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(certdir, "req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca-cert.pem",
            "-days", "2", "-subj", "/CN=precopy side-by-side CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for end, purpose, extra in (
            ("server", "serverAuth", "subjectAltName=DNS:%s,IP:127.0.0.1" % HOSTNAME),
            ("client", "clientAuth", None)):
        openssl(certdir, "req", *ec, "-keyout", "%s-key.pem" % end, "-out", "%s.csr" % end,
                "-subj", "/CN=%s" % (HOSTNAME if end == "server" else "precopy-client"))
        ext = os.path.join(certdir, "%s.ext" % end)
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n")
            f.write("keyUsage=critical,digitalSignature,keyEncipherment\n")
            f.write("extendedKeyUsage=%s\n" % purpose)
            if extra:
                f.write(extra + "\n")
        openssl(certdir, "x509", "-req", "-in", "%s.csr" % end, "-CA", "ca-cert.pem",
                "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", "%s-cert.pem" % end)


def patch_anchor(anchor, certdir):
    """Adds TLS to the anchor's run: the creds object on both QEMUs, the parameters over QMP."""
    plain_argv = anchor.qemu_argv

    def qemu_argv(accel, size, backend, qmp_sock, incoming):
        argv = plain_argv(accel, size, backend, qmp_sock, incoming)
        return argv + ["-object", "tls-creds-x509,id=tls0,dir=%s,endpoint=%s,verify-peer=on"
                       % (certdir, "server" if incoming else "client")]

    class TlsQMP(anchor.QMP):
        def __init__(self, path, *args, **kwargs):
            super().__init__(path, *args, **kwargs)
            self.cmd("migrate-set-parameters", **{"tls-creds": "tls0", "tls-hostname": HOSTNAME})
            p = self.cmd("query-migrate-parameters")
            if p.get("tls-creds") != "tls0":
                raise RuntimeError("tls-creds not set on %s: %r" % (path, p))

    anchor.qemu_argv = qemu_argv
    anchor.QMP = TlsQMP


class TlsOut:
    """The results file, each line relabelled as the TLS row."""

    def __init__(self, f, tls):
        self.f, self.tls = f, tls

    def write(self, line):
        rec = json.loads(line)
        rec["sink"] = SINK_NAME
        rec["tls"] = self.tls
        self.f.write(json.dumps(rec) + "\n")

    def flush(self):
        self.f.flush()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anchors", default=os.path.join(here, "..", "..", "..", "shared",
                                                      "anchors", "qemu"),
                    help="directory of the QEMU anchor harness (bench.py, qmp.py)")
    ap.add_argument("--sizes", default="1", help="GiB, comma separated")
    ap.add_argument("--accels", default="tcg")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--max-attempts", type=int, default=0,
                    help="max runs per size incl. re-runs of noisy ones (default 2*reps)")
    ap.add_argument("--noise-frac", type=float, default=0.10)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    anchors = os.path.abspath(a.anchors)
    if not os.path.exists(os.path.join(anchors, "bench.py")):
        sys.exit("no bench.py in %s (--anchors)" % anchors)
    sys.path.insert(0, anchors)
    import bench as anchor  # noqa: E402  the anchor harness; its main() does not run on import

    if shutil.which("openssl") is None:
        sys.exit("openssl is missing: it makes the throwaway certificates")
    a.cold_settle_s = 0.0
    max_attempts = a.max_attempts or 2 * a.reps
    os.makedirs(anchor.WORK, exist_ok=True)
    a.qemu_version = subprocess.run([anchor.QEMU, "--version"], capture_output=True,
                                    text=True).stdout.splitlines()[0]
    anchor.log(a.qemu_version)
    certdir = tempfile.mkdtemp(prefix="qemu-tls-", dir=anchor.WORK)
    try:
        make_certs(certdir)
        patch_anchor(anchor, certdir)
        tls = {"creds": "tls-creds-x509 verify-peer=on, EC P-256 CA/server/client (openssl)",
               "hostname": HOSTNAME}
        with open(a.out, "a") as f:
            out = TlsOut(f, tls)
            for size_g in [float(x) for x in a.sizes.split(",")]:
                size = int(size_g * anchor.GiB)
                path = os.path.join(anchor.SHM_DIR, "qemu-anchor-tls-%s-%dM.ram"
                                    % (CASE, size // anchor.MiB))
                if anchor.meminfo()["MemAvailable"] < size + 3 * anchor.GiB:
                    anchor.log("skip %.0fG: not enough memory for the RAM image" % size_g)
                    continue
                with anchor.BenchLock() as lk:
                    anchor.log("lock acquired after %.1f s" % lk.waited)
                    try:
                        t = time.time()
                        expected = anchor.prep_file(path, size, CASE)
                        anchor.log("prepared %s (%.1f s)" % (path, time.time() - t))
                        for accel in a.accels.split(","):
                            anchor.run_config(a, out, accel, size, size_g, CASE, SINK, path,
                                              expected, max_attempts)
                    finally:
                        if os.path.exists(path):
                            os.unlink(path)
    finally:
        shutil.rmtree(certdir, ignore_errors=True)


if __name__ == "__main__":
    main()
