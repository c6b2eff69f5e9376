"""RFC 9293 §3.10.7 (with RFC 5961) over real packets: for each state synmill
can be driven into as a server, eight segment kinds at four positions
relative to the receive window. One connection per case (distinct source
ports), all cases of a state driven in one batch.

Expected replies and next states are written from the RFC text (the same
reading as test/unit/tcp/state_matrix_test.cpp); cells where synmill deviates
by design are reported as expected deviations with their citation.
"""
import random
import time

from peer import Conn, describe, fl, sgt, wait_for

KINDS = [("SYN", "S"), ("SYN-ACK", "SA"), ("SYN-FIN", "SF"), ("ACK", "A"), ("FIN", "F"),
         ("FIN-ACK", "FA"), ("RST", "R"), ("RST-ACK", "RA")]
POSITIONS = ["RCV.NXT-1", "RCV.NXT", "RCV.NXT+RCV.WND-1", "RCV.NXT+RCV.WND"]
STATES = ["LISTEN", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT",
          "CLOSE_WAIT", "LAST_ACK"]

PORT_HOLD = 7000     # hold: never closes (CLOSE_WAIT stays)
PORT_DISCARD = 9     # discard: closes when the peer does (LAST_ACK)
PORT_SEND0 = 8001    # send:0: closes at once (FIN_WAIT_*, CLOSING, TIME_WAIT)
LISTEN_ARGS = f"{PORT_DISCARD}:discard,{PORT_HOLD}:hold,{PORT_SEND0}:send:0,8002:send:4096,7:echo"
# Long RTOs so that no retransmission lands inside a case; a fixed 8 KiB window.
EXTRA_ARGS = ["--rcv-wnd", "8192", "--rto-initial", "20000", "--rto-min", "20000", "--time-wait", "60",
              "--fin-wait2-timeout", "60"]

NO_TCB = {"LISTEN", "CLOSED"}

# Cells where synmill deviates from the table by design (state, kind, position) -> why.
D2 = ("RFC 9293 §3.10.7.4: TIME-WAIT accepts the whole advertised window; synmill, like Linux "
      "(tcp_timewait_state_process), treats TIME-WAIT as a zero window and ACKs in-window segments "
      "[state_matrix_test.cpp D2, !mayfail]")
D3 = ("RFC 6191 §2 (no timestamps): a SYN above the last sequence number seen (the FIN, RCV.NXT-1) may reopen "
      "TIME-WAIT; synmill, like BSD/Linux, requires SEG.SEQ > RCV.NXT and ACKs [state_matrix_test.cpp D3, !mayfail]")
DRS = ("RFC 9293 §3.10.7.4 first check: SEG.SEQ = IRS is outside the window (ACK); synmill answers any "
       "segment with SYN and no ACK at IRS in SYN-RECEIVED as a retransmitted SYN with the SYN-ACK again, as "
       "Linux does (lib/tcp/stack_input.cpp), SYN+FIN included")
DSF = ("RFC 9293 §3.10.7.2 third: a SYN is processed whatever else is set (the FIN later); synmill drops "
       "SYN+FIN to a listener (drop_bad_flags), as FreeBSD's net.inet.tcp.drop_synfin, lib/tcp/stack_listen.cpp")


def deviation(state, kind, pos, ts=False):
    if state == "SYN_RCVD" and kind == "SYN-FIN" and pos == "RCV.NXT-1":
        return DRS
    if state == "TIME_WAIT":
        if kind == "ACK" and pos == "RCV.NXT+RCV.WND-1":
            return D2
        if kind == "FIN" and pos in ("RCV.NXT", "RCV.NXT+RCV.WND-1"):
            return D2
        if kind == "SYN" and pos == "RCV.NXT" and not ts:
            return D3
    if state == "LISTEN" and kind == "SYN-FIN":
        return DSF
    return None


