"""The differential engine: every case is played against synmill (on its tap)
and against the Linux kernel (linux_peer.py, over a veth) at the same time,
with the same packets adjusted for each side's ISN, and the two outcomes are
compared after normalisation.

A case is a generator function `fn(c)` over a DConn `c` (one per side): it
sends segments written relative to each side's own numbers (`c.their_iss`,
`c.their_nxt`, `c.their_ack`, `c.their_wnd`), yields Wait/Collect to let
time pass, and records what came back with `c.observe(label, segs)`. The
engine runs every case of a batch on both sides concurrently, reads each
side's final state (synmill: /synmill/state; Linux: `ss -tan`), and gives a
verdict: SAME, DEVIATION (a cited entry of deviations.py) or FAIL.

What counts as the same (normalise(); README "Differential"):
  - sequence numbers relative to the side's ISN (their SEQ to their ISS, their
    ACK and SACK blocks to our ISS); an RST with SEQ 0 stays 0; before a
    SYN-ACK (LISTEN) numbers are absolute (the probe's own, equal on both);
  - flags F S R A U compared; PSH, ECE, CWR ignored;
  - window values ignored except zero / non-zero (buffer sizes differ);
  - options: on SYN segments the set of kinds (MSS, WScale, SAckOK,
    Timestamp), values ignored; on others SACK blocks exactly, and the
    timestamps option's presence and TSecr exactly (both sides see the same
    TSvals from us); TSval ignored;
  - data: contiguous data segments of one step are merged (TSO/GSO and MSS
    choices differ), the bytes compared;
  - ACK timing: a pure ACK is dropped when a later segment of the same step
    acknowledges as much with the same SACK blocks (delayed vs immediate
    ACKs, an ACK piggybacked on data vs separate), so duplicate ACKs of one
    step count once;
  - timer retransmissions: in groups with `timer_rtx_filter` (long RTOs on
    both sides, but Linux's SYN and SYN-ACK timers are a fixed 1 s), a
    segment occupying sequence space (SYN, FIN, data) from Linux identical to
    one it sent before, arriving more than RTX_GAP after our last segment, is
    a timer retransmission and not part of the reply; in groups with
    `dedupe` (sender behaviour, where RTO values differ) exact duplicates
    within a step count once;
  - state: CLOSED and LISTEN (no connection for the 4-tuple) are the same.
"""
import os
import time
import zlib

from peer import M32, Conn, fl, sgt

REPLY_WINDOW = 0.35   # seconds collected after each probe (Linux's delayed ACK is 40..200 ms)
# SYNMILL_DIFF_RAW=1: every pure ACK is kept (for looking at one case's ACK timing by hand).
RAW = os.environ.get("SYNMILL_DIFF_RAW") == "1"
RTX_GAP = 0.25        # a SYN/FIN/data duplicate later than this after our last send is a timer's


class Wait:
    def __init__(self, pred, timeout=3.0):
        self.pred, self.timeout = pred, timeout


class Collect:
    def __init__(self, seconds=REPLY_WINDOW):
        self.seconds = seconds


def rel(x, base):
    if base is None:
        return x
    return (x - base) & M32


def signed(v):
    return v - (1 << 32) if v >= (1 << 31) else v


