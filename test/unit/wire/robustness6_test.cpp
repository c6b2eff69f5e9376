// Randomized robustness of the IPv6 side (deterministic: one seeded
// generator, every draw sequenced): scapy's IPv6 frames mutated in the
// header, the extension header chain and the upper layer, checksums
// sometimes made right again, each in a heap buffer of exactly its size (ASan
// catches any read past it). Checked: parse_frame and parse_tcp_frame agree
// (kind, error, fields), peek_tcp_flow reads what they read, every span lies
// inside the input, parse_nd and the echo responder take whatever ICMPv6
// parse_frame accepts.
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors_v6.hpp"
#include "wire/checksum6.hpp"
#include "wire/flow_peek.hpp"
#include "wire/frame.hpp"
#include "wire/ndp.hpp"
#include "wire/tcp_parse.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

using Rng = std::mt19937_64;

bool inside(std::span<const uint8_t> s, const std::vector<uint8_t>& buf) {
  return s.empty() || (s.data() >= buf.data() && s.data() + s.size() <= buf.data() + buf.size());
}

std::vector<uint8_t> seed(Rng& rng) {
  switch (rng() % 8) {
    case 0: return bytes_of(tv::kSyn6Frame);
    case 1: return bytes_of(tv::kData6Frame);
    case 2: return bytes_of(tv::kSyn6ExtFrame);
    case 3: return bytes_of(tv::kSyn6AtomicFragFrame);
    case 4: return bytes_of(tv::kEcho6RequestFrame);
    case 5: return bytes_of(tv::kNsFrame);
    case 6: return bytes_of(tv::kNaSolicitedFrame);
    default: return bytes_of(tv::kNsDadFrame);
  }
}

constexpr uint8_t kNextHeaders[] = {0, 43, 44, 60, 6, 58, 17, 59, 51};

void mutate(std::vector<uint8_t>& f, Rng& rng) {
  const int rounds = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 8) {
      case 0:  // truncate
        f.resize(rng() % (f.size() + 1));
        break;
      case 1:  // payload length
        if (f.size() >= 20) {
          f[18] = static_cast<uint8_t>(rng() % 2);
          f[19] = static_cast<uint8_t>(rng());
        }
        break;
      case 2:  // a next header somewhere in the first 120 bytes
        if (f.size() > 20) {
          const size_t at = rng() % 2 ? 20 : 54 + rng() % 64;
          if (at < f.size()) f[at] = kNextHeaders[rng() % std::size(kNextHeaders)];
        }
        break;
      case 3:  // an extension header's length or option bytes
        if (f.size() > 56) f[55 + rng() % std::min<size_t>(f.size() - 55, 40)] = static_cast<uint8_t>(rng() % 8);
        break;
      case 4:  // version, source's first byte, hop limit
        if (f.size() > 22) {
          const size_t at = std::array<size_t, 3>{14, 22, 21}[rng() % 3];
          f[at] = static_cast<uint8_t>(rng());
        }
        break;
      case 5:  // random byte anywhere
        if (!f.empty()) f[rng() % f.size()] = static_cast<uint8_t>(rng());
        break;
      case 6:  // Ethernet padding
        f.resize(f.size() + rng() % 16, 0xEE);
        break;
      default:  // unspecified source
        if (f.size() >= 38) std::fill(f.begin() + 22, f.begin() + 38, 0);
        break;
    }
  }
}

// Makes the TCP or ICMPv6 checksum right, when the chain can be walked.
void refresh(std::vector<uint8_t>& f) {
  if (f.size() < kEthHeaderLen) return;
  const auto ip = Ipv6View::parse(std::span<const uint8_t>(f).subspan(kEthHeaderLen));
  if (!ip) return;
  const size_t off = kEthHeaderLen + ip->upper_offset();
  const size_t len = ip->upper().size();
  const size_t csum = ip->upper_protocol() == 6 ? 16 : ip->upper_protocol() == 58 ? 2 : SIZE_MAX;
  if (csum == SIZE_MAX || csum + 2 > len) return;
  f[off + csum] = f[off + csum + 1] = 0;
  const uint16_t c = l4_checksum6_zeroed(f.data() + 22, f.data() + 38, ip->upper_protocol(), {f.data() + off, len});
  store_be16(f.data() + off + csum, c);
}

}  // namespace

