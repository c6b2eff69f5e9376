#!/usr/bin/python3
"""synmill against dperf's server, with dperf's HTTP client, on one core each
over net_memif (issue 12's aim: connections per second per core at least
1.25x dperf's server on the same machine and link).

    bench/dperf_compare.py --dperf /path/to/dperf [--rate 150k,300k] [--duration 10]
                           [--build DIR] [--tag NAME] [--synmill-opt OPT ...]

For each offered rate it runs, back to back, the same dperf client config
(core 1, memif client) against (a) dperf's own server and (b) synmill's
`http:close` app (core 0, memif server, the -O3/LTO binary in --build), and
reports:
connections/s answered (the client's HTTP 2xx over its full-rate seconds) and
whether that was clean (no client retransmit, reset, socket or HTTP error),
the server's busy cycles per connection and per received packet over the
same seconds (synmill: its telemetry's busy_cycles; dperf: its once-a-second
cpuUsage, a whole percent of the worker's TSC cycles, taken at +0.5 per
second for the truncation, with the bounds printed, times the TSC rate
measured here), the share of a CPU each server process got over those
seconds (below 100%: it was preempted, and busy cycles include time others
ran), and per-core CPS = TSC Hz / busy cycles per connection, synmill /
dperf, against the aim (>= 1.25x): "met" or "not met", reported, never
asserted. Run it on a quiet machine: each side needs its own core.

Both servers do the same on the wire. dperf's server, configured without
`keepalive` (bench/harness/dperf.py), answers each request with the response
and its FIN in one segment; synmill's `http:close` does the same (one request
per connection, "Connection: close"), so each connection is 3 frames in and
3 out on either server; the table's "rx pkts/conn" shows it. With plain
`http` (`--synmill-app http`: HTTP/1.1 keep-alive, RFC 9112 §9.3) dperf's
client closes first and synmill receives a 4th frame per connection.

The dperf binary is the user's own (baidu/dperf; the project neither ships
nor builds it). It must run on a memif vdev: see bench/harness/dperf.py.
Without --dperf this prints that the comparison needs one and exits 0."""
import argparse
import atexit
import datetime
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
import dperf  # noqa: E402
import procs  # noqa: E402
import tsc  # noqa: E402

AIM = 1.25
SERVER_CPU, CLIENT_CPU = 0, 1
CLIENT_FAILURES = ("synRt", "finRt", "ackRt", "pushRt", "skErr", "httpErr", "rstRx", "tcpDrop", "dropTx")
SYNMILL_TROUBLE = ("retransmits", "rst_out", "shed_syn_overload", "shed_syn_tx_full", "drop_tx_full",
                   "overload_entered", "cookies_sent")


