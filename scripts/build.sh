#!/usr/bin/env bash
# Configures and builds synmill. Usage: scripts/build.sh [release|asan|tsan] (default release).
# tsan: ThreadSanitizer, the data-plane tests only (test/dp/dp_tests).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
targets=()
case "$kind" in
  release) dir=build; opts=(--buildtype=debugoptimized) ;;
  asan) dir=build-asan; opts=(--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Ddpdk=disabled) ;;
  tsan) dir=build-tsan; opts=(--buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false); targets=(test/dp/dp_tests) ;;
  *) echo "usage: $0 [release|asan|tsan]" >&2; exit 2 ;;
esac
log=$(mktemp)
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${opts[@]}" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
fi
# Two compile jobs: a 2-core machine with 24 GiB builds the Catch2 tests without swapping.
ninja -C "$dir" -j 2 "${targets[@]}" >"$log" 2>&1 || { grep -E -A20 'FAILED|error' "$log" | head -80 >&2; rm -f "$log"; exit 1; }
rm -f "$log"
echo "$dir"
