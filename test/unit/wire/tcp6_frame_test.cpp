// TCP over IPv6: the checksum over the RFC 8200 §8.1 pseudo-header, the one
// parse (parse_frame, parse_tcp_frame, peek_tcp_flow) and the one build
// (build_tcp_frame, the frame template) extended to IPv6, byte for byte
// against scapy's frames (test_vectors_v6.hpp); MSS from the MTU.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "test_util.hpp"
#include "test_vectors_v6.hpp"
#include "wire/checksum6.hpp"
#include "wire/flow_peek.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_parse.hpp"
#include "wire/tcp_template.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

constexpr MacAddr kMac1 = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kMac2 = {0x02, 0, 0, 0, 0, 0x02};
constexpr ParseFlags kV6{true, true, true};
constexpr ParseFlags kV6Trust{false, false, true};

TcpFrameSpec synack6_spec() {
  TcpFrameSpec s;
  s.family = IpFamily::kV6;
  s.src_mac = kMac2;
  s.dst_mac = kMac1;
  s.src_ip6 = kA2;
  s.dst_ip6 = kA1;
  s.src_port = 80;
  s.dst_port = 40000;
  s.seq = 0xdeadbeef;
  s.ack = 0x12345679;
  s.flags = tcp_flag::kSyn | tcp_flag::kAck;
  s.window = 64800;
  s.opts.has_mss = true;
  s.opts.mss = 1440;
  s.opts.sack_permitted = true;
  s.opts.has_timestamps = true;
  s.opts.ts_val = 0x11223344;
  s.opts.ts_ecr = 0x0a0b0c0d;
  s.opts.has_wscale = true;
  s.opts.wscale = 7;
  return s;
}

TcpFrameParse fast(const std::vector<uint8_t>& f, ParseFlags flags, TcpFrameView& v, TcpOptions& o, ParseError& e) {
  return parse_tcp_frame(f, flags, v, o, e);
}

}  // namespace

TEST_CASE("tcp6 checksum: scapy's frames verify; the library agrees with the RFC 1071 reference", "[wire][ipv6]") {
  for (const auto& f : {bytes_of(tv::kSyn6Frame), bytes_of(tv::kSynAck6Frame), bytes_of(tv::kData6Frame)}) {
    const std::span<const uint8_t> seg(f.data() + 54, f.size() - 54);
    CHECK(tcp6_checksum_ok(f.data() + 22, f.data() + 38, seg));
    const uint16_t stored = load_be16(seg.data() + 16);
    CHECK(tcp6_checksum(f.data() + 22, f.data() + 38, seg) == stored);  // as if the field were zero
    std::vector<uint8_t> zeroed(seg.begin(), seg.end());
    zeroed[16] = zeroed[17] = 0;
    CHECK(reference_checksum6(Ipv6Addr::load(f.data() + 22), Ipv6Addr::load(f.data() + 38), 6, zeroed) == stored);
    CHECK(l4_checksum6_zeroed(f.data() + 22, f.data() + 38, 6, zeroed) == stored);
    // Swapping the addresses keeps the sum; changing one does not.
    CHECK(tcp6_checksum_ok(f.data() + 38, f.data() + 22, seg));
    Ipv6Addr other = kA1;
    other.b[15] = 9;
    CHECK_FALSE(tcp6_checksum_ok(other.b.data(), f.data() + 38, seg));
  }
  // Odd lengths and every length up to 300 against the reference.
  std::vector<uint8_t> d(19, 0x5A);
  for (size_t n = 20; n < 300; ++n) {
    d.push_back(static_cast<uint8_t>(n * 37 + 11));
    std::vector<uint8_t> z = d;
    z[16] = z[17] = 0;
    INFO("length " << d.size());
    REQUIRE(l4_checksum6(kA1.b.data(), kA2.b.data(), 6, d, 16) == reference_checksum6(kA1, kA2, 6, z));
  }
  // Offload: the uncomplemented pseudo-header sum (rte_ipv6_phdr_cksum's).
  const uint16_t ph = tcp6_pseudo_header_checksum(kA1.b.data(), kA2.b.data(), 40);
  std::vector<uint8_t> forty(40, 0);
  CHECK(static_cast<uint16_t>(~reference_checksum6(kA1, kA2, 6, forty)) == ph);
}