class DConn(Conn):
    """Conn on one side of the differential run. active: synmill/Linux opened the connection
    (their ports differ, ours is fixed): segments are told apart by their port."""

    def __init__(self, side, net, sport, dport, iss, ts=False, active=False):
        super().__init__(net, sport, dport, iss, ts)
        self.side = side
        self.active = active
        self.inbox = []
        self.obs = []
        self.last_send = time.time()
        self.probe_seq = None
        self.probe_flags = ""
        self.fin_edges = set()   # our FINs' SEQ+1, relative to our ISS
        self.sent_tsval = {}     # our data segments' TSvals by SEQ relative to our ISS (first copy)
        self.ecr_rule = False    # TSecr judged by RFC 7323 §4.3 (see norm_seg)

    def take(self):
        if self.active:
            segs = self.net.by_port.get(self.sport, [])
            mine = [t for t in segs if t.sport == self.dport]
            self.net.by_port[self.sport] = [t for t in segs if t.sport != self.dport]
        else:
            mine = self.net.take(self.sport)
        for t in mine:
            if getattr(t, "time_rx", None) is None:
                t.time_rx = time.time()
            t.before = list(self.seen)
            t.probe_seq = self.probe_seq
            t.probe_flags = self.probe_flags
            self.learn([t])
        self.inbox += mine
        return mine

    def send(self, flags, seq=None, ack=None, payload=b"", options=None, **kw):
        super().send(flags, seq=seq, ack=ack, payload=payload, options=options, **kw)
        if self.ts and payload and "R" not in flags:
            self.sent_tsval.setdefault(rel(self.snd_nxt if seq is None else seq, self.iss), self.tsval)
        self.last_send = time.time()
        self.probe_seq = self.snd_nxt if seq is None else seq
        self.probe_flags = flags
        if "F" in flags:
            self.fin_edges.add(rel(self.probe_seq + len(payload) + 1, self.iss))

    def observe(self, label, segs, group):
        self.obs.append((label, normalise(segs, self, group)))


# ---- normalisation -----------------------------------------------------------------------------

def _opts(t):
    return [o for o in t.options if isinstance(o, tuple) and len(o) == 2]


def norm_seg(t, c):
    f = "".join(ch for ch in fl(t) if ch in "FSRA")
    if int(t.flags) & 0x20:
        f += "U"
    opts = dict(_opts(t))
    seq = 0 if ("R" in f and t.seq == 0) else rel(t.seq, c.their_iss)
    ack = rel(t.ack, c.iss) if "A" in f else None
    if ack is not None and ("S" in f or "R" in f) and t.probe_seq is not None and \
            0 <= (t.ack - t.probe_seq) & M32 <= 3000:
        # <ACK=SEG.SEQ+...> of a SYN-ACK or RST: relative to the probe, whose SEQ can depend on
        # the side's own window (positions RCV.NXT+RCV.WND...).
        ack = f"P+{(t.ack - t.probe_seq) & M32}"
    d = {"f": f, "seq": seq, "ack": ack, "len": len(t.data),
         "data": bytes(t.data), "win0": t.window == 0}
    if "S" in f:
        d["opts"] = tuple(sorted(k for k in opts if k in ("MSS", "WScale", "SAckOK", "Timestamp")))
    else:
        # A block whose right edge includes one of our FINs ends before it: SACK blocks report data
        # (RFC 2018 §3); Linux counts the FIN in, synmill does not.
        d["sack"] = tuple((rel(a, c.iss), rel(b, c.iss) - (rel(b, c.iss) in c.fin_edges)) for a, b in
                          (opts.get("SAck") and zip(opts["SAck"][::2], opts["SAck"][1::2]) or []))
        d["ecr"] = opts["Timestamp"][1] if "Timestamp" in opts else None
        if not c.group.ecr and d["ecr"] is not None:
            d["ecr"] = "ts"
        elif c.ecr_rule and d["ecr"] is not None and d["ack"] is not None:
            # Cases about ACK timing: each side's TSecr against RFC 7323 §4.3 for its own ACKs,
            # the TSval of our segment that started at its previous ACK (Last.ACK.sent).
            prev = [rel(b.ack, c.iss) for b in t.before if int(b.flags) & 0x10]
            want = c.sent_tsval.get(prev[-1]) if prev else None
            if want is not None and d["ecr"] == want:
                d["ecr"] = "rfc7323"
    return d


def _key(d):
    return (d["f"], d["seq"], d["len"])


