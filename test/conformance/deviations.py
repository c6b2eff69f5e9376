"""Where synmill differs from Linux on purpose: each entry names the cases
(a regular expression over the case id), the exact difference it explains
(a predicate over both outcomes, so that another difference in the same case
still fails), the RFC text, and why synmill's choice is better or equal.

An outcome is (observations, state): observations is a tuple of (label,
replies) per step, replies a tuple of normalised segments as diff.show_seg
prints them ("<A seq=1 ack=1>", "<R seq=5>", ...); state as the stacks name it.
"""
import re

from peer import MSS  # 1460 over IPv4, 1440 over IPv6: segment sizes in the predicates follow it

SEG_TS = MSS - 12  # a full segment with timestamps


def last(outcome):
    """The replies of the last step."""
    obs = outcome[0]
    return obs[-1][1] if obs else ()


def flags(outcome):
    """Flags of each reply of the last step: ('A',), ('R',), () ..."""
    return tuple(s[1:].split()[0] for s in last(outcome))


def silent(o):
    return flags(o) == ()


def acks(o):
    return flags(o) == ("A",)


class Deviation:
    """pattern: the cases; pred(sm, lx): the difference it explains; lx_pred(lx): what Linux does.
    State-table entries also require rfc_ok: synmill does what the RFC says."""

    def __init__(self, key, pattern, pred, rfc, why, lx_pred=None):
        self.key, self.re, self.pred, self.rfc, self.why = key, re.compile(pattern), pred, rfc, why
        self.lx_pred = lx_pred

    def matches(self, cid, sm, lx):
        if not self.re.search(cid) or not self.pred(sm, lx):
            return False
        if self.lx_pred is not None and not self.lx_pred(lx):
            return False
        return not cid.startswith("state") or rfc_ok(cid, sm)

    def cite(self):
        return f"[{self.key}] {self.rfc} -- {self.why}"


def strip(o, pattern):
    """The outcome with `pattern` removed from every reply (what the deviation explains)."""
    obs, state = o
    return tuple((label, tuple(re.sub(pattern, "", r) for r in rs)) for label, rs in obs), state


def same_except(pattern):
    return lambda sm, lx: strip(sm, pattern) == strip(lx, pattern)


def drop_replies(o, pattern):
    obs, state = o
    return tuple((label, tuple(r for r in rs if not re.search(pattern, r))) for label, rs in obs), state


def step(o, label):
    """The replies of the step called `label` (() when it sent nothing)."""
    return dict(o[0]).get(label, ())


def dupthresh_vs_rack(sm, lx):
    """sack three dupACKs: the same retransmission of SND.UNA, synmill's on the third duplicate ACK
    (RFC 6675 DupThresh), Linux's on the first (RACK); everything else the same."""
    d1, d2, d3 = "dup 1, SACK [S,2S)", "dup 2, SACK [S,3S)", "dup 3, SACK [S,4S)"
    rtx = step(sm, d3)
    return (sm[1] == lx[1] and rtx != () and rtx == step(lx, d1) and
            all(re.match(rf"<A seq=1 ack=1 len={SEG_TS} ", r) for r in rtx) and
            step(sm, d1) == step(sm, d2) == step(lx, d2) == step(lx, d3) == () and
            step(sm, "after an RTO") == step(lx, "after an RTO"))


def rto_fin_beyond_cwnd(sm, lx):
    """sack block starting at SND.UNA: after the RTO both resend SND.UNA; synmill also its FIN."""
    a, b = step(sm, "after an RTO"), step(lx, "after an RTO")
    return (sm[1] == lx[1] and step(sm, "ACK 0, SACK [0,8000)") == step(lx, "ACK 0, SACK [0,8000)") and
            len(a) == len(b) + 1 and a[:-1] == b and re.match(r"<FA seq=8001 ack=1( ecr=ts)?>$", a[-1]) is not None)