def expect(state, kind, pos, ts=False):
    """(reply, next state, RCV.NXT advance). Replies: NONE, ACK (<SEQ=SND.NXT><ACK=RCV.NXT+adv>),
    SYNACK, SYNACK_NEW (new incarnation, ISS above the old SND.NXT), RST_SEGACK (<SEQ=SEG.ACK><RST>),
    ANY (no rule fixes it: at most one segment)."""
    flags = dict(KINDS)[kind]
    rst, syn, ack, fin = "R" in flags, "S" in flags, "A" in flags, "F" in flags
    in_window = pos in ("RCV.NXT", "RCV.NXT+RCV.WND-1")
    if state == "LISTEN":  # RFC 9293 §3.10.7.2
        if rst:
            return "NONE", "LISTEN", 0          # first: ignore an RST
        if ack:
            return "RST_SEGACK", "LISTEN", 0    # second: <SEQ=SEG.ACK><CTL=RST>
        if syn:
            return "SYNACK", "SYN_RCVD", 0      # third: SYN -> SYN-RECEIVED
        return "NONE", "LISTEN", 0              # fourth: other text or control: drop
    if state == "TIME_WAIT" and flags == "S":   # RFC 9293 §3.10.7.4 fourth, RFC 6191 §2
        # With timestamps a SYN with a newer TSval reopens whatever its sequence number;
        # without, one above the last sequence number seen (the FIN at RCV.NXT-1).
        if ts or pos != "RCV.NXT-1":
            return "SYNACK_NEW", "SYN_RCVD", 0
        return "ACK", "TIME_WAIT", 0
    if (state in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK") and flags == "S"
            and pos == "RCV.NXT+RCV.WND"):
        # Documented deviation (lib/tcp/stack_reclaim.cpp, issue 10): these states are reached
        # through the application's close(), so the connection is an orphan; a SYN beyond the
        # window replaces it (RFC 6191's TIME-WAIT rules) instead of RFC 5961 §4's challenge ACK.
        return "SYNACK_NEW", "SYN_RCVD", 0
    if not in_window:                           # first: acceptability
        if rst:
            return "NONE", state, 0
        if state == "SYN_RCVD" and flags == "S" and pos == "RCV.NXT-1":
            return "SYNACK", state, 0           # retransmitted SYN: SYN-ACK again (as Linux)
        return "ACK", state, 0
    if rst:                                     # second: RST, RFC 5961 §3.2
        if state == "TIME_WAIT":
            return "NONE", state, 0             # RFC 1337 (synmill's default --time-wait-rst ignore)
        if pos != "RCV.NXT":
            return "ACK", state, 0              # challenge ACK
        return "NONE", "LISTEN" if state == "SYN_RCVD" else "CLOSED", 0
    if syn:                                     # fourth: SYN, RFC 5961 §4.2
        if state == "SYN_RCVD":
            return "NONE", "LISTEN", 0          # passive open: back to LISTEN
        return "ACK", state, 0                  # challenge ACK
    if not ack:                                 # fifth: no ACK bit: drop
        return "NONE", state, 0
    after = {"SYN_RCVD": "ESTABLISHED", "FIN_WAIT_1": "FIN_WAIT_2", "CLOSING": "TIME_WAIT"}.get(state, state)
    if state == "LAST_ACK":
        return "NONE", "CLOSED", 0
    if not fin:
        return "NONE", after, 0
    if after not in ("ESTABLISHED", "FIN_WAIT_2"):  # eighth: a second FIN: no rule fixes the reply
        return "ANY", after, 0
    if pos != "RCV.NXT":
        return "ACK", after, 0                  # FIN beyond RCV.NXT: duplicate ACK (RFC 5681 §4.2)
    return "ACK", "CLOSE_WAIT" if after == "ESTABLISHED" else "TIME_WAIT", 1


# ---- driving connections into a state ------------------------------------------------------

def handshake(net, conns, complete=True):
    for c in conns:
        c.send("S", window=8192)
        c.snd_nxt += 1
    missing = wait_for(net, conns, lambda c: c.their_iss is not None)
    if missing:
        raise AssertionError(f"no SYN-ACK for ports {[c.sport for c in missing]}")
    if complete:
        for c in conns:
            c.send("A")


