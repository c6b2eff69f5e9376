"""Where synmill differs from Linux on purpose: each entry names the cases
(a regular expression over the case id), the exact difference it explains
(a predicate over both outcomes, so that another difference in the same case
still fails), the RFC text, and why synmill's choice is better or equal.

An outcome is (observations, state): observations is a tuple of (label,
replies) per step, replies a tuple of normalised segments as diff.show_seg
prints them ("<A seq=1 ack=1>", "<R seq=5>", ...); state as the stacks name it.
"""
import re


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


def match(cid, sm, lx):
    for d in TABLE:
        if d.matches(cid, sm, lx):
            return d
    return None
