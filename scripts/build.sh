#!/usr/bin/env bash
# Configures and builds synmill. Usage: scripts/build.sh [release|asan] (default release).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) dir=build; opts=(--buildtype=debugoptimized) ;;
  asan) dir=build-asan; opts=(--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Ddpdk=disabled) ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "$dir"
