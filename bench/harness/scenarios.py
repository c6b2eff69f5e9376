"""The bench scenarios. Each runs synmill and synmill-gen over net_memif,
reads both sides' counters, checks they agree, and returns one row:

    {"scenario", "metric", "unit", "value", "checks": [[what, ok, detail]], ...}

A check compares two independent counts (the generator's and synmill's);
in-flight packets at the end are allowed for with a small tolerance where a
link can hold some."""
import threading
import time

import procs

SRC_RANGE = "198.18.1.1-198.18.1.254"  # syn floods: many sources, no repeats
# IPv6 sources (2001:2::/48): 63 addresses, with the generator's --addr the
# 64 local IPv6 addresses a connecting synmill-gen can hold.
SRC_RANGE6 = "2001:2::1:1-2001:2::1:3f"


def agree(a, b, rel=0.0, slack=0):
    return abs(a - b) <= max(slack, rel * max(a, b))


def check(row, what, ok, detail):
    row["checks"].append([what, bool(ok), detail])


def run_pair(ctx, tag, synmill_opts, gen_args, settle=False, ipv6=False):
    """synmill + gen on one memif link; returns (gen result, synmill stats,
    synmill states, extra) with synmill's counters read after the gen ended
    (and, with settle, after synmill's connections closed). ipv6: synmill
    dual-stack, the generator on procs.GEN_ADDR6 (gen_args name an IPv6 --dst)."""
    memif = procs.Memif(tag)
    memif.cleanup()
    sm = procs.Synmill(ctx.build, tag, memif, synmill_opts, ipv6=ipv6)
    extra = {}
    try:
        extra["rss_kib_before"] = sm.anon_kib()
        gen, _, _ = procs.run_gen(ctx.build, tag, memif.vdev("client"), gen_args, timeout=ctx.duration * 3 + 60,
                                  addr=procs.GEN_ADDR6 if ipv6 else None)
        if settle:
            wait_states(sm, lambda s: open_count(s) == 0, 5)
        stats, states = sm.stats(), sm.states()
        extra["rss_kib_after"] = sm.anon_kib()
    finally:
        rc = sm.stop()
        memif.cleanup()
    if rc != 0:
        raise RuntimeError(f"synmill {tag} exited {rc}")
    return gen, stats, states, extra


def wait_states(sm, pred, timeout):
    deadline = time.monotonic() + timeout
    states = sm.states()
    while not pred(states) and time.monotonic() < deadline:
        time.sleep(0.1)
        states = sm.states()
    return states


def open_count(states):
    return sum(int(v) for k, v in states.items() if k not in ("LISTEN", "TIME_WAIT", "total"))


def shed_syns(st):
    """SYNs synmill dropped unparsed under overload (lib/dp/load_shed.hpp)."""
    return int(st.get("shed_syn_overload", 0)) + int(st.get("shed_syn_tx_full", 0))


def syns_seen(st):
    return int(st["syn_in"]) + shed_syns(st)


def base_row(name, metric, unit, value, gen, stats):
    return {"scenario": name, "metric": metric, "unit": unit, "value": value, "checks": [],
            "busy_cycles_per_packet": int(stats.get("busy_cycles_per_packet", 0)),
            "gen_latency_us": gen.get("latency_us"), "gen": gen["counters"]}


def syn_cookies(ctx):
    d = ctx.duration
    gen, st, _, _ = run_pair(ctx, "syn-cookies", ["--listen", "80:http", "--syncookies", "always"],
                             ["--mode", "syn", "--dst", f"{procs.SERVER_IP}:80", "--src-addrs", SRC_RANGE,
                              "--duration", str(d)])
    c = gen["counters"]
    row = base_row("syn", "cookie SYN-ACKs/s", "1/s", gen["rates"]["synack_per_s"], gen, st)
    row["synmill_synack_out_per_s"] = int(st["synack_out"]) / d
    check(row, "SYNs the gen sent = SYNs synmill received (handled + shed)", agree(c["syn_sent"], syns_seen(st), 0.005, 4),
          f'{c["syn_sent"]} vs {st["syn_in"]} + {shed_syns(st)} shed')
    on_wire = int(st["synack_out"]) - int(st["drop_tx_full"])
    check(row, "SYN-ACKs the gen counted = SYN-ACKs synmill put on the link",
          agree(c["synack_received"], on_wire, 0.001, 2), f'{c["synack_received"]} vs {on_wire}')
    check(row, "every SYN-ACK was a cookie", int(st["cookies_sent"]) == int(st["synack_out"]),
          f'{st["cookies_sent"]} cookies of {st["synack_out"]}')
    check(row, "no connection state kept", int(st.get("established", 0)) == 0, "")
    lat = gen["latency_us"]["synack"]
    check(row, "a SYN -> SYN-ACK latency sample per SYN-ACK, p50 <= p99 <= p99.9",
          lat["count"] == c["synack_received"] and lat["p50"] <= lat["p99"] <= lat["p999"], str(lat))
    return row