def drive(net, conns, state):
    if state == "LISTEN":
        return
    if state == "SYN_RCVD":
        return handshake(net, conns, complete=False)
    handshake(net, conns)
    if state == "ESTABLISHED":
        return
    if state in ("CLOSE_WAIT", "LAST_ACK"):
        for c in conns:
            c.send("FA")
            c.snd_nxt += 1
        want = (lambda c: c.their_ack == c.snd_nxt) if state == "CLOSE_WAIT" else \
            (lambda c: c.their_ack == c.snd_nxt and c.fin_seq is not None)
        missing = wait_for(net, conns, want)
        if missing:
            raise AssertionError(f"{state}: no ACK/FIN for ports {[c.sport for c in missing]}")
        return
    # synmill closes first (send:0)
    missing = wait_for(net, conns, lambda c: c.fin_seq is not None)
    if missing:
        raise AssertionError(f"{state}: no FIN from synmill for ports {[c.sport for c in missing]}")
    if state == "FIN_WAIT_1":
        return
    if state == "CLOSING":
        for c in conns:  # our FIN crosses theirs: acknowledges everything before their FIN
            c.send("FA", ack=c.fin_seq)
            c.snd_nxt += 1
        missing = wait_for(net, conns, lambda c: c.their_ack == c.snd_nxt)
        if missing:
            raise AssertionError(f"CLOSING: no ACK of our FIN for ports {[c.sport for c in missing]}")
        return
    for c in conns:
        c.send("A")  # acknowledges their FIN -> FIN_WAIT_2
    if state == "FIN_WAIT_2":
        net.pump(0.05)
        return
    for c in conns:  # TIME_WAIT
        c.send("FA")
        c.snd_nxt += 1
    missing = wait_for(net, conns, lambda c: c.their_ack == c.snd_nxt)
    if missing:
        raise AssertionError(f"TIME_WAIT: no ACK of our FIN for ports {[c.sport for c in missing]}")


def state_port(state):
    if state in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT"):
        return PORT_SEND0
    if state == "LAST_ACK":
        return PORT_DISCARD
    return PORT_HOLD


def check_reply(exp, replies, before, probe):
    """'' when the replies match, else what differs."""
    reply, _, adv = exp
    if reply == "NONE":
        return "" if not replies else "expected no reply"
    if reply == "ANY":
        return "" if len(replies) <= 1 else "expected at most one segment"
    if len(replies) != 1:
        return f"expected one segment ({reply})"
    t = replies[0]
    f = fl(t)
    if reply == "ACK":
        want = {"flags": "A", "seq": before["snd_nxt"], "ack": (before["rcv_nxt"] + adv) & 0xFFFFFFFF,
                "win": before["win"]}
        got = {"flags": f, "seq": t.seq, "ack": t.ack, "win": t.window}
        if want != got:
            return f"expected ACK {want}"
        has_ts = any(isinstance(o, tuple) and o[0] == "Timestamp" for o in t.options)
        if has_ts != before.get("ts", False):
            return "timestamps option " + ("missing (RFC 7323 §3.2)" if not has_ts else "not negotiated")
        return ""
    if reply == "RST_SEGACK":
        return "" if f == "R" and t.seq == probe["ack"] else f"expected <SEQ={probe['ack']}><CTL=RST>"
    if reply == "SYNACK":
        ok = f == "SA" and t.ack == (probe["seq"] + 1) & 0xFFFFFFFF
        if before.get("iss") is not None:
            ok = ok and t.seq == before["iss"]
        return "" if ok else f"expected SYN-ACK <ACK={(probe['seq'] + 1) & 0xFFFFFFFF}>"
    if reply == "SYNACK_NEW":
        ok = f == "SA" and t.ack == (probe["seq"] + 1) & 0xFFFFFFFF and sgt(t.seq, before["snd_nxt"])
        return "" if ok else "expected SYN-ACK of a new incarnation, ISS above the old SND.NXT"
    return f"unknown expectation {reply}"


def run(sm, report, next_port, only=None):
    """Runs every (state, kind, position) case on synmill `sm`, without options ("state ...") and
    with window scale + SACK-permitted + timestamps ("state+ts ..."); calls report(id, status, detail)."""
    for ts in (False, True):
        run_variant(sm, report, next_port, only, ts)


