#!/usr/bin/python3
# Regenerates the byte arrays of test_vectors_v6.hpp with scapy (independent of lib/wire):
#   /usr/bin/python3 test/unit/wire/gen_vectors_v6.py > test/unit/wire/test_vectors_v6.hpp
# Addresses from the benchmarking range 2001:2::/48 (RFC 5180); link-local and
# ff02:: only where Neighbor Discovery uses them.
from scapy.all import (Ether, IPv6, TCP, Raw, raw, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, IPv6ExtHdrFragment, RouterAlert, PadN,
                       ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA,
                       ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr)

def carr(name, b):
    s = f"inline constexpr uint8_t {name}[] = {{\n"
    for i in range(0, len(b), 12):
        s += "    " + ", ".join(f"0x{x:02x}" for x in b[i:i+12]) + ",\n"
    return s + "};\n"

m1 = "02:00:00:00:00:01"; m2 = "02:00:00:00:00:02"
a1 = "2001:2::1"; a2 = "2001:2::2"
out = []
def emit(name, pkt, note=""):
    b = raw(pkt)
    out.append(f"// scapy: {pkt.summary()}{note}\n" + carr(name, b))

syn_opts = [("MSS", 1440), ("SAckOK", b""), ("Timestamp", (0x0a0b0c0d, 0)), ("NOP", None), ("WScale", 7)]
# 1. SYN from a client
emit("kSyn6Frame", Ether(src=m1, dst=m2)/IPv6(src=a1, dst=a2, hlim=64)/
     TCP(sport=40000, dport=80, seq=0x12345678, ack=0, flags="S", window=64800, options=syn_opts))
# 2. SYN-ACK as our builders emit it (flow label 0, hop limit 64, Linux option order)
emit("kSynAck6Frame", Ether(src=m2, dst=m1)/IPv6(src=a2, dst=a1, hlim=64)/
     TCP(sport=80, dport=40000, seq=0xdeadbeef, ack=0x12345679, flags="SA", window=64800,
         options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (0x11223344, 0x0a0b0c0d)), ("NOP", None), ("WScale", 7)]))
# 3. data segment, odd payload length
emit("kData6Frame", Ether(src=m2, dst=m1)/IPv6(src=a2, dst=a1, hlim=64)/
     TCP(sport=80, dport=40000, seq=0xdeadbef0, ack=0x12345679, flags="PA", window=510,
         options=[("NOP", None), ("NOP", None), ("Timestamp", (0x11223345, 0x0a0b0c0e))])/Raw(b"hello, world!"))
# 4. the SYN behind hop-by-hop (router alert), destination options (PadN), routing (segments left 0)
emit("kSyn6ExtFrame", Ether(src=m1, dst=m2)/IPv6(src=a1, dst=a2, hlim=64)/
     IPv6ExtHdrHopByHop(options=[RouterAlert()])/IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00"*4)])/
     IPv6ExtHdrRouting(type=4, segleft=0, addresses=[a2])/
     TCP(sport=40000, dport=80, seq=0x12345678, ack=0, flags="S", window=64800, options=syn_opts))
# 5. atomic fragment (offset 0, M 0: RFC 6946) and a first fragment (M 1)
emit("kSyn6AtomicFragFrame", Ether(src=m1, dst=m2)/IPv6(src=a1, dst=a2, hlim=64)/IPv6ExtHdrFragment(offset=0, m=0, id=0x1234)/
     TCP(sport=40000, dport=80, seq=0x12345678, ack=0, flags="S", window=64800, options=syn_opts))
emit("kSyn6FirstFragFrame", Ether(src=m1, dst=m2)/IPv6(src=a1, dst=a2, hlim=64)/IPv6ExtHdrFragment(offset=0, m=1, id=0x1234)/
     TCP(sport=40000, dport=80, seq=0x12345678, ack=0, flags="S", window=64800, options=syn_opts))
# 6. ICMPv6 echo request (behind a destination options header) and the reply our responder builds
data = bytes(range(56))
emit("kEcho6RequestFrame", Ether(src=m1, dst=m2)/IPv6(src=a1, dst=a2, hlim=63)/IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00"*4)])/
     ICMPv6EchoRequest(id=0x1234, seq=5, data=data))
emit("kEcho6ReplyFrame", Ether(src=m2, dst=m1)/IPv6(src=a2, dst=a1, hlim=64)/ICMPv6EchoReply(id=0x1234, seq=5, data=data))
# 7. Neighbor Discovery: address resolution NS, its solicited NA, DAD NS, unsolicited NA
sn = "ff02::1:ff00:2"
emit("kNsFrame", Ether(src=m1, dst="33:33:ff:00:00:02")/IPv6(src=a1, dst=sn, hlim=255)/
     ICMPv6ND_NS(tgt=a2)/ICMPv6NDOptSrcLLAddr(lladdr=m1))
emit("kNaSolicitedFrame", Ether(src=m2, dst=m1)/IPv6(src=a2, dst=a1, hlim=255)/
     ICMPv6ND_NA(R=0, S=1, O=1, tgt=a2)/ICMPv6NDOptDstLLAddr(lladdr=m2))
emit("kNsDadFrame", Ether(src=m2, dst="33:33:ff:00:00:02")/IPv6(src="::", dst=sn, hlim=255)/ICMPv6ND_NS(tgt=a2))
emit("kNaUnsolicitedFrame", Ether(src=m2, dst="33:33:00:00:00:01")/IPv6(src=a2, dst="ff02::1", hlim=255)/
     ICMPv6ND_NA(R=0, S=0, O=1, tgt=a2)/ICMPv6NDOptDstLLAddr(lladdr=m2))

print("#pragma once")
print("// Known-good IPv6 frames generated with scapy 2.5.0 (/usr/bin/python3), bytes and")
print("// checksums computed by scapy, independently of lib/wire (gen_vectors_v6.py).")
print("// 2001:2::1 (02:00:00:00:00:01, port 40000) and 2001:2::2 (02:00:00:00:00:02, port 80).")
print("#include <cstdint>\n")
print("namespace synmill::wire::test_vectors {\n")
print("\n".join(out))
print("}  // namespace synmill::wire::test_vectors")
