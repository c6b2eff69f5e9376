"""The differential catalogue: each case as a generator over one side's DConn
(diff.py), written once and played against synmill and Linux.

Families (case id prefix):
  state / state+ts   the state x segment x window-position table of states.py
                     (RFC 9293 §3.10.7, RFC 5961): every state synmill reaches as a server x
                     SYN, SYN-ACK, SYN-FIN, ACK, FIN, FIN-ACK, RST, RST-ACK x RCV.NXT-1, RCV.NXT,
                     RCV.NXT+RCV.WND-1, RCV.NXT+RCV.WND; this is also "RST and SYN in every
                     synchronised state"
  syn_sent           SYN-SENT (§3.10.7.3) against a client each side opened
  reasm              reassembly: holes, overlaps carrying different bytes, out-of-order FIN,
                     two FINs, data past FIN, D-SACK
  ts                 timestamps: PAWS across the TSval wrap, TSecr of a delayed ACK
  keepalive, urg     keep-alive probes (RFC 9293 §3.8.4 / RFC 1122 4.2.3.6), urgent data (RFC 6093)
  http               the http app (RFC 9112): request, keep-alive, close, empty lines first
  send               sender toward small, shrinking and zero windows (group "sender")
  sack               SACK scoreboard edges: blocks beyond SND.NXT, below SND.UNA, straddling
                     SND.UNA, reneging (group "sender")
"""
import random

from diff import Case, Collect, Wait, connect, probe, settle
from peer import M32, MSS

# One listener set for both stacks (synmill --listen and kernel_apps --listen).
APPS = {"echo": 7, "discard": 9, "hold": 7000, "sink": 7001, "send:0": 8001, "send:4096": 8002, "http": 80}
# "sink": synmill's hold; in Linux an app that never reads (kernel_apps.py), for ACK timing.
LISTEN_KERNEL = ",".join(f"{p}:{a}" for a, p in APPS.items())
LISTEN = LISTEN_KERNEL.replace(":sink", ":hold")
SYNMILL_ARGS = ["--rcv-wnd", "8192", "--rto-initial", "20000", "--rto-min", "20000", "--time-wait", "60",
                "--fin-wait2-timeout", "60"]

SENDER_APPS = {"send:8000": 8100, "send:30000": 8101, "send:3000": 8102}
SENDER_LISTEN = ",".join(f"{p}:{a}" for a, p in SENDER_APPS.items())
# RTOs of 3 s on both sides (Linux: the route's rto_min 3 s, which its first data RTO after
# the handshake's RTT sample is), so that the ACK steps before "after an RTO" (0.5 s each, up to
# four of them after the first flight) see no timer even on a loaded machine, and that step
# (RTO_WAIT) sees exactly one: the second, backed off to 6 s, comes after it.
SENDER_SYNMILL_ARGS = ["--rcv-wnd", "8192", "--rto-initial", "3000", "--rto-min", "3000", "--time-wait", "60"]
SENDER_RTO_MIN_MS = 3000

SYN_SENT_PORT = 5001
FIRST_ACTIVE_PORT = 40000

KINDS = [("SYN", "S"), ("SYN-ACK", "SA"), ("SYN-FIN", "SF"), ("ACK", "A"), ("FIN", "F"),
         ("FIN-ACK", "FA"), ("RST", "R"), ("RST-ACK", "RA")]
POSITIONS = ["RCV.NXT-1", "RCV.NXT", "RCV.NXT+RCV.WND-1", "RCV.NXT+RCV.WND"]
STATES = ["LISTEN", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT",
          "CLOSE_WAIT", "LAST_ACK"]
TS_OPTS_SYN = None  # Conn.options builds MSS, WScale 7, SAckOK, Timestamp when ts=True


def state_app(state):
    if state in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT"):
        return "send:0"
    return "discard" if state == "LAST_ACK" else "hold"


