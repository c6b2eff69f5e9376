#!/usr/bin/env bash
# Installs what is needed and runs the main job on a machine with no NIC: the
# bench suite (about a minute): synmill and synmill-gen as two DPDK processes
# over net_memif, every scenario (cookie SYN-ACKs/s, SYNs into the backlog,
# connections/s, passive and active closes/s, held connections, table
# occupancy), the references measured in the same run (dpdk-testpmd macswap
# ceiling, the Linux kernel in a namespace), the counters of both sides
# checked against each other; prints the table and writes
# bench/results/<timestamp>.{json,md,png}. Then the single-core TCP-core
# benchmark. `scripts/demo_tap.sh build` shows synmill serving kernel clients.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release >/dev/null
echo "== bench: synmill vs synmill-gen over net_memif, with references"
bench/run.py "$@"
echo
echo "== TCP core, one core, no DPDK"
SYNMILL_BENCH_N=${SYNMILL_BENCH_N:-100000} ./build/bench/core_bench
