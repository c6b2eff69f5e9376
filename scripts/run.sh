#!/usr/bin/env bash
# Installs what is needed and runs the main job on a machine with no NIC:
# synmill on a tap in a network namespace serving kernel clients (curl, a
# Python echo client) with its per-state counts, then the core benchmark
# (SYN -> cookie SYN-ACK, full connections per core) and a simulation over a
# lossy in-memory link.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release >/dev/null
echo "== synmill on a tap, the Linux kernel as client"
scripts/demo_tap.sh build
echo
echo "== core benchmark"
./build/bench/core_bench
echo
echo "== simulation: client and server stacks over a 1% lossy, reordering link"
./build/test/sim/sim_tests "sim: 1% loss*" -s 2>&1 | grep -A3 'loss1:' | head -4