def frto(sm, lx):
    """send shrinking window: the RTO resends from SND.UNA into the 500-byte window (synmill 500 bytes,
    Linux the MSS - 1000 left of its first segment: 460 over IPv4, 440 over IPv6); on the ACK of 1500
    synmill goes back to SND.UNA, Linux (F-RTO) sends new data after its first two segments."""
    f, a, r, n = ("first flight into 4000", "ACK 1000, window 500 (right edge moves left)",
                  "RTO with the shrunk window", "ACK 1500, window 8192")
    rs, rl, ns, nl = step(sm, r), step(lx, r), step(sm, n), step(lx, n)
    return (sm[1] == lx[1] and step(sm, f) == step(lx, f) and step(sm, a) == step(lx, a) and
            len(rs) == len(rl) == 1 and rs[0].startswith("<A seq=1001 ack=1 len=500 ") and
            rl[0].startswith(f"<A seq=1001 ack=1 len={MSS - 1000} ") and ns != () and nl != () and
            ns[0].startswith("<A seq=1501 ack=1 ") and re.match(rf"<F?A seq={2 * MSS + 1} ack=1 ", nl[0]) is not None)


def repacketized(sm, lx):
    """Same replies but for the length (and so the bytes) of retransmissions that start at the same
    SEQ and differ by less than one segment (MSS - 12 bytes: 1448 over IPv4, 1428 over IPv6)."""
    if strip(sm, r" len=\d+ data=.*?#[0-9a-f]{4}") != strip(lx, r" len=\d+ data=.*?#[0-9a-f]{4}"):
        return False
    for (_, a), (_, b) in zip(sm[0], lx[0]):
        for x, y in zip(a, b):
            lx_, ly = re.search(r" len=(\d+)", x), re.search(r" len=(\d+)", y)
            if lx_ and ly and abs(int(lx_.group(1)) - int(ly.group(1))) >= SEG_TS:
                return False
    return True


def rfc_ok(cid, sm):
    """For state-table cases (\"state[+ts] STATE KIND @POS\"): synmill's outcome is the one the suite's
    own reading of the RFCs expects (states.expect: reply kind and next state). A deviation is only
    granted where synmill does what the RFC says."""
    m = re.match(r"^state(\+ts)? (\S+) (\S+) @(\S+)$", cid)
    if not m:
        return False
    import states
    ts, state, kind, pos = bool(m.group(1)), m.group(2), m.group(3), m.group(4)
    reply, nxt, _ = states.expect(state, kind, pos, ts)
    if states.deviation(state, kind, pos, ts):   # synmill's own cited deviations from the table
        return True
    want = {"NONE": [()], "ACK": [("A",)], "SYNACK": [("SA",)], "SYNACK_NEW": [("SA",)],
            "RST_SEGACK": [("R",)], "ANY": [(), ("A",), ("FA",), ("R",)]}[reply]
    no_tcb = {"CLOSED", "LISTEN"}
    return flags(sm) in want and (sm[1] == nxt or (sm[1] in no_tcb and nxt in no_tcb))


def state_dev(key, pattern, lx_pred, rfc, why):
    return Deviation(key, pattern, lambda sm, lx, cid=None: True, rfc, why, lx_pred)


SYNC = "(ESTABLISHED|FIN_WAIT_1|FIN_WAIT_2|CLOSE_WAIT|CLOSING|LAST_ACK|SYN_RCVD)"

