#!/usr/bin/python3
"""Writes the seed corpora: test/fuzz/corpus/fuzz_wire/ (frames built with
scapy: SYNs with every option, data, FIN, RST, ARP, ICMP, fragments, IP
options, bad checksums, padding; IPv6: TCP behind extension headers,
fragments, ICMPv6 echo, Neighbor Discovery) and test/fuzz/corpus/fuzz_stack/ (step
scripts in fuzz_stack.cpp's front-to-back encoding: handshakes, data, closes
from both sides, time steps). Run with Debian's python3 (scapy):

    /usr/bin/python3 test/fuzz/make_corpus.py
"""
import hashlib
import os
import struct

from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw, raw  # noqa: E402
from scapy.all import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,  # noqa: E402
                       IPv6ExtHdrRouting, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, PadN, RouterAlert)

HERE = os.path.dirname(os.path.abspath(__file__))
A, B = "198.18.0.1", "198.18.0.2"
A6, B6 = "2001:2::1", "2001:2::2"
MA, MB = "02:00:00:00:00:01", "02:00:00:00:00:02"


def write(target, blobs):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for b in blobs:
        name = hashlib.sha1(b).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)


def wire_seeds():
    e = Ether(src=MA, dst=MB)
    ip = IP(src=A, dst=B)
    opts_all = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
    frames = [
        e / ip / TCP(sport=40000, dport=80, flags="S", seq=1000, options=opts_all),
        e / ip / TCP(sport=40000, dport=80, flags="SA", seq=1000, ack=5, options=[("MSS", 536), ("WScale", 14)]),
        e / ip / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
        e / ip / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5,
                     options=[("NOP", None), ("NOP", None), ("SAck", (10, 20, 30, 40, 50, 60))]),
        e / ip / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5,
                     options=[("NOP", None), ("NOP", None), ("Timestamp", (7, 8)), ("SAck", (10, 20, 30, 40, 50, 60))]),
        e / ip / TCP(sport=40000, dport=80, flags="FA", seq=1001, ack=5),
        e / ip / TCP(sport=40000, dport=80, flags="R", seq=1001),
        e / ip / TCP(sport=40000, dport=80, flags="S", seq=1, options=[("MSS", 0), ("MSS", 65535), ("WScale", 15)]),
        e / ip / TCP(sport=40000, dport=80, flags="S", seq=1, options=[(99, b"xy"), ("EOL", None)]),
        e / IP(src=A, dst=B, flags="MF") / TCP(sport=1, dport=80, flags="S"),
        e / IP(src=A, dst=B, options=b"\x01\x01\x01\x00") / TCP(sport=1, dport=80, flags="S"),
        e / IP(src=A, dst=B, chksum=0x1234) / TCP(sport=1, dport=80, flags="S"),
        e / ip / TCP(sport=1, dport=80, flags="S", chksum=0x1234),
        e / ip / ICMP(type=8, id=1, seq=1) / Raw(b"ping"),
        Ether(src=MA, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MA, psrc=A, pdst=B),
        e / ip / TCP(sport=40000, dport=80, flags="S", dataofs=15, options=[("NOP", None)] * 40),
    ]
    blobs = [raw(f) for f in frames]
    blobs.append(raw(e / ip / TCP(sport=2, dport=80, flags="S")) + b"\x00" * 6)  # Ethernet padding
    blobs.append(bytes(range(40)))  # options parser alone
    blobs += [raw(f) for f in wire6_seeds()]
    return blobs


def wire6_seeds():
    e = Ether(src=MA, dst=MB)
    ip = IPv6(src=A6, dst=B6)
    opts_all = [("MSS", 1440), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
    sn = "ff02::1:ff00:2"
    return [
        e / ip / TCP(sport=40000, dport=80, flags="S", seq=1000, options=opts_all),
        e / ip / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
        e / ip / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) /
        IPv6ExtHdrRouting(segleft=0, addresses=[B6]) / TCP(sport=40000, dport=80, flags="S", options=opts_all),
        e / ip / IPv6ExtHdrFragment(offset=0, m=0) / TCP(sport=40000, dport=80, flags="S"),
        e / ip / IPv6ExtHdrFragment(offset=0, m=1) / TCP(sport=40000, dport=80, flags="S"),
        e / ip / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / TCP(sport=1, dport=80, flags="S"),
        e / ip / IPv6ExtHdrRouting(segleft=1, addresses=[B6]) / TCP(sport=1, dport=80, flags="S"),
        e / ip / TCP(sport=1, dport=80, flags="S", chksum=0x1234),
        e / ip / ICMPv6EchoRequest(id=1, seq=1, data=b"ping"),
        Ether(src=MA, dst="33:33:ff:00:00:02") / IPv6(src=A6, dst=sn, hlim=255) / ICMPv6ND_NS(tgt=B6) /
        ICMPv6NDOptSrcLLAddr(lladdr=MA),
        Ether(src=MA, dst="33:33:ff:00:00:02") / IPv6(src="::", dst=sn, hlim=255) / ICMPv6ND_NS(tgt=B6),
        e / IPv6(src=B6, dst=A6, hlim=255) / ICMPv6ND_NA(S=1, O=1, tgt=B6) / ICMPv6NDOptDstLLAddr(lladdr=MB),
    ]