def normalise(segs, c, group):
    out = []
    for t in segs:
        d = norm_seg(t, c)
        occupies = d["len"] or "S" in d["f"] or "F" in d["f"]
        if group.timer_rtx_filter and c.side == "linux" and occupies and \
                any(_key(norm_seg(b, c)) == _key(d) for b in t.before) and \
                (t.time_rx - c.last_send > RTX_GAP or (d["f"] in ("F", "FA") and not d["len"]) or
                 ("S" in d["f"] and not (t.probe_flags == "S" and d["ack"] == "P+1"))):
            # A timer's retransmission: late after our last segment; a bare FIN again (no segment
            # of ours draws a FIN retransmission in these groups: their RTOs are 20 s); or a
            # SYN(-ACK) again although our segment was no plain SYN at IRS, the only one Linux
            # answers with its SYN-ACK again (tcp_check_req; its SYN-ACK timer is a fixed 1 s).
            continue
        out.append(d)
    if group.dedupe:
        seen, uniq = set(), []
        for d in out:
            k = _key(d) + (d.get("sack"),)
            if k not in seen:
                seen.add(k)
                uniq.append(d)
        out = uniq
    merged = []
    for d in out:
        p = merged[-1] if merged else None
        # Contiguous data is one stream; a bare FIN right after data goes with it (FIN piggybacked on
        # the last data segment or sent alone is the same).
        if p and p["len"] and (d["len"] or d["f"] in ("FA", "F")) and not set(p["f"]) & set("SRF") and \
                not set(d["f"]) & set("SR") and d["seq"] == (p["seq"] + p["len"]) & M32:
            p.update(f="".join(sorted(set(p["f"]) | set(d["f"]), key="FSRAU".index)), data=p["data"] + d["data"],
                     len=p["len"] + d["len"], ack=d["ack"] if d["ack"] is not None else p["ack"],
                     sack=d.get("sack", ()), win0=d["win0"])
            continue
        merged.append(dict(d))
    final = []
    for i, d in enumerate(merged):
        if d["f"] == "A" and not d["len"] and not RAW:
            later = merged[i + 1:]
            if any(isinstance(q["ack"], int) and not sgt(d["ack"], q["ack"]) and
                   (not d.get("sack") or d.get("sack") == q.get("sack")) for q in later):
                continue
        final.append(d)
    return tuple(show_seg(d, group.coarse) for d in final)


def show_seg(d, coarse=False):
    s = f"<{d['f']} seq={signed(d['seq']) if d['seq'] else 0}"
    if d["ack"] is not None:
        s += f" ack={d['ack'] if isinstance(d['ack'], str) else signed(d['ack'])}"
    if coarse:
        return s + ">"
    if d["len"]:
        s += f" len={d['len']} data={d['data'][:24]!r}" + ("..." if d["len"] > 24 else "") + \
             f"#{zlib.crc32(d['data']) & 0xffff:04x}"
    if "opts" in d:
        s += " opts=" + ",".join(d["opts"])
    if d.get("sack"):
        s += " sack=" + ",".join(f"{signed(a)}-{signed(b)}" for a, b in d["sack"])
    if d.get("ecr") is not None:
        s += f" ecr={d['ecr']}"
    if d["win0"]:
        s += " win=0"
    return s + ">"


# ---- running a batch ---------------------------------------------------------------------------

class Case:
    """cid: the case's name; app: which listener (diff_cases.APPS) or None for active opens; fn(c): the
    generator; ts: window scale + SACK-permitted + timestamps on our SYN; dport: for active opens,
    the other side's port (40000 + i); sport fixed then (the port it connects to)."""

    def __init__(self, cid, app, fn, ts=False, active=False, sport=None, dport=None, iss=None, data=None):
        self.cid, self.app, self.fn, self.ts = cid, app, fn, ts
        self.active, self.sport, self.dport, self.iss = active, sport, dport, iss
        self.data = data   # anything the reporter wants to show (random mode: the sequence)


class Group:
    """Settings for the comparison (see normalise)."""

    def __init__(self, timer_rtx_filter=True, dedupe=False, coarse=False, ecr=True):
        self.timer_rtx_filter, self.dedupe, self.coarse, self.ecr = timer_rtx_filter, dedupe, coarse, ecr