def reach(c, state):
    """Drives c into `state` (as states.drive, one connection)."""
    if state == "LISTEN":
        return
    if state == "SYN_RCVD":
        c.send("S", window=8192)
        c.snd_nxt += 1
        if not (yield Wait(lambda: c.their_iss is not None)):
            raise AssertionError("no SYN-ACK")
        return
    yield from connect(c)
    if state == "ESTABLISHED":
        return
    if state in ("CLOSE_WAIT", "LAST_ACK"):
        c.send("FA")
        c.snd_nxt += 1
        want = (lambda: c.their_ack == c.snd_nxt) if state == "CLOSE_WAIT" else \
            (lambda: c.their_ack == c.snd_nxt and c.fin_seq is not None)
        if not (yield Wait(want)):
            raise AssertionError(f"{state} not reached")
        return
    if not (yield Wait(lambda: c.fin_seq is not None)):
        raise AssertionError("no FIN")
    if state == "FIN_WAIT_1":
        return
    if state == "CLOSING":
        c.send("FA", ack=c.fin_seq)
        c.snd_nxt += 1
        if not (yield Wait(lambda: c.their_ack == c.snd_nxt)):
            raise AssertionError("CLOSING not reached")
        return
    c.send("A")
    if state == "FIN_WAIT_2":
        yield Collect(0.05)
        return
    c.send("FA")
    c.snd_nxt += 1
    if not (yield Wait(lambda: c.their_ack == c.snd_nxt)):
        raise AssertionError("TIME_WAIT not reached")


def state_case(state, kind, pos, listen_ack):
    flags = dict(KINDS)[kind]

    def fn(c):
        yield from reach(c, state)
        if state != "SYN_RCVD":   # SYN_RCVD: probe at once, before Linux's 1 s SYN-ACK timer
            yield Collect(0.1)
        c.inbox = []
        if state == "LISTEN":
            base, win, ack = c.iss, 8192, listen_ack
        else:
            base, win, ack = c.their_ack, c.their_wnd, c.their_nxt
        seq = {"RCV.NXT-1": base - 1, "RCV.NXT": base, "RCV.NXT+RCV.WND-1": base + win - 1,
               "RCV.NXT+RCV.WND": base + win}[pos] & M32
        yield from probe(c, f"{flags}@{pos}", flags, seq=seq, ack=ack if "A" in flags else 0, window=8192)
    return fn


def state_table(next_port, rng):
    out = []
    for ts in (False, True):
        label = "state+ts" if ts else "state"
        for state in STATES:
            for kind, _ in KINDS:
                for pos in POSITIONS:
                    out.append(Case(f"{label} {state} {kind} @{pos}", state_app(state),
                                    state_case(state, kind, pos, rng.randrange(1 << 32)), ts=ts,
                                    sport=next_port(), iss=rng.randrange(1 << 32)))
    return out


# ---- SYN-SENT -------------------------------------------------------------------------------------

SS_POS = ["ISS", "ISS+1", "ISS+2"]
SS_CASES = [(k, p) for k, f in KINDS for p in (SS_POS if "A" in f else [None])]


def syn_sent_case(kind, pos):
    flags = dict(KINDS)[kind]

    def fn(c):
        if not (yield Wait(lambda: c.their_iss is not None, 8.0)):
            raise AssertionError("no SYN from the stack")
        yield Collect(0.05)
        c.inbox = []
        ack = ((c.their_iss + SS_POS.index(pos)) & M32) if pos else 0
        yield from probe(c, f"{flags}" + (f"@ACK={pos}" if pos else ""), flags, seq=c.iss, ack=ack, window=8192)
    return fn


def syn_sent_cases(rng):
    return [Case(f"syn_sent {k}" + (f" @ACK={p}" if p else ""), None, syn_sent_case(k, p), active=True,
                 sport=SYN_SENT_PORT, dport=FIRST_ACTIVE_PORT + i, iss=rng.randrange(1 << 32))
            for i, (k, p) in enumerate(SS_CASES)]


# ---- reassembly, timestamps, keep-alive, urgent, http --------------------------------------------

def at(c, off):
    """Our sequence number `off` bytes into the stream (after the handshake)."""
    return (c.iss + 1 + off) & M32


def seg(c, label, off, data, flags="PA", **kw):
    return probe(c, label, flags, seq=at(c, off), payload=data, **kw)


def case_reasm_hole(c):
    yield from connect(c)
    yield from seg(c, "[10,20) hole", 10, b"B" * 10)
    yield from seg(c, "[30,40) second hole", 30, b"D" * 10)
    yield from seg(c, "[0,10) fills first", 0, b"A" * 10)
    yield from seg(c, "[20,30) fills second", 20, b"C" * 10)


