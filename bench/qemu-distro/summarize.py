#!/usr/bin/env python3
"""Tables (markdown) from distro_bench.py JSONL files: mem-only runs and migrations."""
import json, statistics, sys

MiB = 1024


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    m = statistics.median(xs)
    f = (lambda v: "%.0f" % v)
    return "%s [%s-%s]" % (f(m), f(min(xs)), f(max(xs)))


def memrow(m):
    mi = m["meminfo_kib"]
    free_mib = m["buddy_free_mib"]
    return {"MemTotal": mi["MemTotal"] / MiB, "MemFree": mi["MemFree"] / MiB,
            "inuse": (mi["MemTotal"] - mi["MemFree"]) / MiB,
            "notfree_of_ram": None,
            "Cached": mi["Cached"] / MiB, "Buffers": mi.get("Buffers", 0) / MiB,
            "AnonPages": mi["AnonPages"] / MiB, "Slab": mi.get("Slab", 0) / MiB,
            "PageTables": mi.get("PageTables", 0) / MiB, "Shmem": mi.get("Shmem", 0) / MiB,
            "o10": m["free_in_max_order_mib"], "o10_share": 100.0 * m["free_in_max_order_mib"] / free_mib}


def main(paths):
    recs = [json.loads(l) for p in paths for l in open(p) if l.strip()]
    memruns = [r for r in recs if "guest_mem_idle" in r]
    if memruns:
        print("### Idle distro guest: memory 60 s after FPH-READY (one guest per run)\n")
        print("| RAM | run | boot s | MemTotal MiB | MemFree MiB | in use (MemTotal-MemFree) MiB | not free of RAM (size-MemFree) MiB | Cached | Buffers | AnonPages | Slab | PageTables | Shmem | free in order-10 MiB | order-10 share of free |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        groups = {}
        for r in memruns:
            x = memrow(r["guest_mem_idle"])
            x["notfree_of_ram"] = r["size_mib"] - x["MemFree"]
            x["boot"] = r["boot_s"]
            groups.setdefault(r["size_mib"], []).append(x)
            print("| %d GiB | %d | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %.0f | %.1f%% |" % (
                r["size_mib"] // 1024, r["rep"], x["boot"], x["MemTotal"], x["MemFree"], x["inuse"], x["notfree_of_ram"],
                x["Cached"], x["Buffers"], x["AnonPages"], x["Slab"], x["PageTables"], x["Shmem"], x["o10"], x["o10_share"]))
        print("\nMedians [min-max]:\n")
        print("| RAM | n | boot s | MemFree MiB | in use MiB | not free of RAM MiB | Cached | AnonPages | Slab | order-10 share |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, xs in sorted(groups.items()):
            g = lambda k: [x[k] for x in xs]
            print("| %d GiB | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                size // 1024, len(xs), med(g("boot")), med(g("MemFree")), med(g("inuse")), med(g("notfree_of_ram")),
                med(g("Cached")), med(g("AnonPages")), med(g("Slab")),
                "%.1f%% [%.1f-%.1f]" % (statistics.median(g("o10_share")), min(g("o10_share")), max(g("o10_share")))))
        print()
    mig = [r for r in recs if "guest_mem_idle" not in r and "derived" in r or "error" in r and "guest_mem_idle" not in r]
    if mig:
        print("### Migrations (query-migrate on the source)\n")
        print("| RAM | workload | limit ms | rep | mode | boot s | guest MemFree MiB before | fill | total-time ms | downtime ms | transferred MiB | pages never sent MiB | syncs | bit3 | dst guest answered | guest errors | error |")
        print("|---:|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
        groups = {}
        for r in mig:
            d = r.get("derived", {})
            gm = r.get("guest_mem_before", {}).get("meminfo_kib", {})
            never = d.get("pages_never_sent_min")
            errs = sum(v["count"] for v in r.get("guest_errors", {}).values()) if r.get("guest_errors") else "-"
            dst_ok = "yes" if "meminfo_kib" in r.get("guest_mem_dst_after", {}) else "no"
            fill = " ".join(r.get("fill", []))[:60]
            print("| %d GiB | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["size_mib"] // 1024, r["workload"], r["downtime_limit_ms"], r["rep"], r["mode"], r.get("boot_s"),
                "%.0f" % (gm["MemFree"] / MiB) if gm else "-", fill, d.get("total_time_ms"), d.get("downtime_ms"),
                d.get("transferred_mib"), "%.0f" % (never * 4 / 1024) if never is not None else "-",
                d.get("dirty_sync_count"), r.get("guest_bit3_free_page_hint"), dst_ok, errs, r.get("error", "")))
            groups.setdefault((r["size_mib"], r["workload"], r["downtime_limit_ms"]), {}).setdefault(r["mode"], []).append(d)
        print("\nMedians [min-max]:\n")
        print("| RAM | workload | limit ms | n leg/hint | total-time legacy ms | total-time hinted ms | reduction | downtime legacy ms | downtime hinted ms | transferred legacy MiB | transferred hinted MiB | reduction |")
        print("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (size, wl, dt), modes in sorted(groups.items()):
            L = [d for d in modes.get("legacy", []) if d.get("total_time_ms") is not None]
            H = [d for d in modes.get("hinted", []) if d.get("total_time_ms") is not None]
            def red(k):
                if not L or not H:
                    return "-"
                a = statistics.median([d[k] for d in L]); b = statistics.median([d[k] for d in H])
                return "%+.0f%%" % (100.0 * (b - a) / a)
            print("| %d GiB | %s | %d | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                size // 1024, wl, dt, len(L), len(H), med([d["total_time_ms"] for d in L]), med([d["total_time_ms"] for d in H]),
                red("total_time_ms"), med([d["downtime_ms"] for d in L]), med([d["downtime_ms"] for d in H]),
                med([d["transferred_mib"] for d in L]), med([d["transferred_mib"] for d in H]), red("transferred_mib")))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