def cpu_jiffies(pid):
    """utime + stime of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_share(marks):
    """The CPU a busy-polling server got over the window, as a share of the
    wall time: below 1, it was preempted (busy cycles then include time other
    processes ran)."""
    (t0, j0), (t1, j1) = marks
    return (j1 - j0) / os.sysconf("SC_CLK_TCK") / (t1 - t0)


def parse_rate(text):
    t = text.strip().lower()
    mult = 1_000_000 if t.endswith("m") else 1_000 if t.endswith("k") else 1
    return int(float(t.rstrip("km")) * mult)


def run_client(args, rate, tag, memif, on_window, poll_server=None):
    """dperf's client against whatever serves the memif link. on_window(i):
    called the moment the client's block that opens (i=0) and closes (i=1)
    its full-rate window appears. Returns (client result, (t0, t1))."""
    prefix = f"dperf-bench-{procs.RUN_ID}-{tag}-client"
    conf = dperf.client_config(CLIENT_CPU, rate, args.duration)
    client = dperf.Dperf(args.dperf, f"dperf-client-{tag}", conf, memif, "client", prefix)
    first, last = dperf.SLOW_START - 1, dperf.SLOW_START - 1 + args.duration
    limit = 3 + dperf.SLOW_START + args.duration + dperf.DELAY_SEC + 60
    t0 = time.monotonic()
    marks = {}
    try:
        while client.poll() is None:
            if time.monotonic() - t0 > limit:
                raise RuntimeError(f"dperf client {tag} ran past {limit}s")
            for i, second in ((0, first), (1, last)):
                if i not in marks and client.follower.block(second) is not None:
                    marks[i] = client.follower.block(second)[0]
                    on_window(i)
            if poll_server is not None:
                poll_server()
            time.sleep(0.02)
    finally:
        client.stop()
    if len(marks) < 2:
        raise RuntimeError(f"dperf client {tag}: no full-rate window (rc {client.proc.returncode}):\n"
                           f"{procs.log_text(client.proc)[-3000:]}")
    window = [b for _, b in client.follower.blocks if first < b.get("seconds", -1) <= last]
    total = client.follower.totals() or {}
    res = {
        "offered_per_s": rate,
        "answered_per_s": sum(b.get("http2XX", 0) for b in window) / len(window),
        "opened_per_s": sum(b.get("skOpen", 0) for b in window) / len(window),
        "client_cpu_usage_pct": sum(b.get("cpuUsage", 0) for b in window) / len(window),
        "window_failures": {k: sum(b.get(k, 0) for b in window) for k in CLIENT_FAILURES},
        "total": {k: total.get(k) for k in ("skOpen", "skClose", "http2XX") + CLIENT_FAILURES},
        "log": client.proc.log_path,
    }
    res["clean"] = bool(total) and all(total.get(k, 0) == 0 for k in CLIENT_FAILURES) and \
        total.get("http2XX") == total.get("skOpen")
    return res, (marks[0], marks[1])


def case_dperf(args, rate, tag):
    memif = procs.Memif(tag)
    memif.cleanup()
    prefix = f"dperf-bench-{procs.RUN_ID}-{tag}-server"
    run_s = 3 + dperf.SLOW_START + args.duration + dperf.DELAY_SEC + 90
    server = dperf.Dperf(args.dperf, f"dperf-server-{tag}", dperf.server_config(SERVER_CPU, run_s), memif,
                         "server", prefix)
    try:
        server.wait_started(60)
        marks = {}

        def on_window(i):
            marks[i] = (time.monotonic(), cpu_jiffies(server.proc.pid))

        client, (ta, tb) = run_client(args, rate, tag, memif, on_window, poll_server=server.poll)
        time.sleep(1.2)  # the server's block for the window's last second
        server.poll()
    finally:
        rc = server.stop()
        memif.cleanup()
    # The server's blocks whose whole second lies inside the client's window.
    tol = 0.15
    blocks = [b for t, b in server.follower.blocks if t - 1 >= ta - tol and t <= tb + tol]
    if not blocks:
        raise RuntimeError(f"dperf server {tag}: no statistics inside the window")
    usage = sum(b.get("cpuUsage", 0) for b in blocks)
    conns = sum(b.get("skOpen", 0) for b in blocks)
    pkts = sum(b.get("pktRx", 0) for b in blocks)
    totals = server.follower.totals() or {}
    return {"server": "dperf", "client": client, "seconds": len(blocks), "usage_pct_sum": usage,
            "conns": conns, "rx_packets": pkts, "exit": rc, "cpu_share": cpu_share((marks[0], marks[1])),
            "trouble": {k: totals.get(k) for k in ("synRt", "finRt", "ackRt", "pushRt", "rstTx", "skErr",
                                                    "dropTx", "tcpDrop")},
            "log": server.proc.log_path}


def case_synmill(args, rate, tag):
    memif = procs.Memif(tag)
    memif.cleanup()
    sm = procs.Synmill(args.build, tag, memif, ["--listen", f"{dperf.HTTP_PORT}:{args.synmill_app}"] + args.synmill_opt)
    snaps = {}

    def on_window(i):
        snaps[i] = (time.monotonic(), sm.stats(), cpu_jiffies(sm.proc.pid))

    try:
        client, _ = run_client(args, rate, tag, memif, on_window)
        final = sm.stats()
    finally:
        rc = sm.stop()
        memif.cleanup()
    (t0, a, j0), (t1, b, j1) = snaps[0], snaps[1]

    def d(k):
        return int(b[k]) - int(a[k])

    return {"server": "synmill", "client": client, "wall_s": t1 - t0, "busy_cycles": d("busy_cycles"),
            "total_cycles": d("total_cycles"), "conns": d("passive_opens"), "rx_packets": d("rx_packets"),
            "cpu_share": cpu_share(((t0, j0), (t1, j1))), "exit": rc,
            "trouble": {k: int(final.get(k, 0)) for k in SYNMILL_TROUBLE}, "final_stats": final,
            "log": sm.proc.log_path}


def finish(dp, sm, hz):
    """Cycles per connection and per packet for both, with dperf's bounds."""
    sm["tsc_hz"] = hz
    sm["cycles_per_conn"] = sm["busy_cycles"] / sm["conns"] if sm["conns"] else None
    sm["cycles_per_packet"] = sm["busy_cycles"] / sm["rx_packets"] if sm["rx_packets"] else None
    n = dp["seconds"]
    for s in (dp, sm):
        s["rx_packets_per_conn"] = s["rx_packets"] / s["conns"] if s["conns"] else None
    for key, extra in (("cycles", 0.5), ("cycles_lo", 0.0), ("cycles_hi", 1.0)):
        dp[key] = (dp["usage_pct_sum"] + extra * n) / 100 * hz
    dp["cycles_per_conn"] = dp["cycles"] / dp["conns"] if dp["conns"] else None
    dp["cycles_per_conn_bounds"] = [dp["cycles_lo"] / dp["conns"], dp["cycles_hi"] / dp["conns"]] \
        if dp["conns"] else None
    dp["cycles_per_packet"] = dp["cycles"] / dp["rx_packets"] if dp["rx_packets"] else None


