// ICMPv6 (RFC 4443): parse, checksum over the pseudo-header (§2.3), and the
// echo reply built in place (§4.2), byte for byte against scapy's reply.
#include <catch2/catch.hpp>

#include <vector>

#include "test_util.hpp"
#include "test_vectors_v6.hpp"
#include "wire/frame.hpp"
#include "wire/icmpv6.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {
constexpr MacAddr kMac2 = {0x02, 0, 0, 0, 0, 0x02};
constexpr ParseFlags kV6{true, true, true};

std::vector<uint8_t> echo_request(std::vector<uint8_t> data, const Ipv6Addr& src = kA1, const Ipv6Addr& dst = kA2) {
  std::vector<uint8_t> m = {128, 0, 0, 0, 0x12, 0x34, 0x00, 0x05};
  m.insert(m.end(), data.begin(), data.end());
  return make_frame6(ip_proto::kIcmpv6, {}, ip_proto::kIcmpv6, m, src, dst);
}
}  // namespace

TEST_CASE("icmpv6: scapy's echo request parses, behind its destination options", "[wire][ipv6]") {
  const auto f = bytes_of(tv::kEcho6RequestFrame);
  const auto r = parse_frame(f, kV6);
  REQUIRE(r.ok());
  CHECK(r->kind == FrameKind::kIpv6Icmp);
  CHECK(r->ip6.ext_len() == 8);
  CHECK(r->icmp6.type() == icmp6_type::kEchoRequest);
  CHECK(r->icmp6.is_echo_request());
  CHECK(r->icmp6.echo_id() == 0x1234);
  CHECK(r->icmp6.echo_seq() == 5);
  CHECK(r->payload.size() == 56);
  CHECK(r->payload[55] == 55);
  CHECK(r->icmp6.checksum_ok(r->ip6));
}

TEST_CASE("icmpv6: errors", "[wire][ipv6]") {
  SECTION("fewer than 8 bytes") {
    const auto f = make_frame6(ip_proto::kIcmpv6, {}, ip_proto::kIcmpv6, {128, 0, 0, 0, 0, 0, 0});
    const auto r = parse_frame(f, kV6);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ParseError::kIcmp6Truncated);
  }
  SECTION("bad checksum: a bit flipped, or the pseudo-header's address changed") {
    auto f = bytes_of(tv::kEcho6RequestFrame);
    f.back() ^= 0x40;
    auto r = parse_frame(f, kV6);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ParseError::kBadIcmp6Checksum);
    CHECK(parse_frame(f, ParseFlags{true, false, true}).ok());  // trusted

    auto g = bytes_of(tv::kEcho6RequestFrame);
    g[14 + 8 + 15] = 9;  // source 2001:2::9: the message is intact, the pseudo-header is not
    r = parse_frame(g, kV6);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ParseError::kBadIcmp6Checksum);
  }
}

TEST_CASE("icmpv6 echo reply in place: scapy's reply, extension header dropped", "[wire][ipv6]") {
  auto f = bytes_of(tv::kEcho6RequestFrame);
  const size_t n = icmpv6_echo_reply_in_place(f, kMac2, kA2, 64);
  REQUIRE(n == sizeof(tv::kEcho6ReplyFrame));
  f.resize(n);
  CHECK(f == bytes_of(tv::kEcho6ReplyFrame));
  const auto r = parse_frame(f, kV6);
  REQUIRE(r.ok());
  CHECK(r->icmp6.type() == icmp6_type::kEchoReply);
}

TEST_CASE("icmpv6 echo reply in place: odd data, padding, a multicast destination", "[wire][ipv6]") {
  // A request to ff02::1 is answered from our unicast address (RFC 4443 §4.2).
  auto f = echo_request({1, 2, 3}, kA1, kAllNodesAddr);
  f.resize(f.size() + 7, 0xEE);  // Ethernet padding
  const size_t n = icmpv6_echo_reply_in_place(f, kMac2, kA2, 255);
  REQUIRE(n == 14 + 40 + 11);
  f.resize(n);
  const auto r = parse_frame(f, kV6);
  REQUIRE(r.ok());
  CHECK(r->ip6.src() == kA2);
  CHECK(r->ip6.dst() == kA1);
  CHECK(r->ip6.hop_limit() == 255);
  CHECK(r->eth.dst() == MacAddr{0x02, 0, 0, 0, 0, 0x01});
  CHECK(r->eth.src() == kMac2);
  CHECK(r->icmp6.echo_id() == 0x1234);
  CHECK(r->payload.size() == 3);
  CHECK(r->payload[2] == 3);
}

TEST_CASE("icmpv6 echo reply in place: what is not an echo request is left alone", "[wire][ipv6]") {
  const auto check_untouched = [](std::vector<uint8_t> f) {
    const auto before = f;
    CHECK(icmpv6_echo_reply_in_place(f, kMac2, kA2) == 0);
    CHECK(f == before);
  };
  check_untouched(bytes_of(tv::kEcho6ReplyFrame));  // a reply
  check_untouched(bytes_of(tv::kNsFrame));          // ND
  check_untouched(bytes_of(tv::kSyn6Frame));        // TCP
  check_untouched(echo_request({1}, Ipv6Addr{}, kA2));  // from ::, no one to answer
  auto code1 = echo_request({});
  code1[14 + 40 + 1] = 1;
  check_untouched(code1);
  auto cut = bytes_of(tv::kEcho6RequestFrame);
  cut.resize(40);
  check_untouched(cut);
}
