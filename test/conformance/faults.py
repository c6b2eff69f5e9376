"""Faults an independent peer found (issue 11), replayed over the tap, each
checked on the wire (and in /synmill/state, /synmill/stats):

- an out-of-order FIN fixes the end of the stream: data past it and a second
  FIN elsewhere are not taken (RFC 9293 §3.10.7.4 eighth; Linux tcp_fin
  purges the out-of-order queue);
- a peer window below one MSS, from the start or shrunk, still gets
  retransmissions after an RTO (RFC 9293 §3.8.6.2.1; Linux retransmits
  min(MSS, window));
- after an RTO the segment at SND.UNA goes again even though a SACK block
  starting at SND.UNA claimed it (RFC 2018 §8);
- a delayed ACK covering two segments echoes the earlier TSval (RFC 7323 §4.3);
- a duplicate segment above RCV.NXT gets a D-SACK block, the block holding it
  second (RFC 2883 §4);
- the http app ignores empty lines before a request line (RFC 9112 §2.2).
"""
import time

from peer import MSS, Conn, describe, fl, seg_len, wait_for

M32 = (1 << 32) - 1
PORT_ECHO, PORT_DISCARD, PORT_HTTP = 7, 9, 80
PORT_SEND4K, PORT_SEND8K = 8003, 8004
LISTEN_ARGS = f"{PORT_ECHO}:echo,{PORT_DISCARD}:discard,{PORT_HTTP}:http,{PORT_SEND4K}:send:4000,{PORT_SEND8K}:send:8000"
# Short RTOs: the sender cases wait for a timeout. 40 ms delayed ACKs (the default).
EXTRA_ARGS = ["--rcv-wnd", "8192", "--rto-initial", "300", "--rto-min", "300", "--rto-max", "2000"]


def open_conn(net, next_port, dport, ts=False, window=8192, mss=MSS):
    c = Conn(net, next_port(), dport, 0x0B000000 + next_port() * 7, ts=ts)
    opts = None if ts else [("MSS", mss)]
    c.send("S", window=window, options=opts)
    c.snd_nxt += 1
    if wait_for(net, [c], lambda z: z.their_iss is not None):
        raise AssertionError(f"no SYN-ACK on port {dport}")
    c.send("A", window=window)
    net.pump(0.05)
    c.early = c.take()  # what synmill sent right after the handshake (send:N's first flight)
    return c


def stream(c, segs):
    """synmill's in-order bytes from its ISS + 1 (retransmissions counted once) and whether its FIN came."""
    got = {}
    fin_at = None
    for t in segs:
        if t.data:
            got.setdefault((t.seq - c.their_iss - 1) & M32, t.data)
        if int(t.flags) & 0x01:
            fin_at = (t.seq + len(t.data) - c.their_iss - 1) & M32
    out = bytearray()
    while len(out) in got:
        out += got[len(out)]
    return bytes(out), fin_at is not None and fin_at == len(out)


def ts_opts(c, sack=None):
    """Timestamps (TSval +1) and optional SACK blocks [(l, r), ...] for a ts=True connection."""
    c.tsval += 1
    o = [("NOP", None), ("NOP", None), ("Timestamp", (c.tsval, c.their_ts))]
    if sack:
        flat = []
        for l, r in sack:
            flat += [l & M32, r & M32]
        o += [("NOP", None), ("NOP", None), ("SAck", tuple(flat))]
    return o


def collect(net, c, secs):
    """What synmill sends to c within `secs` seconds."""
    got = []
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        net.pump(0.02)
        got += c.take()
    return got


def opt(t, name):
    for o in t.options:
        if isinstance(o, tuple) and len(o) == 2 and o[0] == name:
            return o[1]
    return None


def finish(c):
    c.send("R", seq=c.snd_nxt)


class Ctx:
    def __init__(self, sm, report, next_port, only):
        self.sm, self.net, self.report, self.next_port, self.only = sm, sm.net, report, next_port, only

    def selected(self, cid):
        return not self.only or any(k in cid for k in self.only)

    def verdict(self, cid, problems, detail):
        self.report(cid, "FAIL" if problems else "PASS", detail + ("; " + "; ".join(problems) if problems else ""))