TABLE = [
    state_dev(
        "FW2-MINISOCK", r"^state FIN_WAIT_2 (SYN|SYN-ACK|SYN-FIN|RST|RST-ACK) @",
        lambda lx: True,
        "RFC 5961 §3.2 (an RST not at RCV.NXT gets a challenge ACK), §4.2 (a SYN in a synchronised "
        "state gets a challenge ACK), RFC 9293 §3.10.7.4",
        "Linux moves an orphaned FIN-WAIT-2 into a time-wait mini-socket (tcp_timewait_state_process) that "
        "answers an in-window SYN or SYN-ACK with an RST and closes, takes any in-window RST, and ACKs an "
        "out-of-window RST; synmill keeps RFC 5961's checks in FIN-WAIT-2 as in every synchronised state: "
        "better (blind reset and SYN injection need the exact sequence number)"),
    state_dev(
        "WND-EDGE", rf"^state(\+ts)? {SYNC} \S+ @RCV\.NXT\+RCV\.WND$",
        lambda lx: True,
        "RFC 9293 §3.10.7.4 first check: acceptable if RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND",
        "SEG.SEQ = RCV.NXT+RCV.WND is outside the window: synmill answers it as unacceptable (an ACK; an RST "
        "dropped); Linux's tcp_sequence()/tcp_in_window() accept a zero-length segment at exactly "
        "RCV.NXT+RCV.WND (!after(seq, rcv_nxt + window)), one past the RFC's edge. synmill follows the RFC"),
    state_dev(
        "NO-ACK-OOW", rf"^state(\+ts)? {SYNC} (FIN|SYN-FIN) @RCV\.NXT-1$",
        lambda lx: silent(lx),
        "RFC 9293 §3.10.7.4 first check: an unacceptable segment gets an ACK (unless RST); the ACK-bit test "
        "comes fifth",
        "synmill checks the sequence number first and ACKs an old segment without ACK bit, as the RFC "
        "orders the checks; Linux drops segments without ACK before the sequence check (silent). Both "
        "leave the connection unchanged; synmill's ACK resynchronises a confused peer"),
    state_dev(
        "OLD-FIN", rf"^state(\+ts)? {SYNC} (FIN-ACK|RST|RST-ACK|FIN) @RCV\.NXT-1$",
        lambda lx: True,
        "RFC 9293 §3.10.7.4 first check: a segment with SEG.SEQ = RCV.NXT-1 and SEG.LEN = 1 is not acceptable "
        "(neither SEG.SEQ nor SEG.SEQ+SEG.LEN-1 is in the window); RFC 5961 §3.2: an RST must be at exactly "
        "RCV.NXT; RFC 2883: D-SACK reports duplicate data",
        "synmill ACKs and drops it. Linux's tcp_sequence() tests end_seq >= RCV.WUP, so a retransmitted FIN "
        "ending at RCV.NXT is acceptable: its ACK field is processed (FIN_WAIT_1 -> FIN_WAIT_2, CLOSING -> "
        "TIME_WAIT, LAST_ACK -> CLOSED), it is D-SACKed though it carries no data, and "
        "tcp_reset_check() accepts an RST at RCV.NXT-1 in CLOSE_WAIT, CLOSING and LAST_ACK. synmill's "
        "strict reading is equal for a correct peer (its FIN's ACK comes again at RCV.NXT) and gives blind "
        "RST injection one sequence number less"),
    state_dev(
        "OFO-FIN-ORPHAN", r"^state(\+ts)? (FIN_WAIT_1|FIN_WAIT_2) FIN-ACK @RCV\.NXT\+RCV\.WND-1$",
        lambda lx: flags(lx) == ("R",),
        "RFC 9293 §3.10.7.4 eighth: a FIN beyond RCV.NXT waits for the data before it; RFC 1122 §4.2.2.13: "
        "RST when data arrives that the application can no longer read",
        "an out-of-order FIN carries no data: synmill ACKs it (duplicate ACK) and keeps FIN-WAIT; Linux "
        "resets an orphaned FIN-WAIT connection on any segment ending after RCV.NXT "
        "(tcp_rcv_state_process: after(end_seq - fin, rcv_nxt)), a FIN alone included. synmill keeps "
        "a legitimate close going"),
    state_dev(
        "SYNRCVD-SYN", r"^state(\+ts)? SYN_RCVD (SYN|SYN-ACK|SYN-FIN) @RCV\.NXT(\+RCV\.WND-1)?$",
        lambda lx: flags(lx) in (("R",), ("RA",)) and lx[1] == "CLOSED",
        "RFC 9293 §3.10.7.4 fourth: a SYN in SYN-RECEIVED of a passive open returns the connection to "
        "LISTEN (RFC 5961 §4.2 keeps that exception)",
        "synmill drops the half-open entry silently; Linux (tcp_check_req -> embryonic_reset) drops it and "
        "sends an RST. Same state; synmill sends nothing toward a possibly spoofed source"),
    state_dev(
        "SYNRCVD-DUP-SYN", r"^state(\+ts)? SYN_RCVD (SYN|SYN-FIN) @RCV\.NXT-1$",
        lambda lx: True,
        "RFC 9293 §3.10.7.4 first check: SEG.SEQ = IRS is outside the window (an ACK)",
        "synmill treats a segment with SYN and no ACK at IRS in SYN-RECEIVED as a retransmitted SYN and "
        "sends the SYN-ACK again (lib/tcp/stack_input.cpp), as Linux does for a plain SYN within its "
        "rate limit; Linux drops a SYN+FIN there"),
    state_dev(
        "TW-ZERO-WND", r"^state(\+ts)? TIME_WAIT (ACK|FIN|FIN-ACK|RST|RST-ACK) @",
        lambda lx: lx[1] in ("TIME_WAIT", "CLOSED"),
        "RFC 9293 §3.10.7.4: TIME-WAIT accepts the whole advertised window",
        "synmill treats TIME-WAIT as a zero window like Linux but ACKs in-window ACK/FIN; Linux "
        "(tcp_timewait_state_process) ACKs only a retransmitted FIN. Both keep TIME-WAIT "
        "[state_matrix_test.cpp D2]"),
    state_dev(
        "TW-SYNFIN", r"^state(\+ts)? TIME_WAIT SYN-FIN @",
        lambda lx: silent(lx),
        "RFC 9293 §3.10.7.4 (TIME-WAIT: only a valid new SYN reopens, RFC 6191 §2)",
        "Linux takes a SYN+FIN above RCV.NXT as a new SYN: it ends TIME-WAIT, then its listener drops "
        "SYN+FIN (the connection's TIME-WAIT protection is gone); synmill ACKs and keeps TIME-WAIT: better"),
    state_dev(
        "TW-SYN", r"^state TIME_WAIT SYN @RCV\.NXT$",
        lambda lx: True,
        "RFC 6191 §2 (no timestamps): a SYN above the last sequence number seen may reopen TIME-WAIT",
        "synmill, like BSD, requires SEG.SEQ > RCV.NXT and ACKs the SYN at RCV.NXT "
        "[state_matrix_test.cpp D3]"),
    state_dev(
        "SACK-FIN", r"^state\+ts \S+ FIN-ACK @",
        lambda lx: any("sack=" in r for r in last(lx)),
        "RFC 2018 §3-4: SACK blocks report blocks of data received",
        "Linux SACKs an out-of-window FIN that carries no data (and D-SACKs an old one); synmill "
        "reports data only. The peer's retransmission is the same either way"),
    state_dev(
        "SYNFIN-LISTEN", r"^state(\+ts)? LISTEN SYN-FIN ",
        lambda lx: True,
        "RFC 9293 §3.10.7.2 third: a SYN is processed whatever else is set (the FIN later)",
        "synmill drops SYN+FIN to a listener (drop_bad_flags), as FreeBSD's net.inet.tcp.drop_synfin"),
]