def syn_backlog(ctx):
    d = ctx.duration
    backlog = 1024
    gen, st, states, extra = run_pair(
        ctx, "syn-backlog", ["--listen", "80:http", "--syncookies", "off", "--backlog", str(backlog)],
        ["--mode", "syn", "--dst", f"{procs.SERVER_IP}:80", "--src-addrs", SRC_RANGE, "--duration", str(d)])
    c = gen["counters"]
    row = base_row("syn-backlog", "SYNs/s into the backlog", "1/s", int(st["syn_in"]) / d, gen, st)
    held = int(states.get("SYN_RCVD", 0))
    row["syn_rcvd_held"] = held
    row["memory_held_kib"] = extra["rss_kib_after"] - extra["rss_kib_before"]
    check(row, "SYNs the gen sent = SYNs synmill received (handled + shed)", agree(c["syn_sent"], syns_seen(st), 0.005, 4),
          f'{c["syn_sent"]} vs {st["syn_in"]} + {shed_syns(st)} shed')
    check(row, "SYN_RCVD held <= backlog", 0 < held <= backlog, f"{held} of {backlog}")
    check(row, "SYNs = SYN_RCVD entries + backlog_full drops",
          int(st["syn_in"]) == held + int(st["drop_backlog_full"]),
          f'{st["syn_in"]} = {held} + {st["drop_backlog_full"]}')
    check(row, "no cookies with cookies off", int(st["cookies_sent"]) == 0, "")
    return row


def connect_pair(ctx, tag, listen, gen_args, synmill_opts=(), ipv6=False):
    if "--src-addrs" not in gen_args:  # many sources: no tuple waits out the generator's TIME_WAIT
        gen_args = gen_args + ["--src-addrs", SRC_RANGE6 if ipv6 else SRC_RANGE]
    return run_pair(ctx, tag, ["--listen", listen] + list(synmill_opts),
                    ["--mode", "connect", "--duration", str(ctx.duration)] + gen_args, settle=True, ipv6=ipv6)


def cps(ctx):
    """Connections/s over IPv4 and over IPv6 (sources from SRC_RANGE6 to
    SERVER_IP6, synmill dual-stack), same duration and options, in this run:
    v4 then v6 (smoke), or v4, v6, v6, v4 (ABBA: a drift of the machine's
    load during the run weighs on both alike), each family's value the mean
    of its runs. The IPv6 row carries v6/v4."""
    opts = ["--request", "64", "--response", "64", "--close", "client", "--concurrency", "256"]
    order = ["v4", "v6"] if getattr(ctx, "smoke", False) else ["v4", "v6", "v6", "v4"]
    rows = {"v4": [], "v6": []}
    for i, fam in enumerate(order):
        if fam == "v4":
            gen, st, states, _ = connect_pair(ctx, f"cps-{i}", "7:echo", ["--dst", f"{procs.SERVER_IP}:7"] + opts)
            rows["v4"].append(cps_row("cps", gen, st, states))
            continue
        gen, st, states, _ = connect_pair(ctx, f"cps-v6-{i}", "7:echo", ["--dst", f"[{procs.SERVER_IP6}]:7"] + opts,
                                          ipv6=True)
        row = cps_row("cps-v6", gen, st, states)
        check(row, "the generator ran over IPv6", gen.get("family") == "ipv6" and gen.get("dst", "").startswith("["),
              f'{gen.get("family")} to {gen.get("dst")}')
        check(row, "synmill's IPv6 path took them (no segment to an unknown local address, no land)",
              int(st.get("drop_not_local6", 0)) == 0 and int(st.get("drop_land", 0)) == 0,
              f'not_local6 {st.get("drop_not_local6")} land {st.get("drop_land")}')
        rows["v6"].append(row)
    row4, row6 = (merge_runs(rows[f]) for f in ("v4", "v6"))
    row6["ipv4_value"] = row4["value"]
    row6["v6_over_v4"] = round(row6["value"] / row4["value"], 3) if row4["value"] else None
    return [row4, row6]