def case_reasm_overlap_ofo(c):
    yield from connect(c)
    yield from seg(c, "[5,15) X", 5, b"X" * 10)
    yield from seg(c, "[10,20) Y (overlaps ofo)", 10, b"Y" * 10)
    yield from seg(c, "[0,10) Z (overlaps ofo)", 0, b"Z" * 10)


def case_reasm_overlap_ofo_covering(c):
    yield from connect(c)
    yield from seg(c, "[10,15) X", 10, b"X" * 5)
    yield from seg(c, "[5,25) Y covers it", 5, b"Y" * 20)
    yield from seg(c, "[0,5) Z", 0, b"Z" * 5)


def case_reasm_overlap_delivered(c):
    yield from connect(c)
    yield from seg(c, "[0,10) A", 0, b"A" * 10)
    yield from seg(c, "[5,15) B (overlaps delivered)", 5, b"B" * 10)


def case_ofo_fin(c):
    yield from connect(c)
    yield from seg(c, "[10,20)+FIN ofo", 10, b"B" * 10, flags="FPA")
    yield from seg(c, "[0,10)", 0, b"A" * 10)


def case_ofo_fin_data_beyond(c):
    yield from connect(c)
    yield from seg(c, "[10,15)+FIN@15 ofo", 10, b"B" * 5, flags="FPA")
    yield from seg(c, "[20,25) beyond the FIN", 20, b"X" * 5)
    yield from seg(c, "[0,10)", 0, b"A" * 10)


def ofo_fin_then(off):
    def fn(c):
        yield from connect(c)
        yield from seg(c, "[10,15)+FIN@15 ofo", 10, b"B" * 5, flags="FPA")
        yield from seg(c, f"[{off},{off + 5}) after it", off, b"X" * 5)
        yield from seg(c, "[0,10)", 0, b"A" * 10)
    return fn


def case_two_ofo_fins(c):
    yield from connect(c)
    yield from seg(c, "[10,15)+FIN@15 ofo", 10, b"B" * 5, flags="FPA")
    yield from seg(c, "[10,20)+FIN@20 ofo", 10, b"C" * 10, flags="FPA")
    yield from seg(c, "[0,10)", 0, b"A" * 10)


def case_data_past_fin(c):
    yield from connect(c)
    yield from seg(c, "[0,10)+FIN", 0, b"A" * 10, flags="FPA")
    yield from seg(c, "[11,16) past the FIN", 11, b"X" * 5)
    yield from seg(c, "[10,15) at the FIN", 10, b"Y" * 5)


def case_dsack_below(c):
    yield from connect(c)
    yield from seg(c, "[0,10)", 0, b"A" * 10)
    yield from seg(c, "[0,10) again", 0, b"A" * 10)


def case_dsack_above(c):
    yield from connect(c)
    yield from seg(c, "[10,20) ofo", 10, b"B" * 10)
    yield from seg(c, "[10,20) again (above RCV.NXT)", 10, b"B" * 10)
    yield from seg(c, "[12,15) inside it", 12, b"B" * 3)


def case_paws_wrap(c):
    c.tsval = (1 << 32) - 3      # our TSvals cross 2^32 during the case
    yield from connect(c)
    yield from seg(c, "TSval wraps to 0", 0, b"A" * 4)
    c.tsval = 5
    yield from seg(c, "TSval after the wrap", 4, b"B" * 4)
    c.tsval = (6 - (1 << 31) + 1) & M32   # older than TS.Recent by 2^31-1: PAWS
    yield from seg(c, "TSval 2^31-1 older (PAWS)", 8, b"C" * 4)
    c.tsval = 6 + (1 << 31) - 2           # newer by 2^31-1
    yield from seg(c, "TSval 2^31-1 newer", 8, b"D" * 4)


def case_paws_rst(c):
    yield from connect(c)
    c.tsval = 10
    yield from seg(c, "old TSval on data", 0, b"A" * 4)
    yield from probe(c, "RST with old TSval at RCV.NXT", "R", seq=at(c, 0))


def case_tsecr_delayed(c):
    c.ecr_rule = True   # Linux may ACK each segment, synmill delays: judge each TSecr by the RFC
    yield from connect(c)
    # A first segment lets the kernel app accept and leave quick-ack mode (TCP_QUICKACK 0); no
    # PSH: Linux ACKs at once when the reader empties a queue of small pushed segments.
    yield from seg(c, "[0,4)", 0, b"W" * 4, flags="A", wait=0.5)
    c.send("A", seq=at(c, 4), payload=b"A" * 10)
    c.send("A", seq=at(c, 14), payload=b"B" * 10)
    yield from settle(c, "two segments, one delayed ACK", 0.5)