def run_variant(sm, report, next_port, only, ts):
    net = sm.net
    rng = random.Random(9293 + ts)
    label = "state+ts" if ts else "state"
    for state in STATES:
        cases = [(k, p) for k, _ in KINDS for p in POSITIONS
                 if not only or any(s in f"{label} {state} {k} @{p}" for s in only)]
        if not cases:
            continue
        conns = []
        for _ in cases:
            conns.append(Conn(net, next_port(), state_port(state), rng.randrange(1 << 32), ts=ts))
        try:
            drive(net, conns, state)
        except AssertionError as e:
            for (k, p) in cases:
                report(f"{label} {state} {k} @{p}", "FAIL", f"could not reach {state}: {e}")
            continue
        net.pump(0.05)
        for c in conns:
            c.take()
        reached = {c.sport: sm.state(c.sport, c.dport) for c in conns}
        for _ in range(20):  # our last segments may still be on their way (bounded: 1 s)
            if state == "LISTEN" or all(v == state for v in reached.values()):
                break
            net.pump(0.05)
            for c in conns:
                c.take()
            reached = {c.sport: sm.state(c.sport, c.dport) for c in conns}
        probes = []
        for (kind, pos), c in zip(cases, conns):
            if state == "LISTEN":
                base, win, ack = c.iss, 8192, rng.randrange(1 << 32)
                before = {"snd_nxt": None, "rcv_nxt": base, "win": win, "iss": None}
            else:
                base, win, ack = c.their_ack, c.their_wnd, c.their_nxt
                # The window field synmill's next non-SYN segment carries (scaled once negotiated).
                before = {"snd_nxt": c.their_nxt, "rcv_nxt": c.their_ack, "win": c.their_wnd >> c.their_shift,
                          "ts": ts,
                          "iss": c.their_iss if state == "SYN_RCVD" else None}
            seq = {"RCV.NXT-1": base - 1, "RCV.NXT": base, "RCV.NXT+RCV.WND-1": base + win - 1,
                   "RCV.NXT+RCV.WND": base + win}[pos] & 0xFFFFFFFF
            flags = dict(KINDS)[kind]
            c.send(flags, seq=seq, ack=ack if "A" in flags else 0, window=8192)
            probes.append((kind, pos, c, before, {"seq": seq, "ack": ack}))
        # Wait for every expected reply (bounded), and at least 0.3 s for unexpected ones.
        got = {c.sport: [] for c in conns}
        t0 = time.monotonic()
        while True:
            net.pump(0.05)
            for c in conns:
                got[c.sport] += c.take()
            waited = time.monotonic() - t0
            missing = [1 for kind, pos, c, _, _ in probes
                       if expect(state, kind, pos, ts)[0] not in ("NONE", "ANY") and not got[c.sport]]
            if waited >= 3.0 or (waited >= 0.3 and not missing):
                break
        for kind, pos, c, before, probe in probes:
            cid = f"{label} {state} {kind} @{pos}"
            replies = got[c.sport]
            got_state = sm.state(c.sport, c.dport)
            exp = expect(state, kind, pos, ts)
            pre = reached[c.sport]
            if pre != state and not (state == "LISTEN" and pre in NO_TCB):
                report(cid, "FAIL", f"setup reached {pre}, not {state}")
                continue
            problems = []
            why = check_reply(exp, replies, before, probe)
            if why:
                problems.append(why)
            exp_state = exp[1]
            if not ((exp_state in NO_TCB and got_state in NO_TCB) or exp_state == got_state):
                problems.append(f"expected state {exp_state}")
            detail = (f"sent <{dict(KINDS)[kind]} seq={probe['seq']}"
                      f"{' ack=' + str(probe['ack']) if 'A' in dict(KINDS)[kind] else ''}>; "
                      f"got {describe(replies)}, state {got_state}; expected {exp[0]}"
                      f"{'+' + str(exp[2]) if exp[2] else ''}, {exp_state}")
            dev = deviation(state, kind, pos, ts)
            if not problems:
                report(cid, "PASS", detail + ("  (documented deviation did not show)" if dev else ""))
            elif dev:
                report(cid, "XFAIL", detail + "; " + "; ".join(problems) + " -- expected deviation: " + dev)
            else:
                report(cid, "FAIL", detail + "; " + "; ".join(problems))
        # Leave nothing behind: RST every connection still there.
        for c in conns:
            if c.their_ack is not None:
                c.send("R", seq=c.their_ack)
        net.pump(0.05)
        net.by_port.clear()
