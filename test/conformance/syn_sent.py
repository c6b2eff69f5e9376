"""RFC 9293 §3.10.7.3 (SYN-SENT) with RFC 5961 §3 over real packets: synmill
opens the connections itself (`--connect PEER:PORTxN`, local ports 40000 up,
one connection per case); this peer captures each SYN (ISS = its SEQ), then
answers it with one of eight segment kinds, the ACK field at ISS
(unacceptable: SEG.ACK =< ISS), ISS+1 (acceptable) or ISS+2 (beyond SND.NXT);
kinds without ACK have one row. Long RTOs keep every connection in SYN_SENT
while the cases run.

Expected, from the RFC text:
  ACK unacceptable, no RST  -> <SEQ=SEG.ACK><CTL=RST>, stay SYN_SENT
  ACK unacceptable, RST     -> drop, stay SYN_SENT
  RST, acceptable ACK       -> CLOSED, no reply (RFC 5961 §3: only an RST that ACKs the SYN)
  RST without ACK           -> drop, stay SYN_SENT
  SYN, acceptable ACK       -> ESTABLISHED, <SEQ=ISS+1><ACK=peer ISN+1><CTL=ACK>
  SYN without ACK           -> SYN_RCVD, <SEQ=ISS><ACK=peer ISN+1><CTL=SYN,ACK> (simultaneous open;
                               a FIN with it is queued until ESTABLISHED, so not acknowledged)
  neither SYN nor RST       -> drop, stay SYN_SENT
"""
import random
import time

from peer import PEER_IP, Conn, describe, endpoint, fl

KINDS = [("SYN", "S"), ("SYN-ACK", "SA"), ("SYN-FIN", "SF"), ("ACK", "A"), ("FIN", "F"),
         ("FIN-ACK", "FA"), ("RST", "R"), ("RST-ACK", "RA")]
POSITIONS = ["ISS", "ISS+1", "ISS+2"]
# One connection per case, in this order: synmill's local port 40000 + index.
CASES = [(k, p) for k, f in KINDS for p in (POSITIONS if "A" in f else [None])]

PEER_PORT = 5001     # where synmill connects (this peer, PEER_IP)
FIRST_PORT = 40000   # synmill's first local port (apps/synmill/connector.hpp kFirstPort)
RCV_WND = 8192
LISTEN_ARGS = "7:echo"
# Long RTOs so that no SYN (or SYN-ACK) retransmission lands inside a case.
EXTRA_ARGS = ["--connect", f"{endpoint(PEER_IP, PEER_PORT)}x{len(CASES)}", "--rcv-wnd", str(RCV_WND),
              "--rto-initial", "20000", "--rto-min", "20000", "--syn-retries", "2"]

NO_TCB = {"CLOSED", "LISTEN"}


class ActiveConn(Conn):
    """A connection synmill opened: every case talks to the same peer port, so
    segments are told apart by synmill's port (self.dport)."""

    def take(self):
        segs = self.net.by_port.get(self.sport, [])
        mine = [t for t in segs if t.sport == self.dport]
        self.net.by_port[self.sport] = [t for t in segs if t.sport != self.dport]
        self.learn(mine)
        return mine


def case_id(kind, pos):
    return f"state SYN_SENT {kind}" + (f" @ACK={pos}" if pos else "")


def expect(kind, pos):
    """(reply, next state). Replies: NONE, RST_SEGACK (<SEQ=SEG.ACK><CTL=RST>),
    ACK (<SEQ=ISS+1><ACK=IRS+1>), SYNACK (<SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK>)."""
    flags = dict(KINDS)[kind]
    rst, syn, ack = "R" in flags, "S" in flags, "A" in flags
    if ack and pos != "ISS+1":                  # first: SEG.ACK =< ISS or > SND.NXT
        return ("NONE" if rst else "RST_SEGACK"), "SYN_SENT"
    if rst:                                     # second: RFC 5961 §3 / RFC 9293 §3.10.7.3
        return ("NONE", "CLOSED") if ack else ("NONE", "SYN_SENT")
    if syn:                                     # fourth
        return ("ACK", "ESTABLISHED") if ack else ("SYNACK", "SYN_RCVD")
    return "NONE", "SYN_SENT"                   # fifth: neither SYN nor RST: drop