def case_keepalive(c):
    yield from connect(c)
    yield from seg(c, "[0,10)", 0, b"A" * 10)
    yield from probe(c, "keep-alive SND.NXT-1 len 0", "A", seq=at(c, 9))
    yield from probe(c, "keep-alive SND.NXT-1 len 1", "A", seq=at(c, 9), payload=b"\0")


def case_keepalive_idle(c):
    yield from connect(c)
    yield from probe(c, "keep-alive right after the handshake", "A", seq=at(c, -1))


def case_urgent(c):
    yield from connect(c)
    yield from seg(c, "URG, pointer at the end", 0, b"abc", flags="PAU", urgptr=3)
    yield from seg(c, "URG, pointer beyond the data", 3, b"def", flags="PAU", urgptr=100)
    yield from seg(c, "URG, pointer 0", 6, b"ghi", flags="AU", urgptr=0)


def http_case(*reqs):
    def fn(c):
        yield from connect(c)
        off = 0
        for r in reqs:
            yield from seg(c, repr(r)[:40], off, r, wait=0.5)
            off += len(r)
    return fn


FAMILIES = [
    ("reasm hole then fill", "echo", case_reasm_hole, False),
    ("reasm overlap of two ofo segments, different bytes", "echo", case_reasm_overlap_ofo, False),
    ("reasm ofo segment covered by a later one", "echo", case_reasm_overlap_ofo_covering, False),
    ("reasm overlap of delivered data, different bytes", "echo", case_reasm_overlap_delivered, False),
    ("reasm ofo FIN", "echo", case_ofo_fin, False),
    ("reasm ofo FIN then data beyond it", "echo", case_ofo_fin_data_beyond, False),
    ("reasm ofo FIN then data at its sequence number", "echo", ofo_fin_then(15), False),
    ("reasm ofo FIN then data right after it", "echo", ofo_fin_then(16), False),
    ("reasm two ofo FINs", "hold", case_two_ofo_fins, False),
    ("reasm two ofo FINs, echo", "echo", case_two_ofo_fins, False),
    ("reasm data past FIN", "hold", case_data_past_fin, False),
    ("reasm+ts hole then fill (SACK)", "echo", case_reasm_hole, True),
    ("reasm+ts ofo FIN then data beyond it", "echo", case_ofo_fin_data_beyond, True),
    ("reasm+ts D-SACK below RCV.NXT", "discard", case_dsack_below, True),
    ("reasm+ts D-SACK above RCV.NXT", "discard", case_dsack_above, True),
    ("ts PAWS across the TSval wrap", "echo", case_paws_wrap, True),
    ("ts RST not subject to PAWS", "echo", case_paws_rst, True),
    ("ts TSecr of a delayed ACK", "sink", case_tsecr_delayed, True),
    ("keepalive probes", "discard", case_keepalive, False),
    ("keepalive+ts probes", "discard", case_keepalive, True),
    ("keepalive probe after the handshake", "discard", case_keepalive_idle, False),
    ("urg urgent data inline", "echo", case_urgent, False),
    ("http GET", "http", http_case(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), False),
    ("http two requests, keep-alive", "http",
     http_case(b"GET / HTTP/1.1\r\n\r\n", b"GET /b HTTP/1.1\r\n\r\n"), False),
    ("http Connection: close", "http", http_case(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), False),
    ("http HTTP/1.0", "http", http_case(b"GET / HTTP/1.0\r\n\r\n"), False),
    ("http bare LF before the request line", "http", http_case(b"\nGET / HTTP/1.1\r\n\r\n"), False),
    ("http CRLF before the request line", "http", http_case(b"\r\nGET / HTTP/1.1\r\n\r\n"), False),
]


def misc_cases(next_port, rng):
    return [Case(cid, app, fn, ts=ts, sport=next_port(), iss=rng.randrange(1 << 32)) for cid, app, fn, ts in FAMILIES]


# ---- sender behaviour (group "sender": short RTOs on both sides) ---------------------------------

RTO_WAIT = 4.6   # one RTO on both sides (3 s, then backed off to 6 s: see SENDER_*)


def their(c, off):
    return (c.their_iss + 1 + off) & M32


