#!/usr/bin/env bash
# Installs what synmill needs from Debian 12 packages. Idempotent and
# non-interactive: packages already present are not touched.
set -euo pipefail

# apt (apt-get, which this script calls) is on every Debian system, but a root
# built with only the required packages (a minimal bootstrap) lists it as Priority: important, not required, so
# check_deps.py wants it named here.
packages=(
  apt build-essential g++ meson ninja-build pkg-config cmake
  libdpdk-dev dpdk dpdk-dev libboost-dev catch2 libfmt-dev
  clang-14 libclang-rt-14-dev
  python3-scapy python3-matplotlib python3-prometheus-client nlohmann-json3-dev
  iproute2 iputils-ping curl wrk tshark procps
  valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
