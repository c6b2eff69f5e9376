"""Hostile and malformed input over the tap: each case sends crafted frames
and checks what synmill sent back (on the wire) and which counters moved
(/synmill/stats). Cookie cases run on a synmill with --syncookies always.
"""
import socket
import struct
import time

from peer import (FAMILY, IP, MSS, PEER_IP, SYNMILL_IP, SYNMILL_IP4, SYNMILL_MSS, TCP, Conn, IPv6, Raw, describe,
                  fl, raw, solicited_node, wait_for)
from scapy.layers.inet6 import (HBHOptUnknown, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,  # noqa: E402
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN)

PORT_ECHO, PORT_SEND = 7, 8002        # on the state-table synmill (states.LISTEN_ARGS)
PORT_HOLD, PORT_SEND0 = 7000, 8001
COOKIE_PORT = 80
COOKIE_LIFETIME_S = 1.0
COOKIE_LISTEN = f"{COOKIE_PORT}:hold"
COOKIE_ARGS = ["--syncookies", "always", "--cookie-lifetime", str(COOKIE_LIFETIME_S), "--rcv-wnd", "8192"]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def addr_bytes(a):
    return socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)


def tcp_bytes(sport, dport, seq, ack, flags, window=8192, opts=b"", payload=b"", dataofs=None,
              src=PEER_IP, dst=SYNMILL_IP, bad_csum=False):
    """A TCP segment built by hand (any data offset, any option bytes), checksum right unless asked."""
    bits = 0
    for c, b in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16), ("U", 32)):
        if c in flags:
            bits |= b
    hlen = 20 + len(opts)
    off = (hlen // 4) if dataofs is None else dataofs
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, bits,
                      window, 0, 0) + opts
    seg = hdr + payload
    if ":" in src:  # RFC 8200 §8.1: source, destination, upper-layer length (32 bits), 3 zero bytes, next header
        pseudo = addr_bytes(src) + addr_bytes(dst) + struct.pack("!I3xB", len(seg), 6)
    else:
        pseudo = addr_bytes(src) + addr_bytes(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    if bad_csum:
        c ^= 0x5555
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def frame(net, seg, src=PEER_IP, dst=SYNMILL_IP, ttl=64, src_mac=None, dst_mac=None, ext=(), **ipkw):
    """Ethernet / IP or IPv6 (this run's family) / `seg`. IPv6 only: `ext`, extension headers
    before the segment (the last one's nh is set to TCP here)."""
    if FAMILY == 6:
        l3 = IPv6(src=src, dst=dst, hlim=ttl, **ipkw)
        if not ext:
            l3.nh = 6
        for i, h in enumerate(ext):
            h = h.copy()
            if i == len(ext) - 1:
                h.nh = 6
            l3 = l3 / h
    else:
        l3 = IP(src=src, dst=dst, ttl=ttl, proto=6, **ipkw)
    return raw(net.eth(src_mac=src_mac or "02:00:c6:12:00:01", dst_mac=dst_mac) / l3 / Raw(seg))


def delta(after, before, key):
    return after.get(key, 0) - before.get(key, 0)


class Ctx:
    def __init__(self, sm, report, next_port, only):
        self.sm, self.net, self.report, self.next_port, self.only = sm, sm.net, report, next_port, only

    def selected(self, cid):
        return not self.only or any(k in cid for k in self.only)

    def case(self, cid, frames, port, reply, counters, wait=0.3, extra=None):
        """Sends `frames` (bytes), waits, then checks: reply(segs) -> '' or a complaint
        (None: no segment at all to `port`); counters: name -> exact delta; extra() -> ''."""
        if not self.selected(cid):
            return
        before = self.sm.stats()
        for f in frames:
            self.net.send(f)
        self.net.pump(wait)
        segs = self.net.take(port)
        deadline = time.monotonic() + 2.0
        while reply is not None and not segs and time.monotonic() < deadline:  # a slow machine
            self.net.pump(0.05)
            segs += self.net.take(port)
        self.net.pump(0.05)
        segs += self.net.take(port)
        after = self.sm.stats()
        problems = []
        if reply is None:
            if segs:
                problems.append("expected no reply")
        else:
            why = reply(segs)
            if why:
                problems.append(why)
        moved = {}
        for name, want in counters.items():
            got = delta(after, before, name)
            moved[name] = got
            ok = (got >= want[1]) if isinstance(want, tuple) else got == want
            if not ok:
                problems.append(f"{name} +{got}, expected {'>= ' + str(want[1]) if isinstance(want, tuple) else '+' + str(want)}")
        if extra:
            why = extra()
            if why:
                problems.append(why)
        detail = f"got {describe(segs)}; counters {moved}"
        self.report(cid, "FAIL" if problems else "PASS", detail + ("; " + "; ".join(problems) if problems else ""))

    def established(self, dport, opts=None, window=8192):
        c = Conn(self.net, self.next_port(), dport, 0x01000000 + self.next_port())
        c.send("S", window=window, options=opts if opts is not None else [("MSS", MSS)])
        c.snd_nxt += 1
        if wait_for(self.net, [c], lambda x: x.their_iss is not None):
            raise AssertionError(f"no SYN-ACK on port {dport}")
        c.send("A", window=window)
        self.net.pump(0.05)
        c.take()
        return c


def syn_ack_to(seq):
    def check(segs):
        if len(segs) == 1 and fl(segs[0]) == "SA" and segs[0].ack == (seq + 1) & 0xFFFFFFFF:
            return ""
        return f"expected one SYN-ACK <ACK={seq + 1}>"
    return check


def group_mac(ip6):
    """RFC 2464 §7: 33:33 and the group's low 32 bits."""
    return "33:33:" + ":".join(f"{b:02x}" for b in addr_bytes(ip6)[12:])


def reply_frames(net, port):
    """synmill's frames (Ether) to `port` seen so far."""
    return [e for e in net.frames if IPv6 in e and TCP in e and e[TCP].dport == port]


def ip6_layer(x, syn_seg, seq):
    """The IPv6 counterparts of the IPv4 header cases (RFC 8200): no header
    checksum, a payload length, fragments in a fragment header, extension
    headers in place of IPv4 options, a hop limit in place of the TTL."""
    net, next_port = x.net, x.next_port

    def reset(p):
        net.send(frame(net, tcp_bytes(p, PORT_HOLD, seq + 1, 0, "R")))

    def synack_plain(p):
        """The SYN-ACK, and its IPv6 header followed by TCP directly (no extension header echoed)."""
        def check(segs):
            why = syn_ack_to(seq)(segs)
            if why:
                return why
            nh = [e[IPv6].nh for e in reply_frames(net, p)]
            return "" if nh and all(h == 6 for h in nh) else f"reply next headers {nh}, expected [6]"
        return check

    p = next_port()
    full = frame(net, syn_seg(p))
    x.case("hostile truncated IPv6 header (frame ends inside it)", [full[:14 + 20]], p, None,
           {"drop_parse_error": 1})
    p = next_port()
    x.case("hostile IPv6 payload length beyond the frame", [frame(net, syn_seg(p), plen=200)], p, None,
           {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile IPv6 fragment header (M set): dropped, not reassembled",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrFragment(m=1, id=7)])], p, None,
           {"drop_ip_fragment": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile IPv6 fragment header (offset 8, last)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrFragment(offset=1, m=0, id=8)])], p, None,
           {"drop_ip_fragment": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile IPv6 atomic fragment (offset 0, M clear): processed alone (RFC 8200 §4.5, RFC 6946 §4)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrFragment(offset=0, m=0, id=9)])], p, synack_plain(p),
           {"syn_in": 1, "drop_ip_fragment": 0})
    reset(p)
    for hlim in (0, 1):
        p = next_port()
        x.case(f"hostile hop limit {hlim}: accepted (RFC 8200 §3: it bounds forwarding)",
               [frame(net, syn_seg(p), ttl=hlim)], p, syn_ack_to(seq), {"syn_in": 1})
        reset(p)
    p = next_port()
    pad = PadN(optdata=b"\0" * 4)
    x.case("hostile hop-by-hop and destination options (PadN) on a SYN: accepted, the reply has none "
           "(RFC 8200 §4.3, §4.6)", [frame(net, syn_seg(p), ext=[IPv6ExtHdrHopByHop(options=[pad]),
                                                                 IPv6ExtHdrDestOpt(options=[pad])])],
           p, synack_plain(p), {"syn_in": 1})
    reset(p)
    p = next_port()
    x.case("hostile unknown destination option, action 00: skipped, accepted (RFC 8200 §4.2)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"\0" * 4)])])],
           p, synack_plain(p), {"syn_in": 1})
    reset(p)
    p = next_port()
    x.case("hostile unknown destination option, action 10: discarded (RFC 8200 §4.2; the ICMPv6 Parameter "
           "Problem it asks for is not sent, as no ICMP error is)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"\0" * 4)])])],
           p, None, {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile routing header, segments left 0: ignored, accepted (RFC 8200 §4.4)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrRouting(type=0, segleft=0, addresses=[])])], p, synack_plain(p),
           {"syn_in": 1})
    reset(p)
    p = next_port()
    x.case("hostile routing header, segments left 1: discarded, not the final destination (RFC 8200 §4.4, "
           "RFC 5095 §3; no ICMPv6 Parameter Problem)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:2::99"])])], p, None,
           {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile hop-by-hop header after a destination options header: discarded (RFC 8200 §4.1)",
           [frame(net, syn_seg(p), ext=[IPv6ExtHdrDestOpt(options=[pad]), IPv6ExtHdrHopByHop(options=[pad])])],
           p, None, {"drop_parse_error": 1, "syn_in": 0})
    net.frames.clear()