# ---- 1. out-of-order FIN ----------------------------------------------------------------------------

def case_ooo_fin(x, past):
    cid = f"faults out-of-order FIN, data at FIN+{past - 8} and a second FIN: the first FIN ends the stream"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_ECHO)
    base = c.snd_nxt
    before = x.sm.stats()
    c.send("FA", seq=base + 4, payload=b"tail")      # FIN at base+8
    c.send("A", seq=base + past, payload=b"zzzz")    # beyond the FIN
    c.send("FA", seq=base + 40)                      # a second FIN elsewhere
    early = collect(net, c, 0.3)
    c.send("A", seq=base, payload=b"head")           # fills the hole
    late = collect(net, c, 0.6)
    after = x.sm.stats()
    state = x.sm.state(c.sport, PORT_ECHO)
    problems = []
    if any(t.ack != base & M32 for t in early if int(t.flags) & 0x10):
        problems.append(f"expected duplicate ACKs <ACK={base & M32}> before the hole filled")
    acks = [t.ack for t in late if int(t.flags) & 0x10]
    if not acks or acks[-1] != (base + 9) & M32:
        problems.append(f"expected <ACK={(base + 9) & M32}> (8 bytes and the FIN)")
    echoed, fin = stream(c, late)
    if echoed != b"headtail":
        problems.append(f"echo returned {echoed!r}, expected b'headtail'")
    if not fin:
        problems.append("no FIN from echo after the peer's FIN")
    if state not in ("LAST_ACK", "CLOSED"):
        problems.append(f"state {state}, expected LAST_ACK")
    drops = after.get("drop_past_fin", 0) - before.get("drop_past_fin", 0)
    if drops < 2:
        problems.append(f"drop_past_fin +{drops}, expected >= 2")
    x.verdict(cid, problems, f"before the hole: {describe(early)}; after: {describe(late)}; state {state}; "
                             f"drop_past_fin +{drops}")
    c.snd_nxt = base + 9
    finish(c)


# ---- 2. windows below one MSS ------------------------------------------------------------------------

def case_small_window(x):
    cid = "faults peer window 1000 < MSS: the RTO retransmits 1000 bytes, the 4000 bytes all arrive"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_SEND4K, window=1000)
    first = c.early + collect(net, c, 0.1)
    rtx = collect(net, c, 2.5)  # we do not acknowledge: the RTO (300 ms) fires
    start = (c.their_iss + 1) & M32
    problems = []
    data_first = [t for t in first if t.data]
    if not data_first or data_first[0].seq != start or len(data_first[0].data) > 1000:
        problems.append(f"expected a first segment <SEQ={start}> of at most 1000 bytes")
    again = [t for t in rtx if t.data and t.seq == start]
    if not again:
        problems.append("no retransmission of SND.UNA into the 1000-byte window")
    elif any(len(t.data) > 1000 for t in again):
        problems.append("a retransmission larger than the window")
    # Acknowledge in order until the FIN: every byte arrives.
    got = bytearray()
    nxt = start
    deadline = time.monotonic() + 15
    fin = False
    pending = first + rtx
    while time.monotonic() < deadline and not fin:
        for t in pending:
            if t.seq == nxt and t.data:
                got += t.data
                nxt = (nxt + len(t.data)) & M32
            if int(t.flags) & 0x01 and (t.seq + len(t.data)) & M32 == nxt:
                fin = True
                nxt = (nxt + 1) & M32
        c.send("A", ack=nxt, window=1000)
        pending = collect(net, c, 0.1)
    if len(got) != 4000 or not fin:
        problems.append(f"received {len(got)} of 4000 bytes, FIN {'seen' if fin else 'not seen'}")
    x.verdict(cid, problems, f"first {describe(first)}; while silent {describe(rtx)}; "
                             f"then {len(got)} bytes in order, FIN {fin}")
    finish(c)