def verdict(dp, sm):
    """(per-core ratio synmill/dperf, text)."""
    if not (dp["cycles_per_conn"] and sm["cycles_per_conn"]):
        return None, "no figure"
    r = dp["cycles_per_conn"] / sm["cycles_per_conn"]
    if dp["client"]["clean"] and not sm["client"]["clean"]:
        return r, "not met (synmill not clean where dperf is)"
    return r, "met" if r >= AIM else "not met"


def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def failures(c):
    bad = {k: v for k, v in c["total"].items() if k in CLIENT_FAILURES and v}
    if c["total"].get("http2XX") != c["total"].get("skOpen"):
        bad["unanswered"] = (c["total"].get("skOpen") or 0) - (c["total"].get("http2XX") or 0)
    return "clean" if c["clean"] else "NOT clean: " + ", ".join(f"{k} {v:,}" for k, v in bad.items())


def report(rows):
    out = ["", "| offered/s | server | answered/s | client | busy cycles/conn | rx pkts/conn | cycles/rx pkt "
           "| per-core CPS | client cpu % | server got CPU |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for s in (row["dperf"], row["synmill"]):
            c = s["client"]
            cyc = fmt(s["cycles_per_conn"])
            if s["server"] == "dperf" and s.get("cycles_per_conn_bounds"):
                lo, hi = s["cycles_per_conn_bounds"]
                cyc += f" ({lo:,.0f}..{hi:,.0f})"
            percore = s["tsc_hz"] / s["cycles_per_conn"] if s.get("cycles_per_conn") else None
            out.append(f"| {row['rate']:,} | {s['server']} | {fmt(c['answered_per_s'])} | {failures(c)} | {cyc} "
                       f"| {fmt(s['rx_packets_per_conn'], 2)} | {fmt(s['cycles_per_packet'])} | {fmt(percore)} | {c['client_cpu_usage_pct']:.0f} "
                       f"| {s['cpu_share']:.0%} |")
    out.append("")
    for row in rows:
        for s in (row["dperf"], row["synmill"]):
            nonzero = ", ".join(f"{k} {v:,}" for k, v in s["trouble"].items() if v)
            text = nonzero or "0 of " + ", ".join(s["trouble"])
            out.append(f"at {row['rate']:,}/s, {s['server']}'s own counters: {text}"
                       + (f"; exit status {s['exit']}" if s["exit"] else ""))
    for row in rows:
        r = row["ratio_per_core"]
        ans = row["synmill"]["client"]["answered_per_s"] / row["dperf"]["client"]["answered_per_s"] \
            if row["dperf"]["client"]["answered_per_s"] else None
        out.append(f"at {row['rate']:,}/s offered: per-core CPS synmill/dperf = {fmt(r, 2)}x "
                   f"(answered synmill/dperf = {fmt(ans, 2)}x); aim >= {AIM}x: {row['verdict']}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dperf", default="", help="path of your dperf binary (see bench/harness/dperf.py)")
    ap.add_argument("--rate", default="150k,300k", help="offered connections/s, comma-separated (k, m suffixes)")
    ap.add_argument("--duration", type=int, default=10, help="seconds at the full rate, after dperf's 10 s ramp")
    ap.add_argument("--build", default=os.path.join(procs.REPO, "build"))
    ap.add_argument("--tag", default="dperf", help="part of every file prefix and memif socket name")
    ap.add_argument("--synmill-app", default="http:close",
                    help="synmill's application (default http:close, which closes after each response as "
                         "dperf's server does; http keeps the connection open and the client closes)")
    ap.add_argument("--synmill-opt", action="append", default=[], help="an extra synmill option (repeatable)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    if not args.dperf:
        print("bench/dperf_compare.py: the comparison needs a dperf binary: --dperf /path/to/dperf "
              "(your own build of baidu/dperf that runs on a memif vdev; see bench/harness/dperf.py). Nothing run.")
        return 0
    args.dperf = os.path.abspath(args.dperf)
    if not os.access(args.dperf, os.X_OK):
        sys.exit(f"bench/dperf_compare.py: {args.dperf} is not an executable")
    if os.geteuid() != 0:
        sys.exit("bench/dperf_compare.py: needs root (DPDK runtime dirs)")
    args.build = os.path.abspath(args.build)
    if not os.access(os.path.join(args.build, "apps", "synmill"), os.X_OK):
        sys.exit(f"bench/dperf_compare.py: no apps/synmill in {args.build}: build first (scripts/build.sh)")
    conf = os.path.join(procs.log_dir(), "check-client.conf")
    with open(conf, "w") as f:
        f.write(dperf.client_config(CLIENT_CPU, 1000, 1))
    check = subprocess.run([args.dperf, "-t", "-c", conf], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        sys.exit(f"bench/dperf_compare.py: {args.dperf} refuses the config (port net_memif0): "
                 f"{(check.stdout + check.stderr).strip()[-500:]}\n"
                 "It must take a vdev port name and DPERF_EAL_ARGS: see bench/harness/dperf.py")
    atexit.register(procs.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rates = [parse_rate(r) for r in args.rate.split(",") if r.strip()]
    hz = tsc.hz()
    version = subprocess.run([args.dperf, "-v"], capture_output=True, text=True, timeout=30).stdout.strip()
    result = {"timestamp": datetime.datetime.now().strftime("%Y%m%d-%H%M%S"), "dperf": args.dperf,
              "dperf_version": version, "duration_s": args.duration, "tsc_hz": hz, "rows": [],
              "loadavg_before": os.getloadavg(), "logs": procs.log_dir()}
    for rate in rates:
        print(f"dperf_compare: {rate:,}/s: dperf's server ...", flush=True)
        dp = case_dperf(args, rate, f"{args.tag}-{rate}-dp")
        print(f"dperf_compare: {rate:,}/s: synmill ...", flush=True)
        sm = case_synmill(args, rate, f"{args.tag}-{rate}-sm")
        # Without a TSC reading here: synmill's loop cycles over the window's
        # wall time (its loop never sleeps; a little low where it is preempted).
        rate_hz = hz or sm["total_cycles"] / sm["wall_s"]
        finish(dp, sm, rate_hz)
        dp["tsc_hz"] = rate_hz
        r, text = verdict(dp, sm)
        result["rows"].append({"rate": rate, "dperf": dp, "synmill": sm, "ratio_per_core": r, "verdict": text})
    result["loadavg_after"] = os.getloadavg()
    print(report(result["rows"]))
    print(f"TSC {fmt(hz and hz / 1e6, 1)} MHz; load average {result['loadavg_before'][0]:.1f} before, "
          f"{result['loadavg_after'][0]:.1f} after (2 busy pollers add 2)")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"dperf-{result['timestamp']}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"dperf_compare: wrote {path}; logs in {result['logs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