def check_reply(reply, replies, c, probe, syn_win):
    if reply == "NONE":
        return "" if not replies else "expected no reply"
    if len(replies) != 1:
        return f"expected one segment ({reply})"
    t = replies[0]
    got = {"flags": fl(t), "seq": t.seq}
    if reply == "RST_SEGACK":
        want = {"flags": "R", "seq": probe["ack"]}
    elif reply == "ACK":
        want = {"flags": "A", "seq": (c.iss_synmill + 1) & 0xFFFFFFFF, "ack": (probe["seq"] + 1) & 0xFFFFFFFF,
                "win": RCV_WND}  # our SYN-ACK offered no window scale: the field is unscaled
        got.update(ack=t.ack, win=t.window)
    elif reply == "SYNACK":
        want = {"flags": "SA", "seq": c.iss_synmill, "ack": (probe["seq"] + 1) & 0xFFFFFFFF, "win": syn_win}
        got.update(ack=t.ack, win=t.window)
    else:
        return f"unknown expectation {reply}"
    return "" if got == want else f"expected {reply} {want}"


def run(sm, report, next_port, only=None):
    net = sm.net
    rng = random.Random(793)
    conns = [ActiveConn(net, PEER_PORT, FIRST_PORT + i, rng.randrange(1 << 32)) for i in range(len(CASES))]
    # synmill sends its SYNs once it has our MAC (net.resolve answered its ARP).
    missing = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        net.pump(0.05)
        missing = []
        for c in conns:
            c.take()
            if c.their_iss is None:
                missing.append(c)
        if not missing:
            break
    selected = [(i, k, p) for i, (k, p) in enumerate(CASES) if not only or any(s in case_id(k, p) for s in only)]
    if missing:
        for i, k, p in selected:
            report(case_id(k, p), "FAIL", f"no SYN from synmill for ports {[c.dport for c in missing]}")
        return
    probes = []
    for i, kind, pos in selected:
        c = conns[i]
        syn = c.seen[0]
        c.iss_synmill = c.their_iss
        pre = sm.state(c.sport, c.dport)
        flags = dict(KINDS)[kind]
        seq = c.iss  # our ISN
        ack = ((c.their_iss + {"ISS": 0, "ISS+1": 1, "ISS+2": 2}[pos]) & 0xFFFFFFFF) if pos else 0
        if len(c.seen) != 1 or fl(syn) != "S":
            report(case_id(kind, pos), "FAIL", f"setup: expected one SYN, got {describe(c.seen)}")
            continue
        c.send(flags, seq=seq, ack=ack, window=8192)
        probes.append((kind, pos, c, pre, syn.window, {"seq": seq, "ack": ack}))
    got = {c.dport: [] for c in conns}
    t0 = time.monotonic()
    while True:
        net.pump(0.05)
        for c in conns:
            got[c.dport] += c.take()
        waited = time.monotonic() - t0
        missing = [1 for kind, pos, c, *_ in probes if expect(kind, pos)[0] != "NONE" and not got[c.dport]]
        if waited >= 3.0 or (waited >= 0.3 and not missing):
            break
    for kind, pos, c, pre, syn_win, probe in probes:
        cid = case_id(kind, pos)
        reply, exp_state = expect(kind, pos)
        replies = got[c.dport]
        got_state = sm.state(c.sport, c.dport)
        flags = dict(KINDS)[kind]
        detail = (f"ISS={c.iss_synmill}; sent <{flags} seq={probe['seq']}"
                  f"{' ack=' + str(probe['ack']) if 'A' in flags else ''}>; "
                  f"got {describe(replies)}, state {got_state}; expected {reply}, {exp_state}")
        if pre != "SYN_SENT":
            report(cid, "FAIL", f"setup reached {pre}, not SYN_SENT; {detail}")
            continue
        problems = []
        why = check_reply(reply, replies, c, probe, syn_win)
        if why:
            problems.append(why)
        if not ((exp_state in NO_TCB and got_state in NO_TCB) or exp_state == got_state):
            problems.append(f"expected state {exp_state}")
        report(cid, "FAIL" if problems else "PASS", detail + ("; " + "; ".join(problems) if problems else ""))
    net.by_port.clear()