TEST_CASE("robustness6: 100k mutated IPv6 frames: no crash, both parsers agree", "[wire][ipv6]") {
  Rng rng(0x1F6);
  std::array<size_t, kParseErrorCount> errors{};
  size_t tcp = 0, icmp = 0, other = 0, nd_ok = 0, echo = 0;
  for (int iter = 0; iter < 100000; ++iter) {
    std::vector<uint8_t> f = seed(rng);
    if (rng() % 8 != 0) mutate(f, rng);
    if (rng() % 2) refresh(f);
    const std::vector<uint8_t> in(f.begin(), f.end());
    const ParseFlags flags{rng() % 4 != 0, rng() % 4 != 0, true};
    const auto r = parse_frame(in, flags);
    TcpFrameView v;
    TcpOptions o;
    ParseError e{};
    const TcpFrameParse fr = parse_tcp_frame(in, flags, v, o, e);
    if (!r.ok()) {
      ++errors[static_cast<size_t>(r.error())];
      REQUIRE(fr != TcpFrameParse::kTcp);
      if (fr == TcpFrameParse::kError) REQUIRE(e == r.error());
      continue;
    }
    REQUIRE(inside(r->payload, in));
    switch (r->kind) {
      case FrameKind::kIpv6Tcp: {
        ++tcp;
        REQUIRE(fr == TcpFrameParse::kTcp);
        REQUIRE(v.segment().data() == r->tcp.bytes().data());
        REQUIRE(v.segment().size() == r->tcp.bytes().size());
        REQUIRE(v.src_ip6() == r->ip6.src());
        REQUIRE(v.seq() == r->tcp.seq());
        REQUIRE(o.mss == r->opts.mss);
        REQUIRE(inside(r->tcp.bytes(), in));
        REQUIRE(r->tcp.bytes().data() + r->tcp.bytes().size() == r->ip6.bytes().data() + r->ip6.bytes().size());
        const auto p = peek_tcp_flow(in, true);
        REQUIRE(p.has_value());
        REQUIRE(p->src_ip6 == r->ip6.src());
        REQUIRE(p->dst_ip6 == r->ip6.dst());
        REQUIRE(p->src_port == r->tcp.src_port());
        REQUIRE(p->dst_port == r->tcp.dst_port());
        break;
      }
      case FrameKind::kIpv6Icmp: {
        ++icmp;
        REQUIRE(fr == TcpFrameParse::kNotTcp);
        REQUIRE(inside(r->icmp6.bytes(), in));
        const uint8_t t = r->icmp6.type();
        if (t == icmp6_type::kNeighborSolicit || t == icmp6_type::kNeighborAdvert) {
          const auto nd = parse_nd(r->ip6, r->icmp6);
          if (nd.ok()) {
            ++nd_ok;
            REQUIRE_FALSE(nd->target.is_multicast());
          } else {
            ++errors[static_cast<size_t>(nd.error())];
          }
        }
        if (r->icmp6.is_echo_request() && flags.verify_l4_checksum) {
          std::vector<uint8_t> reply(in);
          const size_t n = icmpv6_echo_reply_in_place(reply, MacAddr{2, 0, 0, 0, 0, 2}, kA2);
          if (!r->ip6.src().is_unspecified()) {
            REQUIRE(n > 0);
            reply.resize(n);
            const auto back = parse_frame(reply, ParseFlags{true, true, true});
            REQUIRE(back.ok());
            REQUIRE(back->kind == FrameKind::kIpv6Icmp);
            REQUIRE(back->icmp6.type() == icmp6_type::kEchoReply);
            REQUIRE(back->payload.size() == r->payload.size());
            ++echo;
          }
        }
        break;
      }
      case FrameKind::kIpv6Other:
        ++other;
        REQUIRE(fr == TcpFrameParse::kNotTcp);
        break;
      default:  // a mutation hit the EtherType
        REQUIRE(load_be16(in.data() + 12) != ethertype::kIpv6);
        break;
    }
  }
  CHECK(tcp > 0);
  CHECK(icmp > 0);
  CHECK(other > 0);
  CHECK(nd_ok > 0);
  CHECK(echo > 0);
  // The mix reaches the IPv6 header and chain errors and the ND rules a
  // mutation can break (the rest have targeted tests in ipv6_test/ndp_test).
  for (ParseError want : {ParseError::kIp6Truncated, ParseError::kIp6BadVersion, ParseError::kIp6PayloadLenBeyondFrame,
                          ParseError::kIp6MulticastSource, ParseError::kIp6ExtTruncated,
                          ParseError::kIp6HopByHopNotFirst, ParseError::kIp6ExtRepeated,
                          ParseError::kIp6OptionOverrun, ParseError::kIp6OptionUnrecognized,
                          ParseError::kIp6RoutingSegmentsLeft, ParseError::kIpFragment, ParseError::kIcmp6Truncated,
                          ParseError::kBadIcmp6Checksum, ParseError::kBadTcpChecksum, ParseError::kTcpTruncated,
                          ParseError::kNdBadHopLimit, ParseError::kNdTruncated,
                          ParseError::kNdUnspecifiedSourceWithSlla}) {
    INFO("error " << to_string(want));
    CHECK(errors[static_cast<size_t>(want)] > 0);
  }
}
