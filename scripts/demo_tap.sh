#!/usr/bin/env bash
# synmill on a tap in a network namespace, the Linux kernel as its client:
# 20 curl requests, an echo round trip, then the per-state counts (synmill-ctl)
# and a graceful SIGTERM. Needs root; no NIC, no hugepages.
# Usage: scripts/demo_tap.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ns=synmill-demo-$$
tap=smdemo$$
tap=${tap:0:15}
prefix=synmill-demo-$$
log=$(mktemp)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

ip netns add "$ns"
"$build/apps/synmill" -l 0 --no-pci --no-huge -m 1024 --file-prefix="$prefix" \
  --vdev="net_tap0,iface=$tap" -- --addr 198.18.0.2/24 --listen 80:http,7:echo \
  --time-wait 2 --status-interval 0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 60); do grep -q "synmill: ready" "$log" && break; sleep 0.5; done
grep -q "synmill: ready" "$log" || { cat "$log"; echo "synmill did not start" >&2; exit 1; }
sed -n '1,/synmill: ready/p' "$log"
ip link set "$tap" netns "$ns"
ip netns exec "$ns" ip addr add 198.18.0.1/24 dev "$tap"
ip netns exec "$ns" ip link set "$tap" up
ip netns exec "$ns" ip link set lo up

echo "== 20 curl requests from the kernel in namespace $ns"
ok=0
for _ in $(seq 20); do
  body=$(ip netns exec "$ns" curl -s --max-time 5 http://198.18.0.2/) && [ "$body" = "Hello from synmill" ] && ok=$((ok + 1))
done
echo "$ok/20 answered with the expected body"
echo "== echo round trip"
ip netns exec "$ns" /usr/bin/python3 -c '
import socket
s = socket.create_connection(("198.18.0.2", 7), timeout=5)
s.sendall(b"synmill echo test"); print("echoed:", s.recv(100).decode()); s.close()'
echo "== synmill-ctl states (the client-closed connections; server-closed ones in TIME_WAIT)"
"$build/apps/synmill-ctl" --file-prefix "$prefix" states
echo "== SIGTERM"
kill -TERM "$pid"; wait "$pid" || true; pid=""
sed -n '/synmill: summary/,$p' "$log"
[ "$ok" -eq 20 ]