def case_shrunk_window(x):
    cid = "faults peer shrinks its window to 500 < MSS: the RTO retransmits 500 bytes at SND.UNA"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_SEND8K, window=8192)
    flight = [t for t in c.early + collect(net, c, 0.2) if t.data]
    start = (c.their_iss + 1) & M32
    problems = []
    if len(flight) < 2:
        problems.append(f"expected a flight of several segments, got {describe(flight)}")
        x.verdict(cid, problems, "")
        finish(c)
        return
    una = (start + len(flight[0].data)) & M32
    c.send("A", ack=una, window=500)  # the first arrived; the window shrinks below one MSS
    rtx = [t for t in collect(net, c, 2.5) if t.data]
    first = rtx[0] if rtx else None
    if first is None or first.seq != una:
        problems.append(f"expected a retransmission <SEQ={una}>")
    elif len(first.data) > 500:
        problems.append(f"retransmission of {len(first.data)} bytes into a 500-byte window")
    x.verdict(cid, problems, f"flight {describe(flight)}; ACK {una} window 500; then {describe(rtx)}")
    finish(c)


# ---- 3. RTO and a SACK block at SND.UNA -------------------------------------------------------------

def case_rto_sacked_una(x):
    cid = "faults RTO retransmits SND.UNA although a SACK block starting at SND.UNA covers it (RFC 2018 §8)"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_SEND4K, ts=True)
    # The SACK must arrive before the first RTO (300 ms): a second timeout in
    # a row drops the scoreboard anyway (RFC 6675 §5.1), which hides the fault.
    flight = [t for t in c.early if t.data] or [t for t in collect(net, c, 0.05) if t.data]
    start = (c.their_iss + 1) & M32
    problems = []
    if not flight:
        x.verdict(cid, ["no data from send:4000"], "")
        finish(c)
        return
    first_len = len(flight[0].data)
    before = x.sm.stats()
    c.send("A", ack=start, options=ts_opts(c, [(start, start + first_len)]))
    # The first timeout must send SND.UNA; the fault sent nothing then and
    # SND.UNA only at the second, once the scoreboard was dropped.
    rtx = []
    timeouts = None
    deadline = time.monotonic() + 3.0
    while not rtx and time.monotonic() < deadline:
        net.pump(0.01)
        rtx = [t for t in c.take() if t.data]
        if rtx:
            # The worker publishes its counters after the loop that sent the
            # segment (at most once a millisecond), so a busy machine can read
            # them first: wait for the timeout to show, well inside the
            # backed-off second RTO (600 ms) that would make it 2.
            shown = time.monotonic() + 0.25
            while True:
                timeouts = x.sm.stats().get("rto_timeouts", 0) - before.get("rto_timeouts", 0)
                if timeouts >= 1 or time.monotonic() > shown:
                    break
                time.sleep(0.01)
    if not rtx:
        problems.append("no retransmission")
    else:
        if rtx[0].seq != start:
            problems.append(f"first retransmission <SEQ={rtx[0].seq}>, expected SND.UNA {start}")
        if timeouts != 1:
            problems.append(f"it came after {timeouts} timeouts, expected the first")
    x.verdict(cid, problems, f"flight {describe(flight)}; ACK {start} SACK [{start}, {start + first_len}); "
                             f"then {describe(rtx)} after {timeouts} RTO(s)")
    finish(c)


# ---- 4. TSecr of a delayed ACK ----------------------------------------------------------------------

def case_delayed_ack_tsecr(x):
    cid = "faults delayed ACK covering two segments echoes the earlier TSval (RFC 7323 §4.3)"
    if not x.selected(cid):
        return
    net = x.net
    detail = ""
    for attempt in range(3):  # if the 40 ms timer fires between the two segments the case says nothing
        c = open_conn(net, x.next_port, PORT_DISCARD, ts=True)
        base = c.snd_nxt
        o1 = ts_opts(c)
        o2 = ts_opts(c)
        t1, t2 = o1[2][1][0], o2[2][1][0]
        net.send(net.tcp(c.sport, PORT_DISCARD, "PA", base, c.their_nxt, b"ab", options=o1))
        net.send(net.tcp(c.sport, PORT_DISCARD, "PA", base + 2, c.their_nxt, b"cd", options=o2))
        c.snd_nxt = base + 4
        got = [t for t in collect(net, c, 0.4) if int(t.flags) & 0x10]
        finish(c)
        detail = f"TSvals {t1}, {t2}; got " + " ".join(
            f"<{fl(t)} ack={t.ack} tsecr={(opt(t, 'Timestamp') or (0, None))[1]}>" for t in got)
        if len(got) == 1 and got[0].ack == (base + 4) & M32:
            ecr = (opt(got[0], "Timestamp") or (0, None))[1]
            x.verdict(cid, [] if ecr == t1 else [f"TSecr {ecr}, expected {t1}"], detail)
            return
        if not got or got[-1].ack != (base + 4) & M32:
            x.verdict(cid, [f"expected an ACK of {(base + 4) & M32}"], detail)
            return
    x.verdict(cid, ["the two segments never shared one delayed ACK in 3 tries"], detail)