TEST_CASE("tcp6 parse: parse_frame and parse_tcp_frame read scapy's SYN", "[wire][ipv6]") {
  const auto f = bytes_of(tv::kSyn6Frame);
  const auto full = parse_frame(f, kV6);
  REQUIRE(full.ok());
  CHECK(full->kind == FrameKind::kIpv6Tcp);
  CHECK(full->ip6.src() == kA1);
  CHECK(full->ip6.dst() == kA2);
  CHECK(full->tcp.src_port() == 40000);
  CHECK(full->tcp.dst_port() == 80);
  CHECK(full->tcp.seq() == 0x12345678);
  CHECK(full->tcp.flags() == tcp_flag::kSyn);
  CHECK(full->opts.has_mss);
  CHECK(full->opts.mss == 1440);
  CHECK(full->opts.wscale == 7);
  CHECK(full->opts.has_timestamps);
  CHECK(full->opts.ts_val == 0x0a0b0c0d);
  CHECK(full->payload.empty());

  TcpFrameView v;
  TcpOptions o;
  ParseError e{};
  REQUIRE(fast(f, kV6, v, o, e) == TcpFrameParse::kTcp);
  CHECK(v.is_ipv6());
  CHECK(v.src_ip6() == kA1);
  CHECK(v.dst_ip6() == kA2);
  CHECK(std::memcmp(v.src_ip6_bytes(), kA1.b.data(), 16) == 0);
  CHECK(v.src_port() == 40000);
  CHECK(v.dst_port() == 80);
  CHECK(v.seq() == 0x12345678);
  CHECK(v.flags() == tcp_flag::kSyn);
  CHECK(v.window() == 64800);
  CHECK(v.segment().data() == f.data() + 54);
  CHECK(v.options().data() == full->tcp.options().data());
  CHECK(o.mss == 1440);
  CHECK(o.has_wscale);
}

TEST_CASE("tcp6 parse: IPv4-only callers (accept_ipv6 unset) see IPv6 as before", "[wire][ipv6]") {
  const auto f = bytes_of(tv::kSyn6Frame);
  const auto full = parse_frame(f);
  REQUIRE(full.ok());
  CHECK(full->kind == FrameKind::kOther);
  TcpFrameView v;
  TcpOptions o;
  ParseError e{};
  CHECK(fast(f, kVerifyChecksums, v, o, e) == TcpFrameParse::kNotTcp);
  CHECK_FALSE(peek_tcp_flow(f));
}

TEST_CASE("tcp6 parse: behind extension headers and an atomic fragment", "[wire][ipv6]") {
  for (const auto& f : {bytes_of(tv::kSyn6ExtFrame), bytes_of(tv::kSyn6AtomicFragFrame)}) {
    const auto full = parse_frame(f, kV6);
    REQUIRE(full.ok());
    CHECK(full->kind == FrameKind::kIpv6Tcp);
    CHECK(full->tcp.seq() == 0x12345678);
    TcpFrameView v;
    TcpOptions o;
    ParseError e{};
    REQUIRE(fast(f, kV6, v, o, e) == TcpFrameParse::kTcp);
    CHECK(v.segment().data() == full->tcp.bytes().data());
    CHECK(v.segment().size() == sizeof(tv::kSyn6Frame) - 54);
    CHECK(o.mss == 1440);
    const auto p = peek_tcp_flow(f, true);
    REQUIRE(p.has_value());
    CHECK(p->family == IpFamily::kV6);
    CHECK(p->src_ip6 == kA1);
    CHECK(p->dst_ip6 == kA2);
    CHECK(p->src_port == 40000);
    CHECK(p->dst_port == 80);
    CHECK(p->flags == tcp_flag::kSyn);
  }
}