class Task:
    def __init__(self, side, conn, gen):
        self.side, self.c, self.gen = side, conn, gen
        self.req = None
        self.t0 = 0.0
        self.done = False
        self.error = None

    def advance(self, value):
        try:
            self.req = self.gen.send(value)
            self.t0 = time.monotonic()
            if self.req is None:
                self.req = Collect(0)
        except StopIteration:
            self.done = True
        except AssertionError as e:
            self.done = True
            self.error = str(e)
        except Exception as e:  # a broken case must not stop the others
            self.done = True
            self.error = f"case raised {e!r}"


def play(sides, cases, group, ports):
    """Runs every case on every side (sides: {name: (stack, port_of_app)}); returns
    {cid: {side: (obs, state, error, conn)}}."""
    tasks = []
    for name, (stack, port_of) in sides.items():
        for k in cases:
            if k.active:
                c = DConn(name, stack.net, k.sport, k.dport, k.iss, ts=k.ts, active=True)
            else:
                c = DConn(name, stack.net, k.sport, port_of(k.app), k.iss, ts=k.ts)
            c.group = group
            t = Task(name, c, k.fn(c))
            t.case = k
            tasks.append(t)
    for t in tasks:
        t.advance(None)
    nets = {id(stack.net): stack.net for stack, _ in sides.values()}
    while not all(t.done for t in tasks):
        for n in nets.values():
            n.pump(0.005)
        now = time.monotonic()
        for t in tasks:
            if t.done:
                continue
            t.c.take()
            r = t.req
            if isinstance(r, Wait):
                ok = r.pred()
                if ok or now - t.t0 > r.timeout:
                    t.advance(bool(ok))
            elif isinstance(r, Collect):
                if now - t.t0 >= r.seconds:
                    segs, t.c.inbox = t.c.inbox, []
                    t.advance(segs)
    for n in nets.values():
        n.pump(0.02)
    result = {k.cid: {} for k in cases}
    for name, (stack, _) in sides.items():
        mine = [t for t in tasks if t.side == name]
        states = stack.states_of([(t.c.sport, t.c.dport) for t in mine])
        for t in mine:
            st = states[(t.c.sport, t.c.dport)]
            st = "CLOSED" if st in ("LISTEN", "CLOSED") else st
            result[t.case.cid][name] = (tuple(t.c.obs), st, t.error, t.c)
    # Leave nothing behind: RST every connection still open (on both sides).
    for t in tasks:
        c = t.c
        if c.their_ack is not None:
            c.send("R", seq=c.their_ack)
    for n in nets.values():
        n.pump(0.02)
        n.by_port.clear()
    return result


# ---- helpers for case generators ---------------------------------------------------------------

def connect(c, syn_opts=None, window=8192, data_on_ack=b""):
    """Three-way handshake from our side; asserts a SYN-ACK."""
    c.send("S", window=window, options=syn_opts)
    c.snd_nxt += 1
    ok = yield Wait(lambda: c.their_iss is not None, 3.0)
    if not ok:
        raise AssertionError("no SYN-ACK")
    c.send("A" if not data_on_ack else "PA", payload=data_on_ack, window=window)
    c.snd_nxt += len(data_on_ack)
    # Let the handshake's ACK land before the next segment (a SYN right behind it would otherwise
    # meet Linux's request socket if the two are reordered on the veth).
    c.inbox = []
    early = yield Collect(0.05)
    c.inbox = early + c.inbox   # what came meanwhile (a first flight) belongs to the next step


def probe(c, label, flags, seq=None, ack=None, payload=b"", wait=REPLY_WINDOW, advance=False, **kw):
    """Sends one segment, collects for `wait` s and records the replies under `label`."""
    c.send(flags, seq=seq, ack=ack, payload=payload, **kw)
    if advance:
        c.snd_nxt = ((seq if seq is not None else c.snd_nxt) + len(payload) + ("F" in flags) +
                     ("S" in flags)) & M32
    segs = yield Collect(wait)
    c.observe(label, segs, c.group)
    return segs


def settle(c, label, wait=REPLY_WINDOW):
    segs = yield Collect(wait)
    c.observe(label, segs, c.group)
    return segs
