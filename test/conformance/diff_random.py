"""Random mode of the differential suite: seeded sequences of segments
(random flags, SEQ and ACK around the window edges, options, payloads) after
a handshake, played against synmill and Linux. The comparison is coarse on
purpose (the brief: state, and each reply's flags/SEQ/ACK; diff.Group
coarse). A sequence whose outcomes differ is minimised (one segment removed at
a time, all candidates of a round played in one batch, while the difference
stays) to a short reproducer, then judged like any case: a cited deviation
(deviations.py, entries on "random") or a failure.

A segment spec is resolved against each side's own numbers when it is sent:
  seq: RCV.NXT-1 | RCV.NXT | RCV.NXT+WND-1 | RCV.NXT+WND | RCV.NXT+K (K in 1..3000)
  ack: SND.NXT | SND.NXT-1 | SND.NXT+1 | SND.UNA-1000 (their numbers as we saw them)
  flags, payload length (0, 1, 7, 300), timestamps (normal, old TSval, none) when negotiated.
Our own SND.NXT follows what was sent at RCV.NXT.
"""
import random

import diff
from diff import Case, Collect, connect
from peer import M32, MSS

APPS = ["echo", "discard", "hold", "send:0"]
FLAGS = ["A", "A", "PA", "PA", "FA", "R", "RA", "S", "SA", "SF", "F", "", "UA", "FPA", "RPA"]
SEQS = ["RCV.NXT-1", "RCV.NXT", "RCV.NXT", "RCV.NXT+WND-1", "RCV.NXT+WND", "RCV.NXT+K"]
ACKS = ["SND.NXT", "SND.NXT", "SND.NXT-1", "SND.NXT+1", "SND.UNA-1000"]
LENS = [0, 0, 1, 7, 300]
TSK = ["ts", "ts", "ts", "old", "none"]


def spec_str(s):
    out = f"{s['flags'] or '-'}@{s['seq']}"
    if s["seq"] == "RCV.NXT+K":
        out = out.replace("+K", f"+{s['k']}")
    if "A" in s["flags"]:
        out += f"/ack={s['ack']}"
    if s["len"]:
        out += f"/len={s['len']}"
    if s.get("tsk") not in (None, "ts"):
        out += f"/tsval={s['tsk']}"
    return out


def seq_str(app, ts, specs):
    return f"[{app}{' ts' if ts else ''}] " + " ".join(spec_str(s) for s in specs)


def make_fn(specs):
    def fn(c):
        yield from connect(c)
        if c.dport == 8001:   # send:0 closes first: take its FIN so that the sequence starts in FIN_WAIT
            yield Collect(0.1)
        c.inbox = []
        for i, s in enumerate(specs):
            base, wnd = c.their_ack, c.their_wnd or 0
            seq = {"RCV.NXT-1": base - 1, "RCV.NXT": base, "RCV.NXT+WND-1": base + wnd - 1,
                   "RCV.NXT+WND": base + wnd, "RCV.NXT+K": base + s.get("k", 0)}[s["seq"]] & M32
            nxt = c.their_nxt
            ack = {"SND.NXT": nxt, "SND.NXT-1": nxt - 1, "SND.NXT+1": nxt + 1,
                   "SND.UNA-1000": nxt - 1000}[s["ack"]] & M32 if "A" in s["flags"] else 0
            opts = None
            if c.ts and "R" not in s["flags"]:
                c.tsval += 1
                tsv = {"ts": c.tsval, "old": c.tsval - 100000, "none": None}[s["tsk"]]
                opts = [] if tsv is None else [("Timestamp", (tsv & M32, c.their_ts if "A" in s["flags"] else 0))]
                if "S" in s["flags"]:
                    opts = [("MSS", MSS)] + opts
            elif not c.ts and "S" in s["flags"]:
                opts = [("MSS", MSS)]
            payload = bytes((s["byte"] + j) & 0xFF for j in range(s["len"]))
            kw = {"urgptr": s["len"]} if "U" in s["flags"] else {}
            yield from diff.probe(c, f"#{i} {spec_str(s)}", s["flags"], seq=seq, ack=ack, payload=payload,
                                  options=opts, window=8192, **kw)
            if seq == c.snd_nxt and "R" not in s["flags"] and "S" not in s["flags"]:
                c.snd_nxt = (c.snd_nxt + len(payload) + ("F" in s["flags"])) & M32
    return fn


def generate(seed, n, max_len, next_port):
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        app, ts = rng.choice(APPS), rng.random() < 0.5
        specs = [{"flags": rng.choice(FLAGS), "seq": rng.choice(SEQS), "k": rng.randrange(1, 3000),
                  "ack": rng.choice(ACKS), "len": rng.choice(LENS), "tsk": rng.choice(TSK),
                  "byte": rng.randrange(256)} for _ in range(rng.randint(2, max_len))]
        cases.append(new_case(f"random#{i}", app, ts, specs, rng.randrange(1 << 32), next_port))
    return cases


def new_case(name, app, ts, specs, iss, next_port):
    k = Case(f"{name} {seq_str(app, ts, specs)}", app, make_fn(specs), ts=ts, sport=next_port(), iss=iss)
    k.data = (name, app, ts, specs)
    return k


def differs(out):
    """The outcomes differ (a case that could not be set up on a side is no reproducer)."""
    sm, lx = out["synmill"], out["linux"]
    if sm[2] or lx[2]:
        return False
    return sm[0] != lx[0] or sm[1] != lx[1]


def play_batched(sides, cases, group, size=64):
    out = {}
    for i in range(0, len(cases), size):
        out.update(diff.play(sides, cases[i:i + size], group, None))
    return out


def run(sides, cases, group, rep, next_port, max_rounds=8):
    coarse = diff.Group(timer_rtx_filter=group.timer_rtx_filter, dedupe=group.dedupe, coarse=True)
    out = play_batched(sides, cases, coarse)
    todo = {}
    for k in cases:
        if differs(out[k.cid]) or out[k.cid]["synmill"][2] or out[k.cid]["linux"][2]:
            todo[k.cid] = (k, out[k.cid])
        else:
            rep.case(k.cid, out[k.cid])
    # Minimise every diverging sequence, all of them in step: one batch per round.
    for _ in range(max_rounds):
        cands, owner = [], {}
        for cid, (k, o) in todo.items():
            name, app, ts, specs = k.data
            if len(specs) <= 1 or getattr(k, "minimal", False):
                continue
            for j in range(len(specs)):
                c = new_case(f"{name}-{j}", app, ts, specs[:j] + specs[j + 1:], k.iss, next_port)
                cands.append(c)
                owner[c.cid] = cid
        if not cands:
            break
        res = play_batched(sides, cands, coarse)
        for cid in list(todo):
            mine = [c for c in cands if owner[c.cid] == cid and differs(res[c.cid])]
            if mine:
                best = min(mine, key=lambda c: len(c.data[3]))
                best.original = getattr(todo[cid][0], "original", todo[cid][0].cid)
                todo[cid] = (best, res[best.cid])
            else:
                todo[cid][0].minimal = True
    for cid, (k, o) in todo.items():
        orig = getattr(k, "original", None)
        name, app, ts, specs = k.data
        rid = f"{name.split('-')[0]} minimised {seq_str(app, ts, specs)}"
        rep.case(rid, o, f" (from {orig})" if orig else "")
