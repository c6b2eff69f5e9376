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
  --prf siphash                                 the ISN / cookie PRF forced to the
                                                SipHash-2-4 fallback (SYNMILL_BENCH_PRF)

The ISNs and SYN cookies use AES-128 where the CPU has AES-NI and SipHash-2-4
where it has not (lib/tcp/keyed_prf.hpp). The budgets are for the AES path;
the file's "siphash" object overrides them for the fallback, which --check
measures and applies by itself on a CPU without AES-NI.

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


def cpu_has_aes():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return any(l.startswith("flags") and "aes" in l.split(":", 1)[1].split() for l in f)
    except OSError:
        return False


def load_budgets(path, ops, prf, section=None):
    """The budgets of `ops` in the JSON file `path` (its object `section`, or
    the top level), with its "siphash" object's overrides for that PRF."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if section:
        data = data.get(section, {})
    budgets = {k: v for k, v in data.items() if k in ops}
    if prf == "siphash":
        budgets.update({k: v for k, v in data.get("siphash", {}).items() if k in ops})
    return budgets


def count(core_bench, op, n, prf):
    with tempfile.TemporaryDirectory(prefix="synmill-instr-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = [
            "valgrind", "--tool=callgrind", "--collect-atstart=no",
            "--toggle-collect=*measured_loop*", "--toggle-collect=*peer_frame_into*",
            f"--callgrind-out-file={out}", core_bench, "--op", op,
        ]
        env = dict(os.environ, SYNMILL_BENCH_N=str(n))
        if prf == "siphash":
            env["SYNMILL_BENCH_PRF"] = "siphash"
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
    ap.add_argument("--prf", choices=["auto", "siphash"], default="auto")
    a = ap.parse_args()

    prf = a.prf if cpu_has_aes() else "siphash"  # without AES-NI the stack uses SipHash anyway
    got = {op: count(a.core_bench, op, a.n, prf) for op in OPS}
    budgets = load_budgets(a.check, OPS, prf) if a.check else {}
    if a.json:
        print(json.dumps({"n": a.n, "prf": prf, "instructions_per_op": got, "budgets": budgets}))
    else:
        print(f"instructions per operation (callgrind, N={a.n}, ISN/cookie PRF: "
              f"{'SipHash-2-4' if prf == 'siphash' else 'AES-128'})")
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
