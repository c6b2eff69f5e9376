#!/usr/bin/env bash
# Conformance over real packets: synmill on net_tap, scapy as the peer inside a
# network namespace created here (the kernel side of the tap has no address).
#
#   test/conformance/run.sh [BUILD_DIR] [-k SUBSTRING ...]
#
# Needs root and Debian's python3 (scapy). One line per case, a summary line;
# exit 1 if any case failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 test/conformance/conformance.py --build "$build" "$@"
