"""Stuck peers: every half-open or half-closed connection a peer abandons is
reclaimed within its configured timeout, and /synmill/states returns to zero.

Each peer is driven into its state, then goes silent (never sends again). The
synmill here runs with short timeouts; the bound for each state is computed
from them (retransmissions double the RTO from --rto-initial/--rto-min).
"""
import time

from peer import MSS, Conn, wait_for

RTO_S = 0.2
TIMEOUT_S = 1.0
LISTEN_ARGS = "9:discard,7000:hold,8001:send:0"
EXTRA_ARGS = ["--rto-initial", "200", "--rto-min", "200", "--rto-max", "1000", "--synack-retries", "2",
              "--fin-retries", "2", "--fin-wait2-timeout", str(TIMEOUT_S), "--close-wait-timeout", str(TIMEOUT_S),
              "--time-wait", str(TIMEOUT_S)]
SLACK_S = 1.0
# 2 retries: RTO + 2 RTO + 4 RTO (capped by --rto-max) before the connection is given up.
RETRY_BOUND_S = RTO_S + 2 * RTO_S + min(4 * RTO_S, 1.0)

CASES = [
    # id, state, port, what the peer does before going silent, bound, rule
    ("stuck SYN_RCVD: the client never sends the final ACK", "SYN_RCVD", 7000, RETRY_BOUND_S,
     "--synack-retries 2"),
    ("stuck FIN_WAIT_1: the peer vanishes, never acknowledges synmill's FIN", "FIN_WAIT_1", 8001, RETRY_BOUND_S,
     "--fin-retries 2"),
    ("stuck FIN_WAIT_2: synmill's FIN acknowledged, the peer never closes", "FIN_WAIT_2", 8001, TIMEOUT_S,
     f"--fin-wait2-timeout {TIMEOUT_S}"),
    ("stuck LAST_ACK: the peer sends FIN, never acknowledges synmill's FIN", "LAST_ACK", 9, RETRY_BOUND_S,
     "--fin-retries 2"),
    ("stuck CLOSE_WAIT: the application (hold) never closes", "CLOSE_WAIT", 7000, TIMEOUT_S,
     f"--close-wait-timeout {TIMEOUT_S}"),
    ("stuck TIME_WAIT: expires", "TIME_WAIT", 8001, TIMEOUT_S, f"--time-wait {TIMEOUT_S}"),
]

ZERO_STATES = ("SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",
               "LAST_ACK", "TIME_WAIT")


def drive(net, c, state):
    c.send("S", options=[("MSS", MSS)])
    c.snd_nxt += 1
    if wait_for(net, [c], lambda z: z.their_iss is not None):
        raise AssertionError("no SYN-ACK")
    if state == "SYN_RCVD":
        return
    c.send("A")
    if state in ("CLOSE_WAIT", "LAST_ACK"):
        c.send("FA")
        c.snd_nxt += 1
        want = (lambda z: z.their_ack == z.snd_nxt) if state == "CLOSE_WAIT" else (lambda z: z.fin_seq is not None)
        if wait_for(net, [c], want):
            raise AssertionError("no ACK / FIN")
        return
    if wait_for(net, [c], lambda z: z.fin_seq is not None):
        raise AssertionError("no FIN from synmill")
    if state == "FIN_WAIT_1":
        return
    c.send("A")
    if state == "FIN_WAIT_2":
        return
    c.send("FA")
    c.snd_nxt += 1
    if wait_for(net, [c], lambda z: z.their_ack == z.snd_nxt):
        raise AssertionError("no ACK of our FIN")


def run(sm, report, next_port, only):
    net = sm.net
    cases = [cs for cs in CASES if not only or any(k in cs[0] for k in only)]
    if not cases:
        return
    before = sm.stats()
    live = []
    for cid, state, port, bound, rule in cases:
        c = Conn(net, next_port(), port, 0x0A000000 + port)
        try:
            drive(net, c, state)
        except AssertionError as e:
            report(cid, "FAIL", f"could not reach {state}: {e}")
            continue
        got = sm.state(c.sport, port)
        for _ in range(20):  # our last segment may still be on its way (bounded: 1 s)
            if got == state:
                break
            net.pump(0.05)
            got = sm.state(c.sport, port)
        reached_at = time.monotonic()
        if got != state:
            report(cid, "FAIL", f"reached {got}, not {state}")
            continue
        live.append([cid, state, c, port, bound, rule, reached_at, None])
    mid = sm.states()
    deadline = time.monotonic() + RETRY_BOUND_S + TIMEOUT_S + 2 * SLACK_S + 2
    while time.monotonic() < deadline and any(e[7] is None for e in live):
        net.pump(0.05)  # keeps reading (retransmissions), never answers
        for e in live:
            if e[7] is None and sm.state(e[2].sport, e[3]) in ("LISTEN", "CLOSED"):
                e[7] = time.monotonic()
    for cid, state, c, port, bound, rule, reached_at, gone_at in live:
        rtx = sum(1 for t in net.take(c.sport))
        if gone_at is None:
            report(cid, "FAIL", f"still {sm.state(c.sport, port)} after {deadline - reached_at:.1f} s ({rule})")
            continue
        took = gone_at - reached_at
        ok = took <= bound + SLACK_S
        report(cid, "PASS" if ok else "FAIL",
               f"reclaimed after {took:.2f} s (bound {bound:.1f} s + {SLACK_S:.1f} s slack from {rule}); "
               f"{rtx} segments from synmill while silent")
    after = sm.states()
    nonzero = {s: after.get(s, 0) for s in ZERO_STATES if after.get(s, 0)}
    stats = sm.stats()
    reclaimed = stats.get("closed_timeout", 0) - before.get("closed_timeout", 0)
    report("stuck all: /synmill/states back to zero", "FAIL" if nonzero else "PASS",
           f"during: { {s: mid.get(s, 0) for s in ZERO_STATES if mid.get(s, 0)} }; after: {nonzero or 'all zero'}; "
           f"closed_timeout +{reclaimed}")