TABLE += [
    Deviation(
        "TS-RECENT-RANGE", r"^(reasm\+ts D-SACK below RCV\.NXT|keepalive\+ts probes)$", same_except(r" ecr=\d+"),
        "RFC 7323 §4.3 (1): TS.Recent takes SEG.TSval only if SEG.SEQ =< Last.ACK.sent < SEG.SEQ+SEG.LEN",
        "a duplicate segment or keep-alive ending at RCV.NXT does not cover Last.ACK.sent: synmill keeps "
        "TS.Recent and echoes the earlier TSval; Linux applies §5.3 R3's left-edge test only "
        "(tcp_replace_ts_recent: !after(seq, rcv_wup)) and echoes the duplicate's. Equal: both are RFC text"),
    Deviation(
        "OVERLAP-BYTES", r"^reasm overlap of two ofo segments", same_except(r" data=.*#[0-9a-f]{4}"),
        "RFC 9293 §3.10.7.4 seventh / §3.3.1: no rule says which copy of overlapping out-of-order bytes wins",
        "where two out-of-order segments overlap with different bytes, synmill keeps the later copy, Linux "
        "the earlier (tcp_data_queue_ofo trims the newcomer). A correct sender never sends two different "
        "bytes for one sequence number; either choice is within the RFC"),
    Deviation(
        "FIRST-FIN", r"^reasm two ofo FINs(, echo)?$",
        lambda sm, lx: (sm[1] == lx[1] == "CLOSE_WAIT" and flags(sm) == flags(lx) == ("A",) or
                        sm[1] == lx[1] == "LAST_ACK" and flags(sm) == flags(lx) == ("FA",) and
                        re.search(r" len=15 ", last(sm)[0]) and re.search(r" len=20 ", last(lx)[0])) and
        sm[0][:-1] == lx[0][:-1] and
        re.search(r" ack=17\b", last(sm)[0]) and re.search(r" ack=22\b", last(lx)[0]),
        "RFC 9293 §3.10.7.4 eighth: the FIN fixes the end of the stream (issue 11 point 1)",
        "when a second out-of-order FIN at a later sequence number arrives in a segment that covers the "
        "first, Linux drops the covered queued segment (tcp_data_queue_ofo) and the later FIN wins; synmill "
        "keeps the first FIN, so the stream ends where the peer first said it does"),
    Deviation(
        "PAST-FIN-SACK", r"^reasm\+ts ofo FIN then data beyond it$",
        lambda sm, lx: sm[1] == lx[1] and last(sm) == last(lx) and sm[0][0] == lx[0][0] and
        step(lx, "[20,25) beyond the FIN") != () and
        step(sm, "[20,25) beyond the FIN") == tuple(r.replace("sack=21-26,", "sack=") for r in
                                                    step(lx, "[20,25) beyond the FIN")),
        "RFC 9293 §3.10.7.4 eighth: the FIN fixes the end of the stream (issue 11 point 1); RFC 2018 §4: "
        "SACK blocks report data received and queued",
        "bytes beyond an out-of-order FIN are no part of the stream: synmill drops them (drop_past_fin) and "
        "does not SACK them; Linux queues and SACKs them, then purges them when the FIN is reached (tcp_fin: "
        "skb_rbtree_purge), reneging on its SACK. Same ACK and state at the end; synmill never SACKs what "
        "it will not deliver"),
    Deviation(
        "DATA-AFTER-FIN", r"^reasm data past FIN$",
        lambda sm, lx: sm[1] == "CLOSE_WAIT" and lx[1] == "CLOSED" and flags(lx) == ("R",),
        "RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: \"This should not occur, since a FIN has been received from "
        "the remote side. Ignore the segment text.\"",
        "synmill ignores the text and ACKs, as the RFC says; Linux resets the connection on data beyond "
        "the peer's FIN (tcp_rcv_state_process, RCV_SHUTDOWN). The RFC's rule keeps the close graceful"),
    Deviation(
        "SYNSENT-FAST-RETRY", r"^syn_sent \S+ @ACK=ISS(\+2)?$",
        lambda sm, lx: drop_replies(lx, r"^<S seq=0 ") == sm,
        "RFC 9293 §3.10.7.3 first: an unacceptable ACK in SYN-SENT gets <SEQ=SEG.ACK><CTL=RST> (none if RST) "
        "and the segment is dropped",
        "synmill does that and retransmits its SYN at its RTO; Linux also re-arms the retransmission timer to "
        "its minimum (tcp_rcv_synsent_state_process: \"Previous FIN/ACK or RST/ACK might be ignored\") and "
        "sends the SYN again at once. Equal: an optimisation for a peer with stale state"),
    Deviation(
        "SIMOPEN-TS", r"^syn_sent (SYN|SYN-FIN)$", same_except(r"Timestamp,?"),
        "RFC 7323 §3.2: a TCP MAY send the TSopt in a <SYN,ACK> only if it received a TSopt in the <SYN>",
        "in a simultaneous open the peer's SYN carried no timestamps: synmill's SYN-ACK omits the TSopt, "
        "Linux's carries it. synmill follows the RFC"),
    Deviation(
        "RTX-REPACKETIZE", r"^sack ", lambda sm, lx: repacketized(sm, lx),
        "RFC 1122 §4.2.2.15: a TCP MAY repacketize on retransmission (RFC 9293 §3.8.1)",
        "both retransmit from the same sequence number; synmill sends a full segment from SND.UNA, Linux "
        "the rest of the segment it sent first (its skb boundaries). Same data, same recovery"),
    Deviation(
        "SACK-DUPTHRESH", r"^sack three dupACKs", dupthresh_vs_rack,
        "RFC 6675 §5 / RFC 5681 §3.2: loss recovery starts at DupThresh (3) duplicate ACKs or when IsLost() "
        "holds (more than (DupThresh - 1) x SMSS SACKed above); RFC 8985 (RACK-TLP) is an alternative",
        "synmill retransmits SND.UNA on the third duplicate ACK (two SACKed segments are not more than "
        "2 x SMSS); Linux 6.18 always detects loss by RACK (tcp_rack_detect_loss, whatever tcp_recovery "
        "says) and, with a reordering window of min_RTT/4 on a veth, resends on the first. Same segment "
        "resent; synmill's rule does not take reordering for loss [recovery_test.cpp IsLost case]"),
    Deviation(
        "RTO-FIN", r"^sack block starting at SND\.UNA, then RTO$", rto_fin_beyond_cwnd,
        "RFC 5681 §3.1: after an RTO cwnd is the loss window, 1 SMSS of data; RFC 6675 §5.1: after an "
        "RTO the sender retransmits what is not SACKed (the block [0,8000) stops before the FIN)",
        "after the RTO both resend SND.UNA; synmill's go-back-N then skips the SACKed bytes and resends "
        "its unSACKed FIN, which carries no octet of data; Linux counts cwnd in packets and sends the "
        "FIN on the next ACK. The FIN is one header; the close is not held back a round trip"),
    Deviation(
        "SHRINK-FRTO", r"^send shrinking window$", frto,
        "RFC 6298 §5.4 and RFC 5681 §3.1: after an RTO the sender retransmits from SND.UNA and slow-starts "
        "(go-back-N); RFC 5682 (F-RTO, Experimental) lets a sender that gets an ACK for data it did not "
        "retransmit declare the RTO spurious and send new data instead; RFC 1122 §4.2.2.15: repacketizing",
        "into the window shrunk to 500 the RTO resends from SND.UNA: synmill the 500 bytes the window "
        "allows, Linux the 460 left of its first segment; on the ACK of 1500 synmill resends from 1500, "
        "Linux (tcp_frto 2) sends new data. Same bytes reach the peer; synmill's is the Standards Track rule"),
    Deviation(
        "ZWND", r"^send zero window",
        lambda sm, lx: sm[1] == lx[1] and any(re.search(r" len=1 ", r) for r in dict(sm[0]).get(
            "zero-window probes", ())) and any(re.match(r"<A seq=\d+ ack=\d+>$", r) for r in dict(lx[0]).get(
                "zero-window probes", ())),
        "RFC 9293 §3.8.6.1: the sender probes a zero window by sending at least one octet of new data; "
        "§3.8.6.2.1: sender SWS avoidance (send a partial segment only when it is at least Fs x Max(SND.WND) "
        "or the override timeout fires)",
        "synmill probes with one new octet and holds a sub-MSS tail that is less than half the largest "
        "window offered (so its first flight into 2000 bytes is 1460); Linux (TCP_NODELAY) sends the tail at "
        "once and probes with a pure ACK at SND.UNA-1 (tcp_xmit_probe_skb). Both keep the window honest; "
        "synmill's are the RFC's own mechanisms"),
    Deviation(
        "SUBMSS-HALF-WND", r"^send small window",
        lambda sm, lx: sm[1] == lx[1] and any(re.match(r"<A seq=1 ack=1 len=1000 ", r) for r in dict(sm[0]).get(
            "no ACK: RTO, retransmission of what fits", ())) and any(re.match(r"<A seq=1 ack=1 len=500 ", r)
                                                                     for r in dict(lx[0]).get(
            "no ACK: RTO, retransmission of what fits", ())),
        "RFC 9293 §3.8.6.2.1: after the override timeout the sender sends what the window allows",
        "into a peer window of 1000 bytes (below one MSS) synmill retransmits the 1000 bytes the window "
        "allows; Linux bounds its segments to half the largest window the peer offered "
        "(tcp_bound_to_half_wnd) and retransmits 500. Both progress"),
    # Random mode: the minimised reproducer's last segment is the one that differs.
    Deviation(
        "R-OLD-ACK", r" \S*ack=SND\.(UNA-1000|NXT-1)\S*$",
        lambda sm, lx: flags(lx) in (("A",), ()),
        "RFC 5961 §5.2: SEG.ACK is acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT",
        "an ACK a little below SND.UNA is acceptable (a duplicate) for synmill, which then processes the "
        "segment; Linux bounds MAX.SND.WND by the bytes acknowledged so far (tcp_ack: min(max_window, "
        "bytes_acked)), so early in a connection it challenges such an ACK and drops the segment. synmill "
        "follows the RFC's bound"),
    Deviation(
        "R-NO-TSOPT", r"^random#\d+ minimised \[\S+ ts\] .*tsval=none$",
        lambda sm, lx: silent(sm),
        "RFC 7323 §3.2: once timestamps are negotiated, a non-RST segment without TSopt SHOULD be silently "
        "dropped",
        "synmill drops it silently; Linux accepts segments without timestamps. synmill follows the RFC"),
    Deviation(
        "R-NO-ACK", r" (F|FP|-|FPU|U)@[^ ]*$",
        lambda sm, lx: silent(lx) and sm[1] == lx[1],
        "RFC 9293 §3.10.7.4: the sequence (and PAWS, RFC 7323 §5.3 R1) checks come first and an unacceptable "
        "segment gets an ACK; the ACK-bit test is fifth",
        "synmill ACKs an unacceptable segment without ACK bit; Linux drops segments without ACK bit before "
        "any other check. Same state"),
    Deviation(
        "R-WND-EDGE", r" \S+@RCV\.NXT\+WND(/\S*)?$",
        lambda sm, lx: True,
        "RFC 9293 §3.10.7.4 first check: acceptable if RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND",
        "as WND-EDGE: Linux accepts a segment at exactly RCV.NXT+RCV.WND and processes it (ACK field, "
        "data after close), synmill answers it as out of the window"),
    Deviation(
        "R-OFO-FIN-ORPHAN", r"^random#\d+ minimised \[send:0( ts)?\] .*FP?A@RCV\.NXT\+(WND-1|\d+)\S*$",
        lambda sm, lx: flags(lx) == ("R",),
        "as OFO-FIN-ORPHAN (RFC 9293 §3.10.7.4 eighth)",
        "Linux resets an orphaned FIN-WAIT connection on an out-of-order FIN; synmill ACKs it"),
    Deviation(
        "R-OLD-SEG", r" R\w*@RCV\.NXT-1/\S*len=1\S*$",
        lambda sm, lx: silent(sm) and acks(lx) and sm[1] == lx[1],
        "as OLD-FIN (RFC 9293 §3.10.7.4 first check; RFC 5961 §3.2)",
        "an RST carrying one byte at RCV.NXT-1 ends at RCV.NXT: not acceptable for synmill (dropped, as an "
        "out-of-window RST), acceptable for Linux's tcp_sequence(), which then sends a challenge ACK"),
    Deviation(
        "R-SYNRCVD-SYN", r"^random#\d+ minimised .* S\S*@\S+ S[AF]?@[^ ]*$",
        lambda sm, lx: silent(sm) and flags(lx) in (("R",), ("RA",)) and sm[1] == lx[1] == "CLOSED",
        "as SYNRCVD-SYN (RFC 9293 §3.10.7.4 fourth: SYN-RECEIVED of a passive open returns to LISTEN)",
        "synmill drops the half-open entry silently, Linux with an RST"),
    Deviation(
        "R-RST-FORM", r"^random#\d+ minimised ",
        lambda sm, lx: sm[1] == lx[1] == "CLOSED" and flags(sm) == ("RA",) and flags(lx) == ("R",),
        "RFC 9293 §3.5.2 / RFC 1122 §4.2.2.13: the reset's form in a synchronised state is not fixed",
        "both reset the connection for data after close; synmill sends <SEQ=SND.NXT><ACK=RCV.NXT><RST,ACK>, "
        "Linux <SEQ=SEG.ACK><RST>. Both are at the peer's RCV.NXT, so both are accepted (RFC 5961 §3.2)"),
]


def match(cid, sm, lx):
    for d in TABLE:
        if d.matches(cid, sm, lx):
            return d
    return None