def merge_runs(rows):
    """One row for several runs of a scenario: the mean value, every run's
    value and every run's checks."""
    row = dict(rows[0])
    row["value"] = sum(r["value"] for r in rows) / len(rows)
    row["runs"] = [round(r["value"], 1) for r in rows]
    row["checks"] = [c for r in rows for c in r["checks"]]
    return row


def cps_row(name, gen, st, states):
    c = gen["counters"]
    family = "IPv6" if name.endswith("v6") else "IPv4"
    row = base_row(name, f"connections/s ({family}: open, 64 B request/response, client closes)", "1/s",
                   gen["rates"]["established_per_s"], gen, st)
    check(row, "established: gen = synmill", c["established"] == int(st["established"]),
          f'{c["established"]} vs {st["established"]}')
    check(row, "closes: gen client-first = synmill normal closes", c["closes_client"] == int(st["closed_normal"]),
          f'{c["closes_client"]} vs {st["closed_normal"]}')
    check(row, "request bytes: gen sent = synmill received", c["bytes_sent"] == int(st["rx_bytes"]),
          f'{c["bytes_sent"]} vs {st["rx_bytes"]}')
    check(row, "response bytes: synmill sent = gen received", c["bytes_received"] == int(st["tx_bytes"]),
          f'{c["bytes_received"]} vs {st["tx_bytes"]}')
    check(row, "no failures", gen["failures"] == 0 or gen["failures"] <= c["established"] * 0.001,
          f'{gen["failures"]} failures')
    check(row, "synmill holds nothing afterwards", open_count(states) == 0, str(states))
    lat = gen["latency_us"]["connect"]
    check(row, "a connect latency sample per connection, p50 <= p99 <= p99.9",
          lat["count"] == c["established"] and lat["p50"] <= lat["p99"] <= lat["p999"], str(lat))
    return row


def close_passive(ctx):
    gen, st, states, _ = connect_pair(ctx, "close-passive", "9:discard",
                                      ["--dst", f"{procs.SERVER_IP}:9", "--close", "client", "--concurrency", "256"])
    c = gen["counters"]
    row = base_row("close-passive", "closes/s (synmill CLOSE_WAIT -> LAST_ACK)", "1/s",
                   gen["rates"]["closes_per_s"], gen, st)
    check(row, "closes: gen client-first = synmill normal closes", c["closes_client"] == int(st["closed_normal"]),
          f'{c["closes_client"]} vs {st["closed_normal"]}')
    check(row, "synmill entered no TIME_WAIT (passive close)", int(st["time_wait_entered"]) == 0,
          f'{st["time_wait_entered"]}')
    check(row, "synmill holds nothing afterwards", open_count(states) == 0, str(states))
    return row


def close_active(ctx):
    gen, st, states, _ = connect_pair(ctx, "close-active", "8000:send:64",
                                      ["--dst", f"{procs.SERVER_IP}:8000", "--response", "64", "--close",
                                       "server", "--concurrency", "256", "--src-addrs", SRC_RANGE],
                                      synmill_opts=["--time-wait", "60", "--max-time-wait", "4194304"])
    c = gen["counters"]
    row = base_row("close-active", "closes/s (synmill FIN_WAIT -> TIME_WAIT)", "1/s",
                   gen["rates"]["closes_per_s"], gen, st)
    tw = int(states.get("TIME_WAIT", 0))
    row["time_wait_entries"] = tw
    check(row, "closes: gen server-first = synmill TIME_WAIT entered",
          c["closes_server"] == int(st["time_wait_entered"]), f'{c["closes_server"]} vs {st["time_wait_entered"]}')
    live = int(st["time_wait_entered"]) - int(st["time_wait_reused"])
    check(row, "TIME_WAIT entries = entered - reused by new SYNs (none expire within 60 s)", tw == live,
          f'{tw} vs {st["time_wait_entered"]} - {st["time_wait_reused"]}')
    check(row, "response bytes: synmill sent = gen received", c["bytes_received"] == int(st["tx_bytes"]),
          f'{c["bytes_received"]} vs {st["tx_bytes"]}')
    return row


