#!/usr/bin/python3
# Regenerates the byte arrays of test_vectors.hpp with scapy (independent of lib/wire):
#   /usr/bin/python3 test/unit/wire/gen_vectors.py
from scapy.all import Ether, IP, TCP, ICMP, ARP, Raw, raw
def carr(name, b):
    s = f"constexpr uint8_t {name}[] = {{\n"
    for i in range(0, len(b), 12):
        s += "    " + ", ".join(f"0x{x:02x}" for x in b[i:i+12]) + ",\n"
    return s + "};\n"
out = []
m1 = "02:00:00:00:00:01"; m2 = "02:00:00:00:00:02"
# 1. Linux-style SYN from a client (MSS, SACK_PERM, TS, NOP, WS)
syn = Ether(src=m1, dst=m2)/IP(src="198.18.0.1", dst="198.18.0.2", id=0x1c46, flags="DF", ttl=64)/TCP(sport=40000, dport=80, seq=0x12345678, ack=0, flags="S", window=64240,
  options=[("MSS",1460),("SAckOK",b""),("Timestamp",(0x0a0b0c0d,0)),("NOP",None),("WScale",7)])
b = raw(syn); p = Ether(b)
out.append(f"// scapy: {syn.summary()}  ip.chksum=0x{p[IP].chksum:04x} tcp.chksum=0x{p[TCP].chksum:04x}\n" + carr("kSynFrame", b))
# 2. SYN-ACK as our builder should emit it (Linux order)
synack = Ether(src=m2, dst=m1)/IP(src="198.18.0.2", dst="198.18.0.1", id=0, flags="DF", ttl=64)/TCP(sport=80, dport=40000, seq=0xdeadbeef, ack=0x12345679, flags="SA", window=65160,
  options=[("MSS",1460),("SAckOK",b""),("Timestamp",(0x11223344,0x0a0b0c0d)),("NOP",None),("WScale",7)])
b = raw(synack); p = Ether(b)
out.append(f"// scapy: {synack.summary()}  ip.chksum=0x{p[IP].chksum:04x} tcp.chksum=0x{p[TCP].chksum:04x}\n" + carr("kSynAckFrame", b))
# 3. data segment with TS and payload, odd length
data = Ether(src=m2, dst=m1)/IP(src="198.18.0.2", dst="198.18.0.1", id=7, flags="DF", ttl=64)/TCP(sport=80, dport=40000, seq=0xdeadbef0, ack=0x12345679, flags="PA", window=510,
  options=[("NOP",None),("NOP",None),("Timestamp",(0x11223345,0x0a0b0c0e))])/Raw(b"hello, world!")
b = raw(data); p = Ether(b)
out.append(f"// scapy: {data.summary()}  ip.chksum=0x{p[IP].chksum:04x} tcp.chksum=0x{p[TCP].chksum:04x}\n" + carr("kDataFrame", b))
# 4. bare ACK padded to 60 bytes
ack = Ether(src=m1, dst=m2)/IP(src="198.18.0.1", dst="198.18.0.2", id=2, flags="DF", ttl=64)/TCP(sport=40000, dport=80, seq=0x12345679, ack=0xdeadbef0, flags="A", window=502)
b = raw(ack); b = b + bytes([0xee]*(60-len(b)))
out.append(f"// scapy: {ack.summary()} + 6 bytes Ethernet padding (0xee)\n" + carr("kPaddedAckFrame", b))
# 5. ICMP echo request and reply
req = Ether(src=m1, dst=m2)/IP(src="198.18.0.1", dst="198.18.0.2", id=0x4242, ttl=63)/ICMP(type=8, id=0x1234, seq=5)/Raw(bytes(range(56)))
rep = Ether(src=m2, dst=m1)/IP(src="198.18.0.2", dst="198.18.0.1", id=0x4242, ttl=64)/ICMP(type=0, id=0x1234, seq=5)/Raw(bytes(range(56)))
out.append("// scapy: ICMP echo request\n" + carr("kEchoRequestFrame", raw(req)))
out.append("// scapy: the matching echo reply (TTL 64, same id)\n" + carr("kEchoReplyFrame", raw(rep)))
# 6. ARP request / reply
areq = Ether(src=m1, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=m1, psrc="198.18.0.1", hwdst="00:00:00:00:00:00", pdst="198.18.0.2")
arep = Ether(src=m2, dst=m1)/ARP(op=2, hwsrc=m2, psrc="198.18.0.2", hwdst=m1, pdst="198.18.0.1")
out.append("// scapy: ARP who-has 198.18.0.2 tell 198.18.0.1\n" + carr("kArpRequestFrame", raw(areq)))
out.append("// scapy: ARP 198.18.0.2 is-at 02:00:00:00:00:02\n" + carr("kArpReplyFrame", raw(arep)))
# 7. SACK blocks ack
sack = Ether(src=m2, dst=m1)/IP(src="198.18.0.2", dst="198.18.0.1", id=9, flags="DF", ttl=64)/TCP(sport=80, dport=40000, seq=0xdeadbef0, ack=0x12345679, flags="A", window=510,
  options=[("NOP",None),("NOP",None),("Timestamp",(1,2)),("NOP",None),("NOP",None),("SAck",(0x1000,0x2000,0x3000,0x4000))])
b = raw(sack); p = Ether(b)
out.append(f"// scapy: ACK with TS and 2 SACK blocks  tcp.chksum=0x{p[TCP].chksum:04x}\n" + carr("kSackAckFrame", b))
print("\n".join(out))