# fuzz_stack step encoding (see fuzz_stack.cpp: Reader, one byte per small range)
def knobs(v, v2=0):
    return bytes([v, v2])


def seg(peer, flags, mode=0, dseq=0, dack=0, extra=b""):
    # op 0: segment; peer; flags; mode; dseq in -4..4 (+4); dack (+4); then what mode asks for
    return bytes([0, peer, flags, mode, dseq + 4, dack + 4]) + extra


def payload(n):
    return struct.pack(">H", n)  # ConsumeIntegralInRange(0, 1600): two bytes


def step_time(ms):
    return bytes([10, 0, 1]) + struct.pack(">H", ms)


def send(peer, n):
    return bytes([6, peer]) + payload(n)


S, A_, F, R, P = 0x02, 0x10, 0x01, 0x04, 0x08
M_SEQ_OFF, M_WIN, M_OPTS, M_DATA = 4, 8, 16, 32  # segment mode bits (fuzz_stack.cpp)


def off(n):
    return struct.pack(">I", n)  # ConsumeIntegralInRange(0, 70000): four bytes


def win(n):
    return struct.pack(">H", n)


def opts_sackok():
    return bytes([0x05])  # MSS 1460 + SACK-permitted


def opts_ts(tsval):
    return bytes([0x0D]) + struct.pack(">II", tsval, 0)  # MSS + SACK-permitted + timestamps


def opts_sack_rel(blocks):
    # which = 16 (SACK blocks) | 32 (relative to the stack's SND.NXT); count in 1..4 (one byte)
    b = bytes([16 | 32, len(blocks) - 1])
    for l, r in blocks:
        b += struct.pack(">II", l & 0xFFFFFFFF, r & 0xFFFFFFFF)
    return b


def stack_seeds():
    hs = seg(0, S) + seg(0, A_)
    seeds = [
        knobs(0x01) + hs,
        knobs(0x01) + hs + seg(0, A_ | P, mode=32, extra=payload(100)) + seg(0, F | A_),
        knobs(0x01) + hs + send(0, 1000) + seg(0, A_) + bytes([7, 0]) + seg(0, A_) + seg(0, F | A_) + step_time(1500),
        knobs(0x02) + seg(1, S) + seg(1, A_) + seg(1, R),                      # cookies always
        knobs(0x0D) + hs + seg(0, S) + seg(0, R, dseq=1),                      # timestamps + SACK
        knobs(0x01) + bytes([11, 4]) + seg(4, S | A_) + send(4, 3000) + step_time(3000),  # active open
        knobs(0x81) + hs + seg(0, F | A_) + step_time(4000),                   # CLOSE_WAIT timeout
        knobs(0x01) + hs + bytes([12, 1, 3, 1, 0, 10, 1, 1]) + seg(0, A_ | P, mode=32, extra=payload(50)),
        knobs(0x01, 0x3F) + hs + send(0, 1000) + seg(0, A_) + seg(0, F | A_) + step_time(100),  # tight pools
        knobs(0x01, 0x01) + hs + bytes([7, 0]) + seg(0, A_) + seg(0, F | A_)                  # TIME_WAIT full
        + seg(1, S) + seg(1, A_) + bytes([7, 1]) + seg(1, A_) + seg(1, F | A_),
    ]
    return seeds + issue11_seeds() + predict_seeds()


def app_knobs(on_data=0, on_peer_close=0, on_open=0):
    # op 12 for application A: modes, take 0, space unlimited, accepting
    return bytes([12, 0, 1, on_data, on_peer_close, on_open, 0, 1, 1])