def hold_and_cps(ctx, n, tag):
    """CPS while synmill holds n idle established connections; memory per held one."""
    slots = n + 65536
    memif_opts = ["--max-conns", str(slots), "--time-wait", "1"]
    # The tables are reserved at start-up and backed as slots are used (lazy
    # since issue 12); a synmill with a 1024-slot table is weighed first, so
    # whatever a slot still costs at start-up shows in bytes_per_slot.
    base_memif = procs.Memif(tag + "-base")
    base_memif.cleanup()
    base = procs.Synmill(ctx.build, tag + "-base", base_memif, ["--listen", "7:echo", "--max-conns", "1024",
                                                                "--time-wait", "1"])
    base_kib = base.anon_kib()
    base.stop()
    base_memif.cleanup()
    hold_s = 2.0 + n / 60000.0  # opening time: a few tens of thousands per second on a loaded 2-core machine
    # The generator waits this long between the held set and the load, so
    # synmill is weighed holding only the held connections (no TIME_WAIT or
    # in-flight connections of the load yet).
    pause_s = 2.0
    memif = procs.Memif(tag)
    memif.cleanup()
    sm = procs.Synmill(ctx.build, tag, memif, ["--listen", "7:echo"] + memif_opts)
    extra = {}
    try:
        rss0 = sm.anon_kib()

        def probe():
            # Beside the gen run: wait for the held set, then weigh synmill.
            states = wait_states(sm, lambda s: int(s.get("ESTABLISHED", 0)) >= n, hold_s * 4 + 30)
            extra["rss_kib_held"] = sm.anon_kib()
            extra["huge_kib_held"] = sm.anon_kib("AnonHugePages")
            extra["held_seen"] = int(states.get("ESTABLISHED", 0))
            # Weighed before the load began: nothing but the held set open.
            extra["weighed_alone"] = int(sm.stats().get("time_wait_entered", 0)) == 0
        t = threading.Thread(target=probe)
        t.start()
        gen, _, _ = procs.run_gen(ctx.build, tag, memif.vdev("client"),
                                  ["--mode", "connect", "--hold", str(n), "--src-addrs", SRC_RANGE,
                                   "--dst", f"{procs.SERVER_IP}:7",
                                   "--request", "64", "--response", "64", "--concurrency", "256",
                                   "--hold-pause", f"{pause_s:.1f}",
                                   "--duration", f"{hold_s + pause_s + ctx.duration:.1f}", "--drain", f"{5 + n / 20000.0:.0f}"],
                                  timeout=hold_s * 4 + ctx.duration * 3 + 120)
        t.join(timeout=5)
        stats = sm.stats()
        states = wait_states(sm, lambda s: open_count(s) == 0, 10)
    finally:
        rc = sm.stop()
        memif.cleanup()
    if rc != 0:
        raise RuntimeError(f"synmill {tag} exited {rc}")
    c = gen["counters"]
    ready = gen.get("hold_ready_s", -1)
    busy_s = gen["seconds"] - ready - pause_s if ready >= 0 else 0
    cps_value = (c["established"] - c["held_established"]) / busy_s if busy_s > 0 else 0.0
    row = base_row(tag, f"connections/s while holding {n}", "1/s", cps_value, gen, stats)
    row["held"] = n
    row["held_seen_by_synmill"] = extra.get("held_seen", 0)
    held_kib = extra.get("rss_kib_held", rss0) - rss0
    per_slot = (rss0 - base_kib) * 1024 / (slots - 1024)
    row["bytes_per_slot"] = round(per_slot, 1)
    row["bytes_per_held_conn"] = round(per_slot + held_kib * 1024 / n, 1) if n else 0
    row["memory_measure"] = "anonymous memory (smaps_rollup): synmill's heap; not DPDK's memfd nor the memif region"
    # How much of it the kernel backed with transparent huge pages (the tables
    # probed at random ask for them; THP "never" or fragmentation gives none).
    row["huge_page_kib_held"] = extra.get("huge_kib_held", 0)
    check(row, "synmill saw every held connection established", extra.get("held_seen", 0) >= n,
          f'{extra.get("held_seen", 0)} of {n}')
    check(row, "weighed holding only the held set (no TIME_WAIT yet)", extra.get("weighed_alone", False),
          "time_wait_entered > 0 when weighed")
    check(row, "held: gen established them all", c["held_established"] == n, f'{c["held_established"]} of {n}')
    check(row, "established: gen = synmill", c["established"] == int(stats["established"]),
          f'{c["established"]} vs {stats["established"]}')
    check(row, "synmill holds nothing afterwards", open_count(states) == 0, str(states))
    return row


