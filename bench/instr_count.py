#!/usr/bin/python3
"""Instructions per operation of bench/core_bench, counted by callgrind.

Each operation (core_bench --op NAME) runs once with a small N under
`valgrind --tool=callgrind`; only the instructions inside core_bench's
measured_loop() are collected (and, in the connection scenario, not those of
the scripted peer building its frames, peer_frame_into()). Instruction counts
do not depend on timing or load: the same binary gives the same figures.

  bench/instr_count.py CORE_BENCH              print instructions per operation
  bench/instr_count.py CORE_BENCH --check FILE fail when an operation exceeds
                                                its budget in FILE by > 10 %
  --json                                        one JSON object instead of a table

The budgets file (bench/instr_budgets.json) gives, per operation, the
instructions per operation the code reached; the suite's instr-budget test
runs --check so a gain cannot silently regress.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

OPS = {
    "reference": "parse SYN + build SYN-ACK (wire only)",
    "syn_cookie": "SYN -> cookie SYN-ACK",
    "syn_backlog": "SYN -> SYN_RCVD + SYN-ACK",
    "connection": "full connection, synmill's side (4 in, 3 out)",
    "data": "in-order data segment, header prediction",
    "data_ladder": "in-order data segment, full RFC 9293 ladder",
}
TOLERANCE = 0.10


def count(core_bench, op, n):
    with tempfile.TemporaryDirectory(prefix="synmill-instr-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = [
            "valgrind", "--tool=callgrind", "--collect-atstart=no",
            "--toggle-collect=*measured_loop*", "--toggle-collect=*peer_frame_into*",
            f"--callgrind-out-file={out}", core_bench, "--op", op,
        ]
        env = dict(os.environ, SYNMILL_BENCH_N=str(n))
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if r.returncode != 0:
            sys.exit(f"instr_count: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        with open(out, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
        if not m:
            sys.exit(f"instr_count: no totals in {out}")
        return int(m.group(1)) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("core_bench")
    ap.add_argument("--n", type=int, default=2000, help="operations per run (default 2000)")
    ap.add_argument("--check", metavar="BUDGETS", help="JSON file of instructions per operation")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    got = {op: count(a.core_bench, op, a.n) for op in OPS}
    budgets = {}
    if a.check:
        with open(a.check, encoding="utf-8") as f:
            budgets = {k: v for k, v in json.load(f).items() if k in OPS}
    if a.json:
        print(json.dumps({"n": a.n, "instructions_per_op": got, "budgets": budgets}))
    else:
        print(f"instructions per operation (callgrind, N={a.n})")
        for op, what in OPS.items():
            b = budgets.get(op)
            extra = f"  budget {b:.0f} (+{TOLERANCE:.0%} allowed)" if b else ""
            print(f"  {what:<48} {got[op]:8.0f}{extra}")
    over = [op for op, b in budgets.items() if got[op] > b * (1 + TOLERANCE)]
    missing = [op for op in OPS if a.check and op not in budgets]
    for op in over:
        print(f"FAIL {op}: {got[op]:.0f} instructions per op, budget {budgets[op]:.0f} + {TOLERANCE:.0%}",
              file=sys.stderr)
    for op in missing:
        print(f"FAIL {op}: no budget in {a.check}", file=sys.stderr)
    return 1 if over or missing else 0


if __name__ == "__main__":
    sys.exit(main())