TEST_CASE("tcp6 parse: errors, the same from both parsers", "[wire][ipv6]") {
  auto expect = [](const std::vector<uint8_t>& f, ParseError want) {
    const auto full = parse_frame(f, kV6);
    REQUIRE_FALSE(full.ok());
    CHECK(full.error() == want);
    TcpFrameView v;
    TcpOptions o;
    ParseError e{};
    REQUIRE(fast(f, kV6, v, o, e) == TcpFrameParse::kError);
    CHECK(e == want);
  };
  const auto syn = bytes_of(tv::kSyn6Frame);
  SECTION("bad checksum; trusted when the NIC verified it") {
    auto f = syn;
    f[54 + 4] ^= 1;  // sequence number
    expect(f, ParseError::kBadTcpChecksum);
    CHECK(parse_frame(f, kV6Trust).ok());
  }
  SECTION("fragment") { expect(bytes_of(tv::kSyn6FirstFragFrame), ParseError::kIpFragment); }
  SECTION("payload length beyond the frame") {
    auto f = syn;
    f[19] = static_cast<uint8_t>(f[19] + 1);
    expect(f, ParseError::kIp6PayloadLenBeyondFrame);
  }
  SECTION("TCP header truncated") {
    const std::vector<uint8_t> seg(syn.begin() + 54, syn.begin() + 54 + 19);
    expect(make_frame6(6, {}, 6, seg), ParseError::kTcpTruncated);
  }
  SECTION("data offset beyond the segment") {
    std::vector<uint8_t> seg(syn.begin() + 54, syn.begin() + 54 + 20);
    seg[12] = 0x60;
    expect(make_frame6(6, {}, 6, seg), ParseError::kTcpDataOffsetBeyondSegment);
  }
  SECTION("bad data offset") {
    std::vector<uint8_t> seg(syn.begin() + 54, syn.end());
    seg[12] = 0x40;
    expect(make_frame6(6, {}, 6, seg), ParseError::kTcpBadDataOffset);
  }
  SECTION("bad option") {
    std::vector<uint8_t> seg(syn.begin() + 54, syn.end());
    seg[21] = 5;  // MSS length 5
    expect(make_frame6(6, {}, 6, seg), ParseError::kOptBadMssLength);
  }
  SECTION("routing header with segments left") {
    std::vector<uint8_t> seg(syn.begin() + 54, syn.end());
    expect(make_frame6(43, {6, 0, 4, 1, 0, 0, 0, 0}, 6, seg), ParseError::kIp6RoutingSegmentsLeft);
  }
}

TEST_CASE("tcp6 parse: the checksum covers the upper-layer length, not the payload length", "[wire][ipv6]") {
  // RFC 8200 §8.1: behind 8 bytes of destination options the pseudo-header
  // length is the TCP segment's.
  const auto syn = bytes_of(tv::kSyn6Frame);
  const std::vector<uint8_t> seg(syn.begin() + 54, syn.end());
  const auto f = make_frame6(60, {6, 0, 1, 4, 0, 0, 0, 0}, 6, seg);
  CHECK(std::equal(seg.begin() + 16, seg.begin() + 18, f.begin() + 62 + 16));  // same checksum as without
  const auto full = parse_frame(f, kV6);
  REQUIRE(full.ok());
  CHECK(full->kind == FrameKind::kIpv6Tcp);
}

TEST_CASE("tcp6 build: build_tcp_frame writes scapy's SYN-ACK and data segment", "[wire][ipv6]") {
  TcpFrameSpec s = synack6_spec();
  std::vector<uint8_t> out(256);
  const size_t n = build_tcp_frame(out, s, {});
  REQUIRE(n == sizeof(tv::kSynAck6Frame));
  out.resize(n);
  CHECK(out == bytes_of(tv::kSynAck6Frame));
  CHECK(tcp_frame_header_len(s.opts, IpFamily::kV6) == n);

  TcpFrameSpec d = synack6_spec();
  d.seq = 0xdeadbef0;
  d.flags = tcp_flag::kPsh | tcp_flag::kAck;
  d.window = 510;
  d.opts = TcpOptions{};
  d.opts.has_timestamps = true;
  d.opts.ts_val = 0x11223345;
  d.opts.ts_ecr = 0x0a0b0c0e;
  const std::string_view text = "hello, world!";
  std::vector<uint8_t> out2(256);
  const size_t n2 = build_tcp_frame(out2, d, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  out2.resize(n2);
  CHECK(out2 == bytes_of(tv::kData6Frame));

  // Checksums offloaded: zero left in the field; too small a buffer: 0.
  std::vector<uint8_t> off(256);
  REQUIRE(build_tcp_frame(off, s, {}, true, false) == n);
  CHECK(load_be16(off.data() + 54 + 16) == 0);
  std::vector<uint8_t> small(n - 1);
  CHECK(build_tcp_frame(small, s, {}) == 0);
}

TEST_CASE("tcp6 build: the frame template writes the same bytes", "[wire][ipv6]") {
  const TcpFrameSpec s = synack6_spec();
  const TcpFrameTemplate tpl(kMac2, 64);
  std::vector<uint8_t> out(256, 0xCC);
  const size_t olen = tcp_options_len(s.opts);
  tpl.write_headers6(out.data(), kMac1, kA2, kA1, s, s.opts, olen, 0);
  fill_tcp6_checksum(out.data(), 20 + olen);
  out.resize(74 + olen);
  CHECK(out == bytes_of(tv::kSynAck6Frame));

  // With a payload: header, then the caller's bytes, then the checksum.
  TcpFrameSpec d = s;
  d.opts = TcpOptions{};
  d.flags = tcp_flag::kAck;
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  std::vector<uint8_t> a(256), b(256);
  tpl.write_headers6(a.data(), kMac1, kA2, kA1, d, d.opts, 0, payload.size());
  std::memcpy(a.data() + 74, payload.data(), payload.size());
  fill_tcp6_checksum(a.data(), 20 + payload.size());
  const size_t nb = build_tcp_frame(b, d, payload);
  REQUIRE(nb == 74 + payload.size());
  CHECK(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(nb), b.begin()));
  // The IPv4 template output is untouched by the IPv6 prefix beside it.
  TcpFrameSpec v4;
  std::vector<uint8_t> c(256), r(256);
  tpl.write_headers(c.data(), kMac1, v4, v4.opts, 0, 0, 0, true);
  fill_tcp_checksum(c.data(), 20);
  v4.src_mac = kMac2;
  v4.dst_mac = kMac1;
  REQUIRE(build_tcp_frame(r, v4, {}) == 54);
  CHECK(std::equal(c.begin(), c.begin() + 54, r.begin()));
}

