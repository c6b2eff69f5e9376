#!/usr/bin/python3
"""Instructions per received packet of the DPDK worker (lib/dp Worker), counted
by callgrind on bench/worker_bench: the real Worker polling a net_ring port in
one process (EAL --no-huge, no other process), the bench playing the peers.
Only the worker's poll passes are collected (--toggle-collect=*measured_pass*:
RX burst, parse, stack, replies, TX flush); the peers' frames, built before a
pass and read after it, are not. The bench's clock is its own, so the same
binary gives the same figures every run. The last column divides synmill's
own instructions by the packets in and out (the unit of issue 12's aim of
500: see AIM_PER_PACKET); the budgets are per received packet.

Each figure is split by where the instructions ran (the callgrind output's
exclusive cost per object, and within synmill's executable per source file):
  synmill   the executable: lib/dp, lib/tcp, lib/wire, and what they inline
            from DPDK's headers (rte_mbuf.h, rte_ethdev.h: "dpdk-inline") and
            from the C++ library ("std-inline")
  dpdk      the librte_* shared objects (net_ring's RX/TX, rings, mempool)
  libc      libc.so (memcpy, memset), and anything else

  bench/worker_instr.py WORKER_BENCH               the table
  bench/worker_instr.py WORKER_BENCH --check FILE  fail when synmill's own
      instructions per packet exceed FILE's "worker" budgets by > 10 %
  --json     one JSON object    --n N   connections / SYNs (default 2000)
  --keep DIR keep the callgrind output files there (callgrind_annotate them)
  --prf siphash  the cookie PRF forced to SipHash-2-4; the budgets file's
             "worker"."siphash" object overrides the budgets for it (and
             --check applies it by itself on a CPU without AES-NI)
  --held M1,M2,...  cache misses instead (issue 12: cost flat from 1K to 10M
             connections): the cps scenario while the worker holds M idle
             established connections (worker_bench SYNMILL_BENCH_HELD; the
             tables sized as synmill's for M), under callgrind's cache
             simulation (--cache-sim=yes; the held set opened uninstrumented,
             then --warm passes that warm the simulated caches, not
             counted). Per received packet: instructions, D1 and LL read /
             write misses, and the functions with the most LL misses
             (--top). The caches simulated are fixed, not the host's:
             --d1 (default 32768,8,64) and --ll (default 33554432,16,64, an
             L3's size; 1048576,16,64 shows an L2's misses instead).
             Deterministic, like the instruction counts; 1K, 1M and 10M
             together take about a minute and 1.5 GiB (the 10M held set
             opens uninstrumented). Not in the test suite.

Scenarios (worker_bench --op): cps, connections pipelined 16 frames a pass
(SYN, ACK+GET, FIN, ACK in; SYN-ACK, response, FIN out, HTTP app);
cps_dispatch, the same over two workers with software dispatch (worker 0
hashes every flow to its owner; both workers counted); flood,
SYNs in full 32-frame bursts answered with cookies, the worker in overload.
net_ring moves mbuf pointers only: the DPDK share is far below a real PMD's
(memif copies every frame), so compare synmill's own figure across runs.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from instr_count import cpu_has_aes, load_budgets  # bench/instr_count.py, beside this script

OPS = {
    "cps": "cps: SYN, ACK+GET, FIN, ACK per connection",
    "cps_dispatch": "cps, 2 workers, software dispatch",
    "flood": "flood: SYN -> cookie SYN-ACK, overloaded",
}
TOLERANCE = 0.10
# Issue 12's aim for the worker, "<= 500 instructions per packet in synmill's
# own code", counts packets in and out: its baseline, "about 15,000
# instructions per connection (about 2,140 per packet)", is 7 packets a
# connection (4 in, 3 out), as the core aim of 3,500 per full connection is
# 500 x 7. The table gives both units; the budgets stay per received packet.
AIM_PER_PACKET = 500
PARTS = ["lib/dp", "lib/tcp", "lib/wire", "dpdk-inline", "std-inline", "other"]


def part_of_file(path):
    for p in ("lib/dp/", "lib/tcp/", "lib/wire/"):
        if p in path:
            return p[:-1]
    if "/dpdk/" in path or os.path.basename(path).startswith("rte_"):
        return "dpdk-inline"
    if "/c++/" in path:
        return "std-inline"
    return "other"


def cost_lines(path):
    """The records of a callgrind output file, with its name compression
    undone: ("events", [names]), ("summary", [values]) and, for every cost
    line, ("cost", object, source file of the line (inlined code included),
    function, [event values]): exclusive costs only, the inclusive cost of a
    call (the line after calls=) is skipped."""
    names = {}

    def name(kind, value):
        m = re.match(r"\((\d+)\)(?: (.*))?$", value)
        if not m:
            return value
        key = (kind, m.group(1))
        if m.group(2) is not None:
            names[key] = m.group(2)
        return names.get(key, "")

    ob = fl = cur = fn = ""
    skip_next = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                yield ("cost", ob, cur, fn, [int(x) for x in line.split()[1:]])
                continue
            k, _, v = line.partition("=")
            if line.startswith("events:"):
                yield ("events", line.split()[1:])
            elif k == "ob":
                ob = name("ob", v)
            elif k == "fl":
                fl = cur = name("fl", v)
            elif k in ("fi", "fe"):
                cur = name("fl", v)
            elif k == "fn":
                fn = name("fn", v)
                cur = fl
            elif k == "cob":
                name("ob", v)
            elif k in ("cfi", "cfl"):
                name("fl", v)
            elif k == "cfn":
                name("fn", v)
            elif k == "calls":
                skip_next = True
            elif k in ("summary", "totals") or line.startswith(("summary:", "totals:")):
                yield ("summary", [int(x) for x in (v or line.partition(":")[2]).split()])


def exclusive_costs(path, exe):
    """{(group, part): Ir} from a callgrind output file: every cost line's
    first event, by the object it ran in (and, in `exe`, the source file of
    the line, inlined code included)."""
    costs = {}
    for rec in cost_lines(path):
        if rec[0] == "summary":
            costs[("total", "summary")] = rec[1][0]
        if rec[0] != "cost":
            continue
        _, ob, cur, _, vals = rec
        ir = vals[0] if vals else 0
        if ob == exe:
            key = ("synmill", part_of_file(cur))
        elif "/librte_" in ob:
            key = ("dpdk", os.path.basename(ob).split(".so")[0])
        elif "/libc.so" in ob:
            key = ("libc", "libc")
        else:
            key = ("libc", os.path.basename(ob) or "?")
        costs[key] = costs.get(key, 0) + ir
    return costs


def count(bench, op, n, keep, prf):
    with tempfile.TemporaryDirectory(prefix="synmill-winstr-") as tmp:
        out = os.path.join(keep or tmp, f"callgrind.worker.{op}.out")
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*measured_pass*",
               f"--callgrind-out-file={out}", bench, "--op", op]
        env = dict(os.environ, SYNMILL_BENCH_N=str(n))
        if prf == "siphash":
            env["SYNMILL_BENCH_PRF"] = "siphash"
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, check=False)
        if r.returncode != 0:
            sys.exit(f"worker_instr: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
        result = json.loads(r.stdout.strip().splitlines()[-1])
        costs = exclusive_costs(out, os.path.realpath(bench))
    rx = result["measured_rx"]
    total = costs.pop(("total", "summary"), None)
    summed = sum(costs.values())
    if total is not None and total != summed:
        sys.exit(f"worker_instr: {op}: per-object costs add to {summed}, callgrind's summary says {total}")
    per = {}
    for (group, part), ir in costs.items():
        per.setdefault(group, {}).setdefault(part, 0)
        per[group][part] += ir / rx
    figure = {g: sum(p.values()) for g, p in per.items()}
    tx = result["measured_tx"]
    return {"rx": rx, "tx": tx, "instructions": summed, "per_rx": summed / rx,
            "synmill": figure.get("synmill", 0.0), "dpdk": figure.get("dpdk", 0.0), "libc": figure.get("libc", 0.0),
            "synmill_per_packet_in_out": figure.get("synmill", 0.0) * rx / (rx + tx) if rx + tx else 0.0,
            "parts": per}


EVENTS_SHOWN = [("Ir", "instr"), ("D1mr", "D1 rd"), ("D1mw", "D1 wr"), ("DLmr", "LL rd"), ("DLmw", "LL wr")]


def event_costs(path):
    """(events, totals, {function: costs}) from a callgrind output file
    written with --cache-sim=yes: every cost line's events (exclusive), by the
    function it ran in."""
    events = []
    per_fn = {}
    for rec in cost_lines(path):
        if rec[0] == "events":
            events = rec[1]
        elif rec[0] == "cost":
            acc = per_fn.setdefault(rec[3], [0] * len(events))
            for i, v in enumerate(rec[4]):
                acc[i] += v
    totals = [sum(c[i] for c in per_fn.values()) for i in range(len(events))]
    return events, totals, per_fn


def count_held(bench, held, n, warm, d1, ll, keep, prf):
    with tempfile.TemporaryDirectory(prefix="synmill-winstr-") as tmp:
        out = os.path.join(keep or tmp, f"callgrind.worker.cps.held{held}.out")
        cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--D1={d1}", f"--I1={d1}", f"--LL={ll}",
               "--instr-atstart=no", "--collect-atstart=no", "--toggle-collect=*measured_pass*",
               f"--callgrind-out-file={out}", bench, "--op", "cps"]
        env = dict(os.environ, SYNMILL_BENCH_N=str(n), SYNMILL_BENCH_HELD=str(held), SYNMILL_BENCH_WARM=str(warm))
        if prf == "siphash":
            env["SYNMILL_BENCH_PRF"] = "siphash"
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if r.returncode != 0:
            sys.exit(f"worker_instr: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
        result = json.loads(r.stdout.strip().splitlines()[-1])
        events, totals, per_fn = event_costs(out)
    rx = result["measured_rx"]
    ix = {e: i for i, e in enumerate(events)}
    per = {e: totals[ix[e]] / rx for e, _ in EVENTS_SHOWN if e in ix}
    fns = {f: {e: c[ix[e]] / rx for e, _ in EVENTS_SHOWN if e in ix} for f, c in per_fn.items()}
    return {"held": held, "rx": rx, "per_rx": per, "functions": fns}


def main_held(a, prf):
    helds = [int(x) for x in a.held.split(",") if x]
    got = [count_held(a.worker_bench, m, a.n, a.warm, a.d1, a.ll, a.keep, prf) for m in helds]
    if a.json:
        print(json.dumps({"n": a.n, "warm_passes": a.warm, "d1": a.d1, "ll": a.ll, "prf": prf,
                          "held": [{k: g[k] for k in ("held", "rx", "per_rx")} for g in got]}))
        return 0
    print(f"DPDK worker, cps while holding M idle connections: per received packet (callgrind --cache-sim=yes, "
          f"N={a.n}, {a.warm} warm-up passes not counted, D1 {a.d1}, LL {a.ll})")
    print(f"  {'held':>10} " + " ".join(f"{label:>8}" for _, label in EVENTS_SHOWN))
    for g in got:
        print(f"  {g['held']:>10} " + " ".join(f"{g['per_rx'].get(e, 0):8.2f}" for e, _ in EVENTS_SHOWN))
    for g in got:
        ranked = sorted(g["functions"].items(), key=lambda kv: -(kv[1].get("DLmr", 0) + kv[1].get("DLmw", 0)))
        print(f"  held {g['held']}: LL misses per packet by function (D1 rd/wr, LL rd/wr)")
        for f, c in ranked[:a.top]:
            if c.get("DLmr", 0) + c.get("DLmw", 0) + c.get("D1mr", 0) + c.get("D1mw", 0) < 0.005:
                break
            print(f"    {c.get('D1mr', 0):6.2f} {c.get('D1mw', 0):6.2f} {c.get('DLmr', 0):6.2f} "
                  f"{c.get('DLmw', 0):6.2f}  {f[:110]}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("worker_bench")
    ap.add_argument("--n", type=int, default=2000, help="connections (cps) or SYNs (flood) per run")
    ap.add_argument("--check", metavar="BUDGETS", help="JSON file whose \"worker\" object holds, per scenario, "
                    "synmill's own instructions per received packet")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind outputs in DIR")
    ap.add_argument("--prf", choices=["auto", "siphash"], default="auto",
                    help="siphash: the cookie PRF forced to SipHash-2-4 (as on a CPU without AES-NI)")
    ap.add_argument("--held", metavar="M1,M2", help="cache misses per packet of cps at these held occupancies")
    ap.add_argument("--warm", type=int, default=200, help="--held: cps passes run before counting (default 200)")
    ap.add_argument("--d1", default="32768,8,64", help="--held: simulated D1 (and I1): size,assoc,line")
    ap.add_argument("--ll", default="33554432,16,64", help="--held: simulated LL: size,assoc,line")
    ap.add_argument("--top", type=int, default=12, help="--held: functions listed per occupancy")
    a = ap.parse_args()
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    prf = a.prf if cpu_has_aes() else "siphash"  # without AES-NI the stack uses SipHash anyway
    if a.held:
        return main_held(a, prf)
    got = {op: count(a.worker_bench, op, a.n, a.keep, prf) for op in OPS}
    budgets = load_budgets(a.check, OPS, prf, "worker") if a.check else {}
    if a.json:
        print(json.dumps({"n": a.n, "prf": prf, "per_rx_packet": got, "budgets": budgets}))
    else:
        print(f"DPDK worker, instructions per received packet (callgrind, N={a.n}, net_ring, one process, "
              f"cookie PRF: {'SipHash-2-4' if prf == 'siphash' else 'AES-128'})")
        print(f"  {'scenario':<44} {'total':>7} {'synmill':>8} {'dpdk':>7} {'libc':>6} {'synmill/pkt in+out':>19}")
        for op, what in OPS.items():
            g = got[op]
            b = budgets.get(op)
            extra = f"  budget {b:.0f} (+{TOLERANCE:.0%})" if b else ""
            print(f"  {what:<44} {g['per_rx']:7.0f} {g['synmill']:8.0f} {g['dpdk']:7.0f} {g['libc']:6.0f} "
                  f"{g['synmill_per_packet_in_out']:19.0f}{extra}")
        cps = got["cps"]["synmill_per_packet_in_out"]
        print(f"  aim (issue 12): <= {AIM_PER_PACKET} instructions per packet (in and out) in synmill's own code, "
              f"cps: {cps:.0f}, {'met' if cps <= AIM_PER_PACKET else 'not met'}")
        for op in OPS:
            g = got[op]
            print(f"  {op}: {g['rx']} frames in, {g['tx']} out; synmill by source: " +
                  ", ".join(f"{p} {g['parts'].get('synmill', {}).get(p, 0):.0f}" for p in PARTS) +
                  "; dpdk: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(g["parts"].get("dpdk", {}).items(),
                                                                            key=lambda kv: -kv[1])) +
                  "; libc/other: " + ", ".join(f"{k} {v:.0f}" for k, v in g["parts"].get("libc", {}).items()))
    over = [op for op, b in budgets.items() if op in got and got[op]["synmill"] > b * (1 + TOLERANCE)]
    missing = [op for op in OPS if a.check and op not in budgets]
    for op in over:
        print(f"FAIL {op}: {got[op]['synmill']:.0f} instructions per packet in synmill, budget {budgets[op]:.0f} "
              f"+ {TOLERANCE:.0%}", file=sys.stderr)
    for op in missing:
        print(f"FAIL {op}: no worker budget in {a.check}", file=sys.stderr)
    return 1 if over or missing else 0


if __name__ == "__main__":
    sys.exit(main())