def sent(c):
    """Bytes of data they have sent so far (their SND.NXT as we saw it, less SYN)."""
    return (c.their_nxt - c.their_iss - 1) & M32


def ack_to(c, label, off, window=8192, wait=0.5, **kw):
    return probe(c, label, "A", ack=their(c, off), window=window, wait=wait, **kw)


def case_small_window(c):
    yield from connect(c, window=1000)
    yield from settle(c, "first flight into a 1000-byte window")
    yield from settle(c, "no ACK: RTO, retransmission of what fits", RTO_WAIT)
    yield from ack_to(c, "ACK all sent, window 1000", sent(c), window=1000)


def case_shrinking_window(c):
    yield from connect(c, window=4000)
    yield from settle(c, "first flight into 4000")
    yield from ack_to(c, "ACK 1000, window 500 (right edge moves left)", 1000, window=500)
    yield from settle(c, "RTO with the shrunk window", RTO_WAIT)
    yield from ack_to(c, "ACK 1500, window 8192", 1500)


def case_zero_window(c):
    yield from connect(c, window=2000)
    yield from settle(c, "first flight into 2000")
    yield from ack_to(c, "ACK all sent, window 0", sent(c), window=0)
    yield from settle(c, "zero-window probes", RTO_WAIT)
    yield from ack_to(c, "window opens: same ACK, window 3000", sent(c), window=3000)


def sack_opts(c, blocks):
    c.tsval = (c.tsval + 1) & M32
    flat = []
    for a, b in blocks:
        flat += [their(c, a), their(c, b)]
    return ([("SAck", tuple(flat))] if flat else []) + [("Timestamp", (c.tsval, c.their_ts))]


def sack_case(blocks_then):
    """send:8000 fills the first flight (cwnd 10 MSS); then ACKs with SACK blocks from blocks_then:
    a list of (label, ack offset, blocks); then waits for an RTO."""
    def fn(c):
        yield from connect(c)
        if not (yield Wait(lambda: c.their_nxt is not None and ((c.their_nxt - c.their_iss - 1) & M32) >= 8000, 4.0)):
            raise AssertionError("no first flight of 8000 bytes")
        yield Collect(0.1)
        c.inbox = []
        for label, off, blocks in blocks_then:
            yield from ack_to(c, label, off, options=sack_opts(c, blocks))
        yield from settle(c, "after an RTO", RTO_WAIT)
    return fn


S = MSS - 12   # their segment size with timestamps (1448 over IPv4, 1428 over IPv6)
SACK_FAMILIES = [
    ("sack block beyond SND.NXT", [("ACK 0, SACK [9000,9500)", 0, [(9000, 9500)])]),
    ("sack block below SND.UNA", [("ACK 2S", 2 * S, []), ("ACK 2S, SACK [0,S)", 2 * S, [(0, S)])]),
    ("sack block straddling SND.UNA", [("ACK S+12, SACK [S-400,3S)", S + 12, [(S - 400, 3 * S)])]),
    ("sack three dupACKs with SACK (fast retransmit)",
     [("dup 1, SACK [S,2S)", 0, [(S, 2 * S)]), ("dup 2, SACK [S,3S)", 0, [(S, 3 * S)]),
      ("dup 3, SACK [S,4S)", 0, [(S, 4 * S)])]),
    ("sack block starting at SND.UNA, then RTO", [("ACK 0, SACK [0,8000)", 0, [(0, 8000)])]),
    ("sack reneging: SACKed data later not SACKed",
     [("ACK 0, SACK [2S,8000)", 0, [(2 * S, 8000)]), ("ACK 0, no SACK", 0, [])]),
]


def sender_cases(next_port, rng):
    out = [Case("send small window (1000 < MSS)", "send:3000", case_small_window, sport=next_port(),
                iss=rng.randrange(1 << 32)),
           Case("send shrinking window", "send:8000", case_shrinking_window, sport=next_port(),
                iss=rng.randrange(1 << 32)),
           Case("send zero window, probes, reopening", "send:8000", case_zero_window, sport=next_port(),
                iss=rng.randrange(1 << 32))]
    for cid, steps in SACK_FAMILIES:
        out.append(Case(cid, "send:8000", sack_case(steps), ts=True, sport=next_port(), iss=rng.randrange(1 << 32)))
    return out


def all_rng(seed):
    return random.Random(seed)
