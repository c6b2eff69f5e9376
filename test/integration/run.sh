#!/usr/bin/env bash
# The integration suite: the real synmill on net_tap, the Linux kernel's TCP
# (curl, Python sockets) as its peer inside network namespaces created here.
#
#   test/integration/run.sh [BUILD_DIR] [-k SUBSTRING ...]
#
# BUILD_DIR defaults to "build" (relative to the repository root) and must
# hold apps/synmill. Needs root. Prints one PASS/FAIL/SKIP line per test and a
# summary; exits non-zero if any test failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 test/integration/run_tests.py --build "$build" "$@"