TEST_CASE("tcp6 build: a reply written over the frame it answers takes that frame's addresses", "[wire][ipv6]") {
  // The data plane builds a SYN-ACK or RST in the mbuf of the segment it
  // answers, with src and dst pointing at that segment's own addresses
  // (swapped). Both must be read before either is written.
  const TcpFrameSpec s = synack6_spec();
  const TcpFrameTemplate tpl(kMac2, 64);
  std::vector<uint8_t> frame(256, 0);
  const size_t olen = tcp_options_len(s.opts);
  tpl.write_headers6(frame.data(), kMac2, kA1, kA2, s, s.opts, olen, 0);  // "the received segment": kA1 -> kA2
  const Ipv6Addr& rx_src = *reinterpret_cast<const Ipv6Addr*>(frame.data() + 14 + 8);
  const Ipv6Addr& rx_dst = *reinterpret_cast<const Ipv6Addr*>(frame.data() + 14 + 24);
  tpl.write_headers6(frame.data(), kMac1, rx_dst, rx_src, s, s.opts, olen, 0);
  fill_tcp6_checksum(frame.data(), 20 + olen);
  frame.resize(74 + olen);
  CHECK(frame == bytes_of(tv::kSynAck6Frame));
}

TEST_CASE("tcp6 build: what was built parses back to the same fields", "[wire][ipv6]") {
  TcpFrameSpec s = synack6_spec();
  const std::vector<uint8_t> payload(1000, 0x5A);
  std::vector<uint8_t> out(2048);
  const size_t n = build_tcp_frame(out, s, payload);
  REQUIRE(n == 74 + tcp_options_len(s.opts) + payload.size());
  out.resize(n);
  const auto f = parse_frame(out, kV6);
  REQUIRE(f.ok());
  CHECK(f->kind == FrameKind::kIpv6Tcp);
  CHECK(f->ip6.src() == kA2);
  CHECK(f->ip6.dst() == kA1);
  CHECK(f->ip6.hop_limit() == 64);
  CHECK(f->ip6.payload_len() == n - 54);
  CHECK(f->tcp.ack() == 0x12345679);
  CHECK(f->payload.size() == payload.size());
  CHECK(f->opts.mss == 1440);
}

