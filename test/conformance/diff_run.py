"""The differential groups, their report and totals (called by conformance.py
inside the conformance namespace).

Groups: "diff" (state table, reassembly, timestamps, keep-alive, urgent, http,
random mode) on a synmill with long RTOs beside Linux with rto_min 20 s;
"diff-syn-sent" (both stacks open connections toward the peer); "diff-sender"
(windows and SACK, short RTOs on both sides).

Each case prints one line: SAME, DEVIATION (with its citation) or FAIL, the
case id, then synmill's and Linux's replies per step and their final states.
Totals: `differential: S same, D cited deviations, F failures`.
"""
import os
import socket

import deviations
import diff
import diff_cases as dc
import diff_random
from linux_peer import Linux
from peer import PEER_IP, Synmill, endpoint


def big_rcvbuf(net):
    """Hundreds of connections reply at once in a batch: a larger AF_PACKET receive buffer than the
    default, so no reply is lost while the peer parses."""
    try:
        net.s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        net.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)


class SynmillSide:
    """peer.Synmill with the interface diff.play wants."""

    def __init__(self, sm):
        self.sm, self.net = sm, sm.net
        big_rcvbuf(sm.net)

    def states_of(self, tuples):
        return {(s, d): self.sm.state(s, d) for s, d in tuples}


def fmt_outcome(o):
    obs, state, err, _ = o
    steps = " ; ".join(f"{label}: {' '.join(r) or '(nothing)'}" for label, r in obs)
    return f"{steps or '(no step)'} => {state}" + (f" [error: {err}]" if err else "")


def verdict(cid, out):
    sm, lx = out["synmill"], out["linux"]
    if sm[2] or lx[2]:
        if sm[2] == lx[2]:
            return "SAME", None
        return "FAIL", None
    if sm[0] == lx[0] and sm[1] == lx[1]:
        return "SAME", None
    d = deviations.match(cid, sm[:2], lx[:2])
    if d:
        return "DEVIATION", d
    return "FAIL", None


class Reporter:
    def __init__(self, report):
        self.report = report
        self.n = {"SAME": 0, "DEVIATION": 0, "FAIL": 0}
        self.used = {}

    def case(self, cid, out, extra=""):
        v, d = verdict(cid, out)
        self.n[v] += 1
        line = f"synmill: {fmt_outcome(out['synmill'])} | linux: {fmt_outcome(out['linux'])}{extra}"
        if d:
            self.used.setdefault(d.key, [d, 0])[1] += 1
            line += " -- deviation " + d.cite()
        self.report("diff " + cid, {"SAME": "PASS", "DEVIATION": "XFAIL", "FAIL": "FAIL"}[v], line,
                    label={"SAME": "SAME", "DEVIATION": "DEVIATE", "FAIL": "FAIL"}[v])
        return v

    def totals(self):
        print("differential deviations kept:")
        for key, (d, n) in sorted(self.used.items()):
            print(f"  {key} ({n} cases): {d.rfc}. {d.why}")
        line = (f"differential: {self.n['SAME']} same, {self.n['DEVIATION']} cited deviations, "
                f"{self.n['FAIL']} failures")
        return line


def batches(cases, size):
    for i in range(0, len(cases), size):
        yield cases[i:i + size]


def play_all(sides, cases, group, rep, size=96):
    for b in batches(cases, size):
        out = diff.play(sides, b, group, None)
        for k in b:
            rep.case(k.cid, out[k.cid])


def run(binary, logdir, report, next_port, only, random_n, random_len, seed):
    # Our frames toward Linux go through the veth's per-CPU backlog of the sending CPU: two sent
    # back to back from different CPUs can arrive reordered. One CPU (the last) for this process.
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(cpus)})
    try:
        return run_groups(binary, logdir, report, next_port, only, random_n, random_len, seed)
    finally:
        os.sched_setaffinity(0, cpus)


def run_groups(binary, logdir, report, next_port, only, random_n, random_len, seed):
    rep = Reporter(report)
    rng = dc.all_rng(seed)

    def want(cid):
        return not only or any(s in "diff " + cid for s in only)

    # Group 1: the listener apps, long RTOs.
    main_cases = [k for k in dc.state_table(next_port, rng) + dc.misc_cases(next_port, rng) if want(k.cid)]
    rand = diff_random.generate(seed, random_n, random_len, next_port) if random_n else []
    rand = [k for k in rand if want(k.cid)]
    if main_cases or rand:
        with Synmill(binary, "DX", dc.LISTEN, dc.SYNMILL_ARGS, logdir) as sm, \
                Linux("DX", dc.LISTEN_KERNEL, logdir=logdir) as lx:
            big_rcvbuf(lx.net)
            sides = {"synmill": (SynmillSide(sm), lambda a: dc.APPS[a]), "linux": (lx, lambda a: dc.APPS[a])}
            group = diff.Group(timer_rtx_filter=True)
            play_all(sides, main_cases, group, rep)
            if rand:
                diff_random.run(sides, rand, group, rep, next_port)
            check_alive(sm, lx, report)
    # Group 2: SYN-SENT, both stacks open 16 connections toward the peer.
    ss_cases = [k for k in dc.syn_sent_cases(rng) if want(k.cid)]
    if ss_cases:
        args = ["--connect", f"{endpoint(PEER_IP, dc.SYN_SENT_PORT)}x{len(dc.SS_CASES)}", "--rcv-wnd", "8192",
                "--rto-initial", "20000", "--rto-min", "20000", "--syn-retries", "2"]
        with Synmill(binary, "DY", "7:echo", args, logdir) as sm, \
                Linux("DY", "7:echo", connect=f"{endpoint(PEER_IP, dc.SYN_SENT_PORT)}x{len(dc.SS_CASES)}",
                      logdir=logdir) as lx:
            big_rcvbuf(lx.net)
            sides = {"synmill": (SynmillSide(sm), None), "linux": (lx, None)}
            play_all(sides, ss_cases, diff.Group(timer_rtx_filter=True), rep)
            check_alive(sm, lx, report)
    # Group 3: sender behaviour, short RTOs on both sides.
    s_cases = [k for k in dc.sender_cases(next_port, rng) if want(k.cid)]
    if s_cases:
        with Synmill(binary, "DZ", dc.SENDER_LISTEN, dc.SENDER_SYNMILL_ARGS, logdir) as sm, \
                Linux("DZ", dc.SENDER_LISTEN, rto_min_ms=dc.SENDER_RTO_MIN_MS, logdir=logdir) as lx:
            big_rcvbuf(lx.net)
            sides = {"synmill": (SynmillSide(sm), lambda a: dc.SENDER_APPS[a]),
                     "linux": (lx, lambda a: dc.SENDER_APPS[a])}
            play_all(sides, s_cases, diff.Group(timer_rtx_filter=False, dedupe=True, ecr=False), rep)
            check_alive(sm, lx, report)
    return rep.totals(), rep.n


def check_alive(sm, lx, report):
    if sm.proc.poll() is not None:
        report("diff synmill", "FAIL", f"synmill died (rc {sm.proc.returncode}); log {sm.log}")
    if not lx.alive():
        report("diff linux", "FAIL", f"kernel_apps died; log {lx.log}")

