#!/usr/bin/env bash
# The examples (examples/) as a user builds them: `meson install` of BUILD_DIR
# into a staging DESTDIR, then examples/Makefile compiles them outside the
# meson project, finding libsynmill only through the staged synmill.pc (its
# prefix pointed at the staging directory); then the integration tests run
# them against kernel peers (test/integration/test_examples.py).
#
#   test/examples/run.sh [BUILD_DIR] [-k SUBSTRING ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
stage=$(mktemp -d "${TMPDIR:-/tmp}/synmill-examples-XXXXXX")
trap 'rm -rf "$stage"' EXIT

echo "-- meson install -C $build (DESTDIR=$stage)"
DESTDIR="$stage/root" meson install -C "$build" --no-rebuild --quiet
pc=$(find "$stage/root" -name synmill.pc -print -quit)
[ -n "$pc" ] || { echo "no synmill.pc in the install"; exit 1; }
for f in libsynmill.a libsynmill.so; do
  find "$stage/root" -name "$f" | grep -q . || { echo "no $f in the install"; exit 1; }
done
# The staged .pc names the final prefix; point it at the staging copy.
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$stage/pkgconfig"
sed "s|^prefix=.*|prefix=$stage/root$prefix|" "$pc" > "$stage/pkgconfig/synmill.pc"
echo "-- synmill.pc: $(PKG_CONFIG_PATH=$stage/pkgconfig pkg-config --modversion synmill)" \
     "cflags: $(PKG_CONFIG_PATH=$stage/pkgconfig pkg-config --cflags synmill)"

echo "-- make -C examples (outside the meson project)"
make -s -C examples PKG_CONFIG_PATH="$stage/pkgconfig" OUT="$stage/bin" -j2
# Nothing from the source tree on the compile lines: the include paths are the stage's and the system's.
make -s -C examples --dry-run -B PKG_CONFIG_PATH="$stage/pkgconfig" OUT="$stage/bin" \
  | grep -E -- "-I$PWD/(lib|include)" && { echo "examples compiled against the source tree"; exit 1; }

echo "-- the examples against kernel peers"
SYNMILL_EXAMPLES_BIN="$stage/bin" /usr/bin/python3 test/integration/run_tests.py --build "$build" \
  -k test_examples "$@"
