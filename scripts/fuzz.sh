#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build dir build-fuzz) and
# runs each for SECONDS (default 60), one after the other, one process each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      # targets: fuzz_wire fuzz_stack
#
# Each target starts from its seed corpus (test/fuzz/corpus/<target>, in git)
# and keeps what it learns in build-fuzz/corpus/<target> (not in git), so a
# later run goes on from there. A crash, leak, sanitizer report or invariant
# failure stops the run; the input is written to build-fuzz/artifacts/ and
# the script exits 1. Reproduce with: build-fuzz/test/fuzz/<target> <file>.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_wire fuzz_stack)
cxx=${FUZZ_CXX:-clang++-14}
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
  CXX=$cxx meson setup "$dir" -Dfuzz=true -Ddpdk=disabled -Dtests=disabled --buildtype=debugoptimized >/dev/null
fi
if ! ninja -C "$dir" -j "${FUZZ_BUILD_JOBS:-1}" >"$dir/build.log" 2>&1; then
  echo "FAIL build of the fuzz targets (clang):"
  grep -E "error|FAILED" -A3 "$dir/build.log" | head -20
  exit 1
fi
mkdir -p "$dir/artifacts"
rc=0
for t in "${targets[@]}"; do
  work="$dir/corpus/$t"
  mkdir -p "$work"
  log="$dir/$t.log"
  echo "== $t: ${secs}s (seeds test/fuzz/corpus/$t, corpus $work, log $log)"
  if ! "$dir/test/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
      -timeout=10 -artifact_prefix="$dir/artifacts/$t-" "$work" "test/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "FAIL $t: see $log; reproducer:" $(ls -t "$dir/artifacts/$t-"* 2>/dev/null | head -1)
    grep -E "ERROR|invariant failed|SUMMARY" "$log" | head -5
    rc=1
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -E '^#[0-9]+.*(cov|DONE)' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  echo "PASS $t: $execs execs, $rate execs/s, $cov, corpus $(ls "$work" | wc -l) inputs"
done
exit $rc