def ip6_addresses(x, syn_seg, seq):
    """Addresses synmill must not answer over IPv6: not ours (RFC 4291 §2.6.1 subnet-router anycast,
    §2.7 multicast groups, §2.5.5.2 IPv4-mapped), and sources that are no unicast sender (§2.7
    multicast, §2.5.2 unspecified, §2.5.3 loopback, §2.5.5.2 IPv4-mapped, ours)."""
    net, next_port = x.net, x.next_port
    p = next_port()
    x.case("hostile wrong destination address 2001:2::99",
           [frame(net, syn_seg(p, dst="2001:2::99"), dst="2001:2::99")], p, None, {"drop_not_for_us": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile broadcast destination MAC", [frame(net, syn_seg(p), dst_mac="ff:ff:ff:ff:ff:ff")], p, None,
           {"drop_not_for_us": 1, "syn_in": 0})
    sn, sn_mac = solicited_node(SYNMILL_IP)
    for name, dst, mac in (("all-nodes ff02::1", "ff02::1", group_mac("ff02::1")),
                           (f"our solicited-node group {sn}", sn, sn_mac),
                           ("subnet-router anycast 2001:2::", "2001:2::", None),
                           (f"IPv4-mapped ::ffff:{SYNMILL_IP4}", f"::ffff:{SYNMILL_IP4}", None)):
        p = next_port()
        x.case(f"hostile destination {name}", [frame(net, syn_seg(p, dst=dst), dst=dst, dst_mac=mac)], p, None,
               {"drop_not_for_us": 1, "syn_in": 0})
    for name, src in (("multicast ff02::9", "ff02::9"), ("unspecified (::)", "::"), ("loopback (::1)", "::1"),
                      ("IPv4-mapped ::ffff:198.18.0.1", "::ffff:198.18.0.1")):
        for flags in ("S", "A"):
            p = next_port()
            seg = tcp_bytes(p, PORT_HOLD, seq, 5, flags, opts=struct.pack("!BBH", 2, 4, MSS) if flags == "S" else b"",
                            src=src)
            x.case(f"hostile source {name} ({flags}): never answered", [frame(net, seg, src=src)], p, None,
                   {"drop_bad_source": 1, "rst_out": 0, "syn_in": 0})
    p = next_port()
    x.case("hostile multicast source MAC: never answered", [frame(net, syn_seg(p), src_mac="33:33:00:00:00:01")],
           p, None, {"drop_bad_source": 1, "syn_in": 0})
    for flags in ("S", "A", "R"):
        p = next_port()
        seg = tcp_bytes(p, PORT_HOLD, seq, 5, flags, src=SYNMILL_IP)
        x.case(f"hostile source = destination ({flags}): never answered, no RST",
               [frame(net, seg, src=SYNMILL_IP)], p, None, {"rst_out": 0, "syn_in": 0, "drop_bad_source": 1})
        net.frames.clear()


def run_plain(sm, report, next_port, only):
    x = Ctx(sm, report, next_port, only)
    net = x.net
    SEQ = 0x11111111

    def syn_seg(port, **kw):
        return tcp_bytes(port, PORT_HOLD, SEQ, 0, "S", opts=kw.pop("opts", struct.pack("!BBH", 2, 4, MSS)), **kw)

    # ---- checksums, header and option lengths: silent drops with a counter
    if FAMILY == 4:  # IPv6 has no header checksum (RFC 8200 §3); the TCP checksum covers its addresses
        p = next_port()
        x.case("hostile bad IP checksum", [frame(net, syn_seg(p), chksum=0x1234)], p, None,
               {"drop_bad_ip_checksum": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile bad TCP checksum", [frame(net, syn_seg(p, bad_csum=True))], p, None,
           {"drop_bad_tcp_checksum": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile TCP data offset 4 (< 5)", [frame(net, syn_seg(p, opts=b"", dataofs=4))], p, None,
           {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile TCP data offset 15, past the segment", [frame(net, syn_seg(p, opts=b"", dataofs=15))], p,
           None, {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile option overruns the header (MSS length 8 in 4 bytes)",
           [frame(net, syn_seg(p, opts=b"\x02\x08\x05\xb4"))], p, None, {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile option length 0", [frame(net, syn_seg(p, opts=b"\x02\x00\x05\xb4"))], p, None,
           {"drop_parse_error": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile option length 1", [frame(net, syn_seg(p, opts=b"\x08\x01\x00\x00"))], p, None,
           {"drop_parse_error": 1, "syn_in": 0})

    # ---- IP layer
    if FAMILY == 4:
        p = next_port()
        full = frame(net, syn_seg(p))
        x.case("hostile truncated IP header (frame ends inside it)", [full[:14 + 12]], p, None,
               {"drop_parse_error": 1})
        p = next_port()
        x.case("hostile IP total length beyond the frame", [frame(net, syn_seg(p), len=200)], p, None,
               {"drop_parse_error": 1, "syn_in": 0})
        p = next_port()
        x.case("hostile IP fragment (MF set): dropped, not reassembled", [frame(net, syn_seg(p), flags="MF")], p,
               None, {"drop_ip_fragment": 1, "syn_in": 0})
        p = next_port()
        x.case("hostile IP fragment (offset 8, last)", [frame(net, syn_seg(p), frag=1)], p, None,
               {"drop_ip_fragment": 1, "syn_in": 0})
        for ttl in (0, 1):
            p = next_port()
            x.case(f"hostile TTL {ttl}: accepted", [frame(net, syn_seg(p), ttl=ttl)], p, syn_ack_to(SEQ),
                   {"syn_in": 1})
            net.send(frame(net, tcp_bytes(p, PORT_HOLD, SEQ + 1, 0, "R")))
    else:
        ip6_layer(x, syn_seg, SEQ)
    p = next_port()
    x.case("hostile Ethernet padding after a SYN (60-byte frame)", [frame(net, syn_seg(p)) + b"\0" * 6], p,
           syn_ack_to(SEQ), {"syn_in": 1, "drop_parse_error": 0})
    net.send(frame(net, tcp_bytes(p, PORT_HOLD, SEQ + 1, 0, "R")))

    if x.selected("hostile Ethernet padding is not payload"):
        c = x.established(PORT_ECHO)
        f = frame(net, tcp_bytes(c.sport, PORT_ECHO, c.snd_nxt, c.their_nxt, "PA", payload=b"ab")) + b"PADPAD"

        def echo_ab(segs):
            data = b"".join(t.data for t in segs)
            acks = [t.ack for t in segs if int(t.flags) & 0x10]
            if data != b"ab":
                return f"expected the echo 'ab', got {data!r}"
            if not acks or acks[-1] != (c.snd_nxt + 2) & 0xFFFFFFFF:
                return f"expected ACK {c.snd_nxt + 2}"
            return ""
        x.case("hostile Ethernet padding is not payload (echo returns 2 bytes)", [f], c.sport, echo_ab,
               {"rx_bytes": 2})
        c.snd_nxt += 2
        c.send("R", seq=c.snd_nxt)

    # ---- addresses
    if FAMILY == 4:
        p = next_port()
        x.case("hostile wrong destination address", [frame(net, syn_seg(p, dst="198.18.0.99"), dst="198.18.0.99")],
               p, None, {"drop_not_for_us": 1, "syn_in": 0})
        p = next_port()
        x.case("hostile broadcast destination MAC", [frame(net, syn_seg(p), dst_mac="ff:ff:ff:ff:ff:ff")], p, None,
               {"drop_not_for_us": 1, "syn_in": 0})
        for name, dst in (("broadcast 255.255.255.255", "255.255.255.255"), ("multicast 224.0.0.1", "224.0.0.1"),
                          ("directed broadcast 198.18.0.255", "198.18.0.255")):
            p = next_port()
            x.case(f"hostile destination {name}", [frame(net, syn_seg(p, dst=dst), dst=dst)], p, None,
                   {"drop_not_for_us": 1, "syn_in": 0})
        for name, src in (("broadcast 255.255.255.255", "255.255.255.255"), ("multicast 224.0.0.9", "224.0.0.9"),
                          ("directed broadcast 198.18.0.255", "198.18.0.255"), ("0.0.0.0", "0.0.0.0")):
            for flags in ("S", "A"):
                p = next_port()
                seg = tcp_bytes(p, PORT_HOLD, SEQ, 5, flags, opts=b"\x02\x04\x05\xb4" if flags == "S" else b"", src=src)
                x.case(f"hostile source {name} ({flags}): never answered", [frame(net, seg, src=src)], p, None,
                       {"drop_bad_source": 1, "rst_out": 0, "syn_in": 0})
        p = next_port()
        x.case("hostile multicast source MAC: never answered", [frame(net, syn_seg(p), src_mac="01:00:5e:00:00:01")],
               p, None, {"drop_bad_source": 1, "syn_in": 0})
        for flags in ("S", "A", "R"):
            p = next_port()
            seg = tcp_bytes(p, PORT_HOLD, SEQ, 5, flags, src=SYNMILL_IP)
            # synmill's own address as the source: the reply would go to itself.
            x.case(f"hostile source = destination ({flags}): never answered, no RST",
                   [frame(net, seg, src=SYNMILL_IP)], p, None, {"rst_out": 0, "syn_in": 0, "drop_bad_source": 1})
            net.frames.clear()
    else:
        ip6_addresses(x, syn_seg, SEQ)

    # ---- TCP flags on a listener
    p = next_port()
    x.case(("hostile SYN with data: SYN-ACK acknowledges the SYN only (by design: no reassembly queue, the data "
            "is not queued as RFC 9293 §3.10.7.2 says it should be; the peer sends it again)"),
           [frame(net, syn_seg(p, payload=b"hello"))], p, syn_ack_to(SEQ), {"syn_in": 1})
    net.send(frame(net, tcp_bytes(p, PORT_HOLD, SEQ + 1, 0, "R")))
    p = next_port()
    x.case("hostile SYN+FIN to a listener: dropped", [frame(net, tcp_bytes(p, PORT_HOLD, SEQ, 0, "SF"))], p, None,
           {"drop_bad_flags": 1, "syn_in": 0})
    p = next_port()
    x.case("hostile SYN+RST to a listener: ignored (RFC 9293 §3.10.7.2 first)",
           [frame(net, tcp_bytes(p, PORT_HOLD, SEQ, 0, "SR"))], p, None, {"rst_in": 1, "syn_in": 0},
           extra=lambda: "" if sm.state(p, PORT_HOLD) == "LISTEN" else "a connection was created")
    p = next_port()
    x.case("hostile no-flag segment to a listener: dropped", [frame(net, tcp_bytes(p, PORT_HOLD, SEQ, 0, ""))], p,
           None, {"drop_bad_flags": 1})

    # ---- on a connection
    if x.selected("hostile no-flag segment in ESTABLISHED"):
        c = x.established(PORT_HOLD)
        x.case("hostile no-flag segment in ESTABLISHED: dropped (RFC 9293 §3.10.7.4 fifth)",
               [frame(net, tcp_bytes(c.sport, PORT_HOLD, c.snd_nxt, 0, ""))], c.sport, None,
               {"drop_no_ack": 1},
               extra=lambda: "" if sm.state(c.sport, PORT_HOLD) == "ESTABLISHED" else "state changed")
        c.send("R")
    if x.selected("hostile ACK above SND.NXT"):
        c = x.established(PORT_HOLD)

        def ack_back(segs):
            ok = len(segs) == 1 and fl(segs[0]) == "A" and segs[0].seq == c.their_nxt and segs[0].ack == c.snd_nxt
            return "" if ok else f"expected <SEQ={c.their_nxt}><ACK={c.snd_nxt}><CTL=ACK>"
        x.case("hostile ACK above SND.NXT: ACK, dropped (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2)",
               [frame(net, tcp_bytes(c.sport, PORT_HOLD, c.snd_nxt, c.their_nxt + 1000, "A"))], c.sport, ack_back,
               {"drop_ack_unacceptable": 1},
               extra=lambda: "" if sm.state(c.sport, PORT_HOLD) == "ESTABLISHED" else "state changed")
        c.send("R")
    if x.selected("hostile data after close"):
        c = Conn(net, next_port(), PORT_SEND0, 0x02000000)
        c.send("S", options=[("MSS", MSS)])
        c.snd_nxt += 1
        wait_for(net, [c], lambda z: z.their_iss is not None)
        c.send("A")
        wait_for(net, [c], lambda z: z.fin_seq is not None)
        c.send("A")  # FIN_WAIT_2, the application has closed
        net.pump(0.05)
        c.take()

        def rst(segs):
            ok = len(segs) == 1 and "R" in fl(segs[0]) and segs[0].seq == c.their_nxt
            return "" if ok else f"expected one RST <SEQ={c.their_nxt}>"
        x.case("hostile data after close: RST (RFC 9293 §3.10.7.4 seventh / RFC 1122 §4.2.2.13)",
               [frame(net, tcp_bytes(c.sport, PORT_SEND0, c.snd_nxt, c.their_nxt, "PA", payload=b"late"))],
               c.sport, rst, {"drop_data_after_close": 1, "rst_out": 1},
               extra=lambda: "" if sm.state(c.sport, PORT_SEND0) == "LISTEN" else "connection still there")

    # ---- segments that carry more than usual
    if x.selected("hostile data on the handshake's final ACK"):
        c = Conn(net, next_port(), PORT_ECHO, 0x0B000000)
        c.send("S", options=[("MSS", MSS)])
        c.snd_nxt += 1
        wait_for(net, [c], lambda z: z.their_iss is not None)
        c.take()

        def echoed(segs):
            data = b"".join(t.data for t in segs)
            return "" if data == b"ping" else f"expected the echo 'ping', got {data!r}"
        x.case("hostile data on the handshake's final ACK: ESTABLISHED and delivered (RFC 9293 §3.10.7.4)",
               [raw(net.tcp(c.sport, PORT_ECHO, "PA", c.snd_nxt, c.their_nxt, b"ping"))], c.sport, echoed,
               {"established": 1, "rx_bytes": 4},
               extra=lambda: "" if sm.state(c.sport, PORT_ECHO) == "ESTABLISHED" else "not ESTABLISHED")
        c.send("R", seq=c.snd_nxt + 4)
    if x.selected("hostile RST carrying data"):
        c = x.established(PORT_HOLD)
        x.case("hostile RST carrying data at RCV.NXT: resets (RFC 9293 §3.5.3: RST may carry diagnostic data)",
               [frame(net, tcp_bytes(c.sport, PORT_HOLD, c.snd_nxt, 0, "R", payload=b"diagnostic"))], c.sport,
               None, {"closed_reset": 1, "rst_out": 0},
               extra=lambda: "" if sm.state(c.sport, PORT_HOLD) == "LISTEN" else "connection still there")

    # ---- more framing
    if FAMILY == 4:
        p = next_port()
        x.case("hostile IP options on a SYN (IHL 6): accepted, the reply has none",
               [frame(net, syn_seg(p), options=b"\x01\x01\x01\x00")], p, syn_ack_to(SEQ), {"syn_in": 1})
        net.send(frame(net, tcp_bytes(p, PORT_HOLD, SEQ + 1, 0, "R")))
    p = next_port()
    l3 = IP(src=PEER_IP, dst=SYNMILL_IP, proto=6) if FAMILY == 4 else IPv6(src=PEER_IP, dst=SYNMILL_IP, nh=6)
    vlan = raw(net.eth())[:12] + b"\x81\x00\x00\x05" + raw(net.eth())[12:14] + raw(l3 / Raw(syn_seg(p)))
    x.case(f"hostile VLAN-tagged frame: not IPv{FAMILY} for synmill, dropped", [vlan], p, None,
           {"drop_non_ip": 1, "syn_in": 0})

    # ---- the MSS synmill offers: MTU - 40 over IPv4, MTU - 60 over IPv6 (RFC 9293 §3.7.1, RFC 8200 §8.3)
    p = next_port()

    def offers_mss(segs):
        mss = [o[1] for t in segs for o in t.options if isinstance(o, tuple) and o[0] == "MSS"]
        if len(segs) != 1 or fl(segs[0]) != "SA" or mss != [SYNMILL_MSS]:
            return f"expected one SYN-ACK with MSS {SYNMILL_MSS}, got MSS {mss}"
        return ""
    x.case(f"hostile SYN-ACK offers MSS {SYNMILL_MSS} (MTU 1500 - {1500 - SYNMILL_MSS})", [frame(net, syn_seg(p))], p,
           offers_mss, {"syn_in": 1})
    net.send(frame(net, tcp_bytes(p, PORT_HOLD, SEQ + 1, 0, "R")))

    # ---- RFC 5961 §7: challenge ACKs are rate limited (10 per second per connection)
    if x.selected("hostile RST flood in the window"):
        c = x.established(PORT_HOLD)
        rsts = [frame(net, tcp_bytes(c.sport, PORT_HOLD, c.snd_nxt + 100 + i, 0, "R")) for i in range(20)]

        def ten_acks(segs):
            # 10 per second; the 20 RSTs take a few ms, but may straddle a second boundary.
            acks = [t for t in segs if fl(t) == "A"]
            ok = len(acks) == len(segs) and 10 <= len(acks) < 20
            return "" if ok else f"expected 10 (at most 19 across a second boundary) challenge ACKs, got {len(segs)}"
        x.case("hostile RST flood in the window: 10 challenge ACKs per second, the rest dropped (RFC 5961 §7)",
               rsts, c.sport, ten_acks, {"challenge_acks": (">=", 10), "drop_challenge_ack_limit": (">=", 1),
                                         "drop_rst_in_window": 20},
               extra=lambda: "" if sm.state(c.sport, PORT_HOLD) == "ESTABLISHED" else "connection lost")
        c.send("R")

    # ---- RFC 7323 §5 PAWS: an old timestamp makes a segment unacceptable
    if x.selected("hostile PAWS"):
        c = Conn(net, next_port(), PORT_ECHO, 0x09000000, ts=True)
        c.tsval = 50000
        c.send("S")
        c.snd_nxt += 1
        wait_for(net, [c], lambda z: z.their_iss is not None)
        c.send("A")
        net.pump(0.05)
        c.take()
        old_ts = [("NOP", None), ("NOP", None), ("Timestamp", (40000, c.their_ts))]
        f = raw(net.tcp(c.sport, PORT_ECHO, "PA", c.snd_nxt, c.their_nxt, b"old", options=old_ts))

        def dup_ack(segs):
            ok = len(segs) == 1 and fl(segs[0]) == "A" and segs[0].ack == c.snd_nxt
            return "" if ok else f"expected one ACK <ACK={c.snd_nxt}> (data not taken)"
        x.case("hostile PAWS: data with an older TSval is dropped and ACKed (RFC 7323 §5.3)", [f], c.sport, dup_ack,
               {"drop_paws": 1, "rx_bytes": 0})
        c.send("R")

    # ---- options
    if x.selected("hostile duplicate window scale"):
        c = x.established(PORT_HOLD, opts=[("MSS", MSS), ("WScale", 3), ("WScale", 9)])
        c.send("A", window=1)
        net.pump(0.1)
        row = sm.conn_row(c.sport, PORT_HOLD) or {}
        got = int(row.get("snd_wnd", -1))
        report("hostile duplicate window scale 3 then 9: the last wins",
               "PASS" if got == 1 << 9 else "FAIL", f"window field 1 -> SND.WND {got}, expected {1 << 9}")
        c.send("R")
    if x.selected("hostile window scale 15"):
        c = x.established(PORT_HOLD, opts=[("MSS", MSS), ("WScale", 15)])
        c.send("A", window=1)
        net.pump(0.1)
        row = sm.conn_row(c.sport, PORT_HOLD) or {}
        got = int(row.get("snd_wnd", -1))
        report("hostile window scale 15: clamped to 14 (RFC 7323 §2.3)",
               "PASS" if got == 1 << 14 else "FAIL", f"window field 1 -> SND.WND {got}, expected {1 << 14}")
        c.send("R")
    for name, opts, want_max in (("MSS 0", [("MSS", 0)], 64), ("MSS 1", [("MSS", 1)], 64),
                                 ("MSS 65535", [("MSS", 65535)], SYNMILL_MSS),
                                 ("duplicate MSS 536 then 1000 (the last wins)", [("MSS", 536), ("MSS", 1000)], 1000)):
        cid = f"hostile {name}: segments of at most {want_max} bytes"
        if not x.selected(cid):
            continue
        c = x.established(PORT_SEND, opts=opts, window=65535)
        for _ in range(40):  # bounded: acknowledge what arrives until 4096 bytes are in
            net.pump(0.05)
            c.take()
            if c.their_nxt is not None and ((c.their_nxt - c.their_iss - 1) & 0xFFFFFFFF) >= 4096:
                break
            c.send("A", window=65535)
        sizes = [len(t.data) for t in c.seen if len(t.data) > 0]
        ok = bool(sizes) and max(sizes) == want_max
        report(cid, "PASS" if ok else "FAIL",
               f"payload sizes {sorted(set(sizes))} ({sum(sizes)} bytes), expected max {want_max} "
               f"(peer MSS floored at 64, capped by our {SYNMILL_MSS})")
        c.send("R", seq=c.snd_nxt)
    net.pump(0.1)
    net.by_port.clear()


def run_cookies(sm, report, next_port, only):
    x = Ctx(sm, report, next_port, only)
    net = x.net

    def cookie_for(port, iss):
        c = Conn(net, port, COOKIE_PORT, iss)
        c.send("S", options=[("MSS", MSS)])
        c.snd_nxt += 1
        if wait_for(net, [c], lambda z: z.their_iss is not None):
            raise AssertionError("no cookie SYN-ACK")
        return c

    def rst_seq(ack):
        def check(segs):
            ok = len(segs) == 1 and fl(segs[0]) == "R" and segs[0].seq == ack & 0xFFFFFFFF
            return "" if ok else f"expected <SEQ={ack & 0xFFFFFFFF}><CTL=RST>"
        return check

    def ack_frame(c, ack, sport=None):
        return frame(net, tcp_bytes(sport or c.sport, COOKIE_PORT, c.snd_nxt, ack, "A"))

    c = cookie_for(next_port(), 0x03000000)
    x.case("cookie valid ACK: ESTABLISHED, no reply", [ack_frame(c, c.their_iss + 1)], c.sport, None,
           {"cookies_validated": 1, "cookies_rejected": 0, "established": 1},
           extra=lambda: "" if sm.state(c.sport, COOKIE_PORT) == "ESTABLISHED" else "not ESTABLISHED")
    x.case("cookie replayed ACK for an existing connection: an ACK in ESTABLISHED, nothing new",
           [ack_frame(c, c.their_iss + 1)], c.sport, None,
           {"cookies_validated": 0, "cookies_rejected": 0, "established": 0},
           extra=lambda: "" if sm.state(c.sport, COOKIE_PORT) == "ESTABLISHED" else "not ESTABLISHED")
    c.send("R")
    for k in (1, -1, 2, 1 << 24):
        c = cookie_for(next_port(), 0x04000000)
        ack = c.their_iss + 1 + k
        x.case(f"cookie {'+' if k > 0 else ''}{k}: rejected, RST <SEQ=SEG.ACK>", [ack_frame(c, ack)], c.sport,
               rst_seq(ack), {"cookies_rejected": 1, "cookies_validated": 0, "established": 0},
               extra=lambda c=c: "" if sm.state(c.sport, COOKIE_PORT) == "LISTEN" else "a connection was created")
    c = cookie_for(next_port(), 0x05000000)
    other = next_port()
    x.case("cookie with the wrong 4-tuple (another source port): rejected",
           [ack_frame(c, c.their_iss + 1, sport=other)], other, rst_seq(c.their_iss + 1),
           {"cookies_rejected": 1, "cookies_validated": 0})
    def fresh_epoch_cookie(iss):
        """A cookie issued just after a secret rotation: the cookie's top 2 bits are the epoch
        (mod 4); SYNs every 50 ms until they change (bounded by 1.5 lifetimes)."""
        first = cookie_for(next_port(), iss).their_iss >> 30
        for _ in range(int(COOKIE_LIFETIME_S * 1.5 / 0.05) + 1):
            c = cookie_for(next_port(), iss)
            if c.their_iss >> 30 != first:
                return c
            time.sleep(0.05)
        raise AssertionError("the cookie epoch did not change within 1.5 lifetimes")

    c = fresh_epoch_cookie(0x06000000)  # issued early in epoch E
    time.sleep(COOKIE_LIFETIME_S * 2.1)  # now in epoch E+2: two secret rotations later
    x.case(f"cookie after two key rotations (--cookie-lifetime {COOKIE_LIFETIME_S}): rejected",
           [ack_frame(c, c.their_iss + 1)], c.sport, rst_seq(c.their_iss + 1),
           {"cookies_rejected": 1, "cookies_validated": 0})
    c3 = fresh_epoch_cookie(0x08000000)
    time.sleep(COOKIE_LIFETIME_S * 1.1)  # now in epoch E+1: the previous secret still counts
    x.case("cookie after one key rotation: still valid", [ack_frame(c3, c3.their_iss + 1)], c3.sport, None,
           {"cookies_validated": 1})
    c3.send("R")
    net.pump(0.05)