def predict_seeds():
    """The fast paths of stack_predict.cpp, each next to the ladder's case
    it must match: the handshake's ACK carrying data, the FIN in
    ESTABLISHED, the final ACK in LAST_ACK (core_bench's connection), with
    and without timestamps; and their neighbours that must go up the ladder
    (an old TSval, a FIN into a window the application shut, a second FIN)."""
    conn = seg(0, S) + seg(0, A_ | P, mode=M_DATA, extra=payload(20)) + seg(0, F | A_) + seg(0, A_)
    syn_ts = seg(0, S, mode=M_OPTS, extra=opts_ts(500))  # then every segment carries a later TSval
    conn_ts = syn_ts + seg(0, A_ | P, mode=M_DATA, extra=payload(20)) + seg(0, F | A_) + seg(0, A_)
    old_ts = seg(0, A_, mode=M_OPTS, extra=bytes([0x08]) + struct.pack(">II", 5, 0))  # TSval 5: PAWS
    return [
        knobs(0x01) + app_knobs(on_data=2, on_peer_close=1) + conn,
        knobs(0x0D) + app_knobs(on_data=2, on_peer_close=1) + conn_ts,
        knobs(0x0D) + app_knobs(on_peer_close=1) + conn_ts,
        # LAST_ACK: the final ACK with an old TSval (PAWS), then a good one
        knobs(0x0D) + app_knobs(on_peer_close=1) + syn_ts + seg(0, A_) + seg(0, F | A_) + old_ts + seg(0, A_),
        # SYN_RCVD: the handshake's ACK with an old TSval, then with data
        knobs(0x0D) + syn_ts + old_ts + seg(0, A_ | P, mode=M_DATA, extra=payload(20)),
        # ESTABLISHED: a FIN with an old TSval, then the FIN
        knobs(0x0D) + syn_ts + seg(0, A_) + seg(0, F | A_, mode=M_OPTS, extra=bytes([0x08]) + struct.pack(">II", 5, 0))
        + seg(0, F | A_),
        # the application's window shut (rcv_space 0), then data and a FIN
        knobs(0x01) + bytes([12, 0, 1, 1, 0, 0, 0, 0]) + struct.pack(">H", 0) + bytes([1])
        + seg(0, S) + seg(0, A_) + seg(0, A_ | P, mode=M_DATA, extra=payload(10)) + seg(0, F | A_),
        # the application takes 10 bytes of 30: a FIN behind held data waits for them
        knobs(0x01) + bytes([12, 0, 1, 1, 0, 0, 10, 1, 1]) + seg(0, S) + seg(0, A_)
        + seg(0, A_ | P, mode=M_DATA, extra=payload(30)) + seg(0, F | A_),
        knobs(0x0D) + bytes([12, 0, 1, 1, 0, 0, 10, 1, 1]) + syn_ts
        + seg(0, A_ | P, mode=M_DATA, extra=payload(30)) + seg(0, F | A_) + seg(0, A_),
        # FIN with data, then the FIN again
        knobs(0x0D) + syn_ts + seg(0, A_) + seg(0, F | A_, mode=M_DATA, extra=payload(30)) + seg(0, F | A_, dseq=-1),
    ]


def issue11_seeds():
    """The faults of issue 11, one seed each (the HTTP one is not reachable
    here: fuzz_stack drives its own application)."""
    sack_hs = seg(0, S, mode=M_OPTS, extra=opts_sackok()) + seg(0, A_)
    return [
        # 1. out-of-order FIN: "tail"+FIN at +4, data at the FIN's sequence number (+8), a
        #    second FIN at +40, then the hole fills
        knobs(0x09) + sack_hs
        + seg(0, F | A_, mode=M_DATA, dseq=4, extra=payload(4))
        + seg(0, A_, mode=M_SEQ_OFF | M_DATA, dseq=4, extra=off(4) + payload(4))
        + seg(0, F | A_, mode=M_SEQ_OFF, dseq=4, extra=off(36))
        + seg(0, A_, mode=M_DATA, extra=payload(4)) + bytes([7, 0]) + seg(0, A_, dseq=1),
        # 1b. data held beyond a FIN that arrives later
        knobs(0x09) + sack_hs
        + seg(0, A_, mode=M_SEQ_OFF | M_DATA, dseq=4, extra=off(8) + payload(4))
        + seg(0, F | A_, mode=M_DATA, dseq=4, extra=payload(4))
        + seg(0, A_, mode=M_DATA, extra=payload(4)),
        # 2. the peer's window is 1000 (< MSS): the RTO must retransmit into it
        knobs(0x01) + seg(0, S, mode=M_WIN, extra=win(1000)) + seg(0, A_, mode=M_WIN, extra=win(1000))
        + send(0, 1600) + step_time(300) + step_time(600)
        + seg(0, A_, mode=M_WIN, extra=win(1000)) + step_time(100),
        # 3. a SACK block at SND.UNA, then the RTO: SND.UNA is retransmitted anyway
        knobs(0x09) + sack_hs + send(0, 4)
        + seg(0, A_, mode=M_OPTS, dack=-4, extra=opts_sack_rel([(-4, 0)])) + step_time(1500),
        # 4. two in-order segments under one delayed ACK, timestamps on
        knobs(0x0D) + seg(0, S, mode=M_OPTS, extra=opts_ts(500)) + seg(0, A_)
        + seg(0, A_ | P, mode=M_DATA, extra=payload(4))
        + seg(0, A_ | P, mode=M_DATA, dseq=4, extra=payload(4)) + step_time(100),
        # 5. the same out-of-order segment twice: D-SACK above RCV.NXT
        knobs(0x09) + sack_hs
        + seg(0, A_, mode=M_DATA, dseq=4, extra=payload(4))
        + seg(0, A_, mode=M_DATA, dseq=4, extra=payload(4))
        + seg(0, A_, mode=M_DATA, extra=payload(4)),
    ]


if __name__ == "__main__":
    write("fuzz_wire", wire_seeds())
    write("fuzz_stack", stack_seeds())
    print("corpus written under", os.path.join(HERE, "corpus"))
