#!/usr/bin/env bash
# Conformance over real packets: synmill on net_tap, scapy as the peer inside a
# network namespace created here (the kernel side of the tap has no address).
#
#   test/conformance/run.sh [BUILD_DIR] [-k SUBSTRING ...]
#   test/conformance/run.sh [BUILD_DIR] --family 6 [-k SUBSTRING ...]
#
# --family 6: the table over IPv6 (a dual-stack synmill, 2001:2::2/64, and an
# IPv6 peer, 2001:2::1, that speaks Neighbor Discovery), the differential suite
# against Linux over IPv6 too (--no-diff skips it).
# Needs root and Debian's python3 (scapy). One line per case, a summary line;
# exit 1 if any case failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 test/conformance/conformance.py --build "$build" "$@"
