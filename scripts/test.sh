#!/usr/bin/env bash
# Installs what is needed and runs every test: unit, simulation, data-plane,
# CLI, integration (synmill on a tap with kernel clients; needs root), the
# conformance suite (scapy as the peer), 10 million connections of churn and a
# smoke of every bench scenario (synmill-gen against synmill over memif), the
# unit and simulation tests again under ASan + UBSan, then 60 s of each
# libFuzzer target.
#
#   scripts/test.sh           every test (what .ci/run calls; about 35 min here)
#   scripts/test.sh --quick   the quick tier for iteration: build, then the unit,
#                             simulation (without sim-long), data-plane, CLI and
#                             instruction-budget suites (a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
scripts/setup.sh

echo "== every program the scripts, tests and bench call comes from a package setup.sh installs"
scripts/check_deps.py --self-test
scripts/check_deps.py

echo "== build (release)"
scripts/build.sh release >/dev/null
if [ "$quick" = 1 ]; then
  echo "== quick tier: unit, sim, dp, ctl, app-cli, instruction budgets"
  meson test -C build --print-errorlogs --num-processes 1 --no-suite sim-long
  echo "== quick tier passed (the full suite: scripts/test.sh)"
  exit 0
fi
echo "== unit, simulation and data-plane tests"
# Every suite, 'sim-long' included: 10,000 connections x 1 MiB both ways at
# 1/5/20 % loss (about 3.5 CPU-minutes; SYNMILL_SIM_SCALE scales it).
meson test -C build --print-errorlogs --num-processes 1

echo "== integration: synmill on net_tap, the Linux kernel as peer in network namespaces"
test/integration/run.sh build

echo "== examples: libsynmill installed (DESTDIR), examples/ built against it by a plain Makefile, run against kernel peers"
test/examples/run.sh build

echo "== conformance: scapy as synmill's peer on the tap (RFC 9293 state x segment table, hostile input, stuck peers), and differentially against Linux"
test/conformance/run.sh build
echo "== conformance over IPv6: the same table and differential suite with a dual-stack synmill (2001:2::2/64), an IPv6 scapy peer (ND in place of ARP) and Linux over IPv6"
test/conformance/run.sh build --family 6

echo "== churn: 10 million connections through synmill-gen over net_memif; no leak"
test/endurance/churn.py

echo "== overload over net_memif: port reuse over an orphan, 3x capacity then half, SIGSTOP stalls, 20 link flaps;"
echo "   everything back to idle (zero-window squatters: test/integration/test_squatters.py, above)"
# --cpu-share 0.1: synmill held to 10 % of a core (a CPU cgroup) in the capacity and 3x runs, so
# that synmill, not the generator that shares this machine, is what runs out.
test/overload/overload.py --cpu-share 0.1

echo "== bench smoke: every scenario for 1 s over net_memif; both sides' counters must agree"
bench/run.py --smoke --out "${TMPDIR:-/tmp}/synmill-bench-smoke"

echo "== sanitizer build (ASan + UBSan): unit and simulation tests"
scripts/build.sh asan >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SYNMILL_SIM_SCALE=${SYNMILL_SIM_SCALE_ASAN:-0.1} meson test -C build-asan --print-errorlogs --num-processes 1 unit sim

echo "== ThreadSanitizer build: data-plane tests (a worker churning connections while another thread reads its"
echo "   snapshots and tables as telemetry does; only DPDK-internal reports are suppressed: test/dp/tsan.supp)"
scripts/build.sh tsan >/dev/null
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/test/dp/tsan.supp" \
  build-tsan/test/dp/dp_tests '[dp],[gen]'

echo "== fuzzing: libFuzzer targets, 60 s each (clang, ASan + UBSan)"
scripts/fuzz.sh "${SYNMILL_FUZZ_SECONDS:-60}"

echo "== all tests passed"
