#!/usr/bin/python3
"""The bench: runs the scenario set with synmill and synmill-gen as separate
DPDK processes over net_memif (own file prefixes, cores 0 and 1), measures
the references in the same invocation, checks the two sides' counters agree,
and writes bench/results/<timestamp>.{json,md,png}.

    bench/run.py [--build DIR] [--duration S] [--only a,b] [--smoke] [--full]

--smoke: every scenario for 1 s, small hold/scale sets; exits 1 if any
counter check disagrees (the test suite runs this). --full: hold one million
connections and scale up to ten million (needs minutes and ~8 GiB).
Aims (reported, not asserted): cookie SYN-ACK rate >= 90% of the ceiling
(the generator's transmit rate into testpmd rxonly: a bound on what can
cross the link; where synmill exceeds it the report calls the reference
invalid, never met); CPS >= 25% of the ceiling's packet rate; >= 20x the
kernel per core on syn and >= 10x on cps (the kernel behind a tap:
tap-bound); <= 200 busy cycles per SYN answered with a cookie and <= 300 per
packet received in cps; <= 128 bytes per held connection (synmill's
anonymous memory, weighed before the load starts, not the memif region)."""
import argparse
import atexit
import datetime
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
import procs  # noqa: E402
import references  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402


class Context:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.duration = args.duration
        self.smoke = args.smoke
        if args.smoke:
            self.hold, self.scale = 2000, [1000, 10000]
        elif args.full:
            self.hold, self.scale = 1_000_000, [1000, 100_000, 1_000_000, 10_000_000]
        else:
            self.hold, self.scale = 100_000, [1000, 10_000, 100_000]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(procs.REPO, "build"))
    ap.add_argument("--duration", type=float, default=None, help="seconds per run (default 2; smoke 1)")
    ap.add_argument("--only", default="", help="comma-separated scenarios: " + ",".join(scenarios.SCENARIOS))
    ap.add_argument("--no-references", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--scale", default="", help="comma-separated table occupancies for the scale scenario "
                    "(default 1000,10000,100000; --full 1000,100000,1000000,10000000)")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 1.0 if args.smoke else 2.0
    if os.geteuid() != 0:
        sys.exit("bench/run.py: needs root (namespaces, taps, DPDK runtime dirs)")
    for exe in ("apps/synmill", "apps/synmill-gen", "bench/kernel_server"):
        if not os.access(os.path.join(args.build, exe), os.X_OK):
            sys.exit(f"bench/run.py: no {exe} in {args.build}: build first (scripts/build.sh)")
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in scenarios.SCENARIOS]
    if unknown:
        sys.exit(f"bench/run.py: unknown scenario {unknown[0]} (have: {', '.join(scenarios.SCENARIOS)})")
    atexit.register(procs.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ctx = Context(args)
    if args.scale:
        ctx.scale = [int(x) for x in args.scale.split(",") if x]
    t0 = time.monotonic()
    result = {"timestamp": datetime.datetime.now().strftime("%Y%m%d-%H%M%S"),
              "mode": "smoke" if args.smoke else "full" if args.full else "default",
              "duration_s": args.duration, "rows": [], "references": {}, "logs": procs.log_dir()}
    for name, fn in scenarios.SCENARIOS.items():
        if only and name not in only:
            continue
        print(f"bench: {name} ...", flush=True)
        rows = fn(ctx)
        for row in rows if isinstance(rows, list) else [rows]:
            result["rows"].append(row)
            bad = [c for c in row["checks"] if not c[1]]
            print(f"bench:   {row['scenario']}: {row['metric']} = {report.fmt_value(row)}"
                  f" ({len(row['checks']) - len(bad)}/{len(row['checks'])} checks agree)", flush=True)
    if not args.no_references:
        print("bench: references ...", flush=True)
        result["references"]["ceiling"] = references.ceiling(ctx)
        if not only or "syn" in only:
            result["references"]["kernel-syn"] = references.kernel(ctx, "syn")
        if not only or "cps" in only:
            result["references"]["kernel-cps"] = references.kernel(ctx, "cps")
    result["elapsed_s"] = round(time.monotonic() - t0, 1)
    base, md, png = report.write(result, args.out)
    print(md)
    print(f"bench: wrote {base}.json, {base}.md" + (f", {base}.png" if png else " (no matplotlib: no plot)")
          + f" in {result['elapsed_s']} s; logs in {result['logs']}")
    failed = sum(1 for r in result["rows"] for c in r["checks"] if not c[1])
    return 1 if failed and args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