# ---- 5. D-SACK above RCV.NXT -----------------------------------------------------------------------

def case_dsack_above(x):
    cid = "faults duplicate above RCV.NXT: D-SACK block first, the block holding it second (RFC 2883 §4)"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_DISCARD, ts=True)
    base = c.snd_nxt
    before = x.sm.stats()
    net.send(net.tcp(c.sport, PORT_DISCARD, "PA", base + 10, c.their_nxt, b"BBBB", options=ts_opts(c)))
    first = collect(net, c, 0.2)
    net.send(net.tcp(c.sport, PORT_DISCARD, "PA", base + 10, c.their_nxt, b"BBBB", options=ts_opts(c)))
    dup = collect(net, c, 0.2)
    after = x.sm.stats()
    want = ((base + 10) & M32, (base + 14) & M32)
    problems = []
    blocks = []
    if len(dup) != 1:
        problems.append("expected one ACK for the duplicate")
    else:
        s = opt(dup[0], "SAck") or ()
        blocks = [(s[i], s[i + 1]) for i in range(0, len(s) - 1, 2)]
        if dup[0].ack != base & M32:
            problems.append(f"ACK {dup[0].ack}, expected {base & M32}")
        if blocks[:2] != [want, want]:
            problems.append(f"SACK blocks {blocks}, expected D-SACK {want} then {want}")
    d = after.get("dsack_sent", 0) - before.get("dsack_sent", 0)
    if d != 1:
        problems.append(f"dsack_sent +{d}, expected +1")
    x.verdict(cid, problems, f"first {describe(first)}; duplicate answered {describe(dup)} blocks {blocks}")
    finish(c)


# ---- 6. http: empty lines before the request line --------------------------------------------------

def case_http_empty_line(x, prefix, version, keep):
    cid = f"faults http {prefix!r} before 'GET / {version}': one response"
    if not x.selected(cid):
        return
    net = x.net
    c = open_conn(net, x.next_port, PORT_HTTP)
    c.send("PA", payload=prefix + f"GET / {version}\r\n\r\n".encode())
    c.snd_nxt += len(prefix) + len(f"GET / {version}\r\n\r\n")
    got = bytearray()
    fin = False
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        segs = collect(net, c, 0.1)
        for t in segs:
            got += t.data
            fin = fin or bool(int(t.flags) & 0x01)
        if segs:
            c.send("A", ack=c.their_nxt)
    problems = []
    n = bytes(got).count(b"HTTP/1.1 200 OK")
    if n != 1:
        problems.append(f"{n} responses, expected 1")
    want = b"Connection: keep-alive" if keep else b"Connection: close"
    if want not in got:
        problems.append(f"expected {want.decode()!r}")
    if fin == keep:
        problems.append("FIN " + ("sent" if fin else "not sent"))
    x.verdict(cid, problems, f"{n} response(s), {len(got)} bytes, FIN {fin}")
    finish(c)


def run(sm, report, next_port, only):
    x = Ctx(sm, report, next_port, only)
    for past in (8, 9, 30):
        case_ooo_fin(x, past)
    case_small_window(x)
    case_shrunk_window(x)
    case_rto_sacked_una(x)
    case_delayed_ack_tsecr(x)
    case_dsack_above(x)
    for prefix, version, keep in ((b"\n", "HTTP/1.1", True), (b"\r\n", "HTTP/1.1", True),
                                  (b"\r\n", "HTTP/1.0", False), (b"\n\r\n", "HTTP/1.0", False)):
        case_http_empty_line(x, prefix, version, keep)