def hold(ctx):
    row = hold_and_cps(ctx, ctx.hold, "hold")
    row["scenario"] = "hold"
    return row


def scale(ctx):
    return [hold_and_cps(ctx, n, f"scale-{n}") for n in ctx.scale]


# The minimal client of issue 10 (dperf's HTTP client): no TIME_WAIT, some
# final ACKs lost, retransmitted FINs of closed connections ignored, a fixed
# short RTO and few retries.
MINIMAL_CLIENT = ["--no-time-wait", "--drop-final-acks", "0.1", "--ignore-fin-rtx", "--rto", "200", "--retries", "2"]


def overload(ctx):
    """Connections/s synmill answers offered 3x its capacity by the minimal
    client, as a share of what it answers at capacity (the generator at its
    maximum rate), both measured here (issue 10's aim: >= 0.9). Recovery
    after the load falls is test/overload/overload.py's."""
    d = max(ctx.duration, 1.0)
    base = ["--dst", f"{procs.SERVER_IP}:8000", "--response", "64", "--close", "client", "--concurrency", "8192"]
    gen_cap, st_cap, _, _ = connect_pair(ctx, "overload-cap", "8000:send:64", base + ["--rate", "max"])
    cap = gen_cap["rates"]["established_per_s"]
    gen, st, states, _ = run_pair(ctx, "overload", ["--listen", "8000:send:64"],
                                  ["--mode", "connect", "--duration", str(d), "--rate", str(max(1, int(3 * cap))),
                                   "--src-addrs", SRC_RANGE] + base + MINIMAL_CLIENT, settle=True)
    c = gen["counters"]
    at_3x = gen["rates"]["established_per_s"]
    # No full-rate second in the capacity run (a 1 s smoke run has none): no
    # capacity, so no ratio; "not measured", never 0.
    row = base_row("overload", "connections/s answered at 3x capacity / at capacity", "ratio",
                   round(at_3x / cap, 3) if cap else None, gen, st)
    row["answered_at_3x_per_s"] = at_3x
    row["capacity_per_s"] = cap
    row["shed"] = {k: int(st.get(k, 0)) for k in ("overload_entered", "shed_syn_overload", "shed_syn_tx_full",
                                                   "shed_to_cookies")}
    # The overload run drops a share of the generator's final ACKs (--drop-final-acks):
    # synmill establishes only when one arrives, so the generator may count more.
    check(row, "responses <= synmill established <= gen established",
          c["responses_complete"] <= int(st["established"]) <= c["established"],
          f'{c["responses_complete"]} <= {st["established"]} <= {c["established"]}')
    # The minimal client ignores retransmitted FINs, so an orphan whose FIN-ACK
    # it dropped lives through its retries with backoff from an RTO the
    # overload inflated (seen: 4 s, so about a minute), longer than the 5 s
    # the bench waits. What must hold then: nothing is left but orphans, and
    # each has its timer armed (it ends by itself; overload.py waits for that).
    orphan_states = sum(int(states.get(k, 0)) for k in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK"))
    check(row, "synmill holds nothing afterwards but orphans still retrying, each with its timer armed",
          open_count(states) == orphan_states == int(st.get("orphans", orphan_states)) and
          int(st.get("timers_armed", 0)) >= orphan_states, f'{states}; stats orphans {st.get("orphans")}, '
          f'timers_armed {st.get("timers_armed")}')
    return row


SCENARIOS = {
    "syn": syn_cookies,
    "syn-backlog": syn_backlog,
    "cps": cps,
    "close-passive": close_passive,
    "close-active": close_active,
    "hold": hold,
    "scale": scale,
    "overload": overload,
}
