#!/bin/sh
# Smoke test of the synmill and synmill-ctl command lines; needs no EAL, no
# hugepages and no port: every case fails or answers before the EAL starts.
#   app_cli_smoke.sh <synmill> <synmill-ctl>
set -u
synmill=$1
ctl=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE STDERR_LINES -- command...
expect() {
  code=$1 lines=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code: $(cat "$tmp/err")"
  if [ "$lines" != "-" ]; then
    n=$(wc -l <"$tmp/err")
    [ "$n" -eq "$lines" ] || fail "$* wrote $n lines to stderr, expected $lines: $(cat "$tmp/err")"
  fi
}

expect 0 0 -- "$synmill" --help
for opt in addr listen syncookies backlog accept-queue max-conns max-time-wait time-wait \
    fin-wait2-timeout close-wait-timeout syn-retries synack-retries fin-retries data-retries \
    rto-initial rto-min rto-max time-wait-rst send-buf rcv-wnd mss wscale no-timestamps no-sack \
    send-chunks port drivers-config port-opt eal no-telemetry status-interval grace config help; do
  grep -q -- "--$opt\b" "$tmp/out" || fail "--help does not list --$opt"
done
grep -q "dpdk-dumpcap --file-prefix" "$tmp/out" || fail "--help does not say how to capture"
grep -q -- "--addr ADDR/P.*IPv6 (2001:2::1/64)" "$tmp/out" || fail "--help does not say --addr takes IPv6"
expect 0 0 -- "$synmill" -l 0 -- --help

expect 2 1 -- "$synmill" -- --addr bad
grep -q "^synmill: --addr: bad address 'bad'" "$tmp/err" || fail "bad address message: $(cat "$tmp/err")"
expect 2 1 -- "$synmill" -- --addr ff02::1/64 --listen 80:http
grep -q "^synmill: --addr: bad address 'ff02::1/64': a multicast address" "$tmp/err" ||
  fail "IPv6 multicast address message: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "stdout not empty after a bad option"
expect 2 1 -- "$synmill" -- --addr 198.18.0.1/24 --listen 80:http --listen 80:echo
grep -q "port conflict" "$tmp/err" || fail "port conflict message: $(cat "$tmp/err")"
expect 2 1 -- "$synmill" -- --addr 198.18.0.1/24 --listen 80:gopher
expect 2 1 -- "$synmill" -- --addr 198.18.0.1/24 --listen 80:http --bogus
expect 2 1 -- "$synmill" -- --listen 80:http
expect 2 1 -- "$synmill" --addr 198.18.0.1/24
grep -q "after '--'" "$tmp/err" || fail "misplaced option message: $(cat "$tmp/err")"
printf 'addr = 198.18.0.1/24\nlisten = 80:http\nbacklgo = 3\n' >"$tmp/s.conf"
expect 2 1 -- "$synmill" -- --config "$tmp/s.conf"
grep -q "s.conf:3: unknown key 'backlgo'" "$tmp/err" || fail "config key message: $(cat "$tmp/err")"
expect 2 1 -- "$synmill" -- --addr 198.18.0.1/24 --listen 80:http --drivers-config "$tmp/none"

expect 0 0 -- "$ctl" --help
expect 2 1 -- "$ctl" frobnicate
expect 1 1 -- "$ctl" --file-prefix synmill-smoke-absent-$$ stats
grep -q "no synmill with --file-prefix synmill-smoke-absent-$$ is running" "$tmp/err" ||
  fail "ctl absent message: $(cat "$tmp/err")"

[ "$fails" -eq 0 ] && echo "all synmill command-line checks passed"
exit "$fails"