TEST_CASE("tcp6 build: limits and finish_tcp_frame's checks", "[wire][ipv6]") {
  TcpFrameSpec s = synack6_spec();
  s.opts = TcpOptions{};
  // The IPv6 payload length (TCP header + data) is 16 bits; the 40-byte header is outside it.
  CHECK(tcp_frame_max_payload(s.opts, IpFamily::kV6) == 0xFFFF - 20);
  CHECK(tcp_frame_max_payload(s.opts, IpFamily::kV4) == 0xFFFF - 40);
  std::vector<uint8_t> big(74 + 0xFFFF - 20);
  const std::vector<uint8_t> payload(0xFFFF - 20, 1);
  CHECK(build_tcp_frame(big, s, payload) == big.size());
  const std::vector<uint8_t> too_much(0xFFFF - 19, 1);
  big.resize(74 + too_much.size());
  CHECK(build_tcp_frame(big, s, too_much) == 0);
  // finish_tcp_frame refuses an IPv6 header that is not ours (extension headers).
  std::vector<uint8_t> f(200);
  REQUIRE(write_tcp_frame_headers(f, s) == 74);
  f[20] = 60;  // next header: destination options
  CHECK(finish_tcp_frame(f, 0) == 0);
}

TEST_CASE("MSS from the MTU: MTU - 40 for IPv4, MTU - 60 for IPv6 (RFC 8200 §8.3)", "[wire][ipv6]") {
  CHECK(tcp_mss_for_mtu(1500, IpFamily::kV4) == 1460);
  CHECK(tcp_mss_for_mtu(1500, IpFamily::kV6) == 1440);
  CHECK(tcp_mss_for_mtu(1280, IpFamily::kV6) == 1220);
  CHECK(tcp_mss_for_mtu(9000, IpFamily::kV6) == 8940);
  CHECK(tcp_mss_for_mtu(60, IpFamily::kV6) == 0);
  CHECK(tcp_mss_for_mtu(100000, IpFamily::kV6) == 0xFFFF);
  CHECK(tcp_default_mss(IpFamily::kV4) == 536);
  CHECK(tcp_default_mss(IpFamily::kV6) == 1220);
}

TEST_CASE("peek_tcp_flow: IPv6 only when asked, never past what Ipv6View accepts", "[wire][ipv6]") {
  const auto syn = bytes_of(tv::kSyn6Frame);
  const auto p = peek_tcp_flow(syn, true);
  REQUIRE(p.has_value());
  CHECK(p->family == IpFamily::kV6);
  CHECK(p->src_ip == 0);
  CHECK(p->src_ip6 == kA1);
  CHECK(p->dst_ip6 == kA2);
  CHECK(p->src_port == 40000);
  CHECK(p->dst_port == 80);
  CHECK(p->flags == tcp_flag::kSyn);
  CHECK_FALSE(peek_tcp_flow(syn));                                    // not asked
  CHECK_FALSE(peek_tcp_flow(bytes_of(tv::kSyn6FirstFragFrame), true));  // fragment
  CHECK_FALSE(peek_tcp_flow(bytes_of(tv::kEcho6RequestFrame), true));   // ICMPv6
  auto cut = syn;
  cut[18] = 0;
  cut[19] = 3;  // payload length 3: ports cut off
  CHECK_FALSE(peek_tcp_flow(cut, true));
  cut[19] = 4;
  const auto ports_only = peek_tcp_flow(cut, true);
  REQUIRE(ports_only.has_value());
  CHECK(ports_only->flags == 0);
  const auto empty = make_frame6(6, {}, 6, {});
  CHECK_FALSE(peek_tcp_flow(empty, true));  // TCP with no bytes: nothing to read
}

TEST_CASE("tcp6 parse: a multicast destination parses; judging destinations is the data plane's", "[wire][ipv6]") {
  // fuzz_wire found that such a segment, answered by swapping addresses,
  // gives a frame from a multicast source, which the parse drops (RFC 4291
  // §2.7): as for IPv4, lib/wire does not know our addresses, the caller
  // answers only its own unicast ones.
  const auto syn = bytes_of(tv::kSyn6Frame);
  const std::vector<uint8_t> seg(syn.begin() + 54, syn.end());
  const auto group = Ipv6Addr::from_groups({0xFF01, 2, 0, 0, 0, 0, 0, 2});
  const auto f = make_frame6(6, {}, 6, seg, kA1, group);
  const auto full = parse_frame(f, kV6);
  REQUIRE(full.ok());
  CHECK(full->kind == FrameKind::kIpv6Tcp);
  CHECK(full->ip6.dst().is_multicast());
  const auto swapped = make_frame6(6, {}, 6, seg, group, kA1);
  const auto back = parse_frame(swapped, kV6);
  REQUIRE_FALSE(back.ok());
  CHECK(back.error() == ParseError::kIp6MulticastSource);
}
