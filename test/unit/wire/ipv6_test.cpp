// IPv6 header and extension header chain (RFC 8200 §3, §4): every named
// error, the chain walked to the upper layer, addresses (RFC 4291, RFC 2464).
#include <catch2/catch.hpp>

#include <vector>

#include "test_util.hpp"
#include "test_vectors_v6.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_addr.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

// A minimal upper-layer payload (8 bytes of "UDP") after the chain.
const std::vector<uint8_t> kUpper = {0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};

Result<Ipv6View> parse6(const std::vector<uint8_t>& f) {
  return Ipv6View::parse(std::span<const uint8_t>(f).subspan(kEthHeaderLen));
}

ParseError err_of(const std::vector<uint8_t>& f) {
  const auto r = parse6(f);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// An 8-byte options header (hop-by-hop or destination): next header, length 0, 6 bytes of options.
// (push_back, not insert: GCC 12 warns falsely on inserts into tiny vectors.)
std::vector<uint8_t> opts8(uint8_t nh, const std::vector<uint8_t>& opts) {
  std::vector<uint8_t> h;
  h.reserve(8);
  h.push_back(nh);
  h.push_back(0);
  for (uint8_t b : opts) h.push_back(b);
  REQUIRE(h.size() == 8);
  return h;
}
const std::vector<uint8_t> kPadN4 = {1, 4, 0, 0, 0, 0};  // PadN filling the 6 bytes

std::vector<uint8_t> routing8(uint8_t nh, uint8_t segments_left) { return {nh, 0, 4, segments_left, 0, 0, 0, 0}; }
std::vector<uint8_t> fragment8(uint8_t nh, uint16_t offset, bool more) {
  const auto w = static_cast<uint16_t>((offset << 3) | (more ? 1 : 0));
  return {nh, 0, static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w), 0, 0, 0x12, 0x34};
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> v;
  v.reserve(64);
  for (const auto& p : parts) {
    for (uint8_t b : p) v.push_back(b);
  }
  return v;
}

}  // namespace

TEST_CASE("ipv6: the fixed header of scapy's SYN", "[wire][ipv6]") {
  const auto f = bytes_of(tv::kSyn6Frame);
  const auto ip = parse6(f);
  REQUIRE(ip.ok());
  CHECK(ip->version() == 6);
  CHECK(ip->traffic_class() == 0);
  CHECK(ip->flow_label() == 0);
  CHECK(ip->payload_len() == f.size() - 54);
  CHECK(ip->next_header() == ip_proto::kTcp);
  CHECK(ip->hop_limit() == 64);
  CHECK(ip->src() == kA1);
  CHECK(ip->dst() == kA2);
  CHECK(ip->upper_protocol() == ip_proto::kTcp);
  CHECK(ip->upper_offset() == 40);
  CHECK(ip->ext_len() == 0);
  CHECK(ip->upper().data() == f.data() + 54);
  CHECK(ip->upper().size() == f.size() - 54);
}

TEST_CASE("ipv6: Ethernet padding is trimmed by the payload length", "[wire][ipv6]") {
  auto f = make_frame6(17, {}, 17, kUpper);
  f.resize(f.size() + 6, 0xEE);
  const auto ip = parse6(f);
  REQUIRE(ip.ok());
  CHECK(ip->bytes().size() == 48);
  CHECK(ip->upper().size() == 8);
}

TEST_CASE("ipv6: header errors", "[wire][ipv6]") {
  const auto good = make_frame6(17, {}, 17, kUpper);
  SECTION("fewer than 40 bytes") {
    auto f = good;
    f.resize(kEthHeaderLen + 39);
    CHECK(err_of(f) == ParseError::kIp6Truncated);
  }
  SECTION("version 4 under the IPv6 EtherType") {
    auto f = good;
    f[14] = 0x45;
    CHECK(err_of(f) == ParseError::kIp6BadVersion);
  }
  SECTION("payload length beyond the frame") {
    auto f = good;
    f[19] = 9;  // 8 bytes follow
    CHECK(err_of(f) == ParseError::kIp6PayloadLenBeyondFrame);
  }
  SECTION("multicast source (RFC 4291 §2.7)") {
    const auto f = make_frame6(17, {}, 17, kUpper, Ipv6Addr::from_groups({0xFF02, 0, 0, 0, 0, 0, 0, 1}), kA2);
    CHECK(err_of(f) == ParseError::kIp6MulticastSource);
  }
  SECTION("payload length 0: an empty payload (no jumbograms)") {
    auto f = good;
    f[18] = 0;
    f[19] = 0;
    const auto ip = parse6(f);
    REQUIRE(ip.ok());
    CHECK(ip->upper().empty());
  }
}

TEST_CASE("ipv6: the chain is walked to the upper layer", "[wire][ipv6]") {
  SECTION("scapy: hop-by-hop (router alert), destination options (PadN), routing (0 left)") {
    const auto f = bytes_of(tv::kSyn6ExtFrame);
    const auto ip = parse6(f);
    REQUIRE(ip.ok());
    CHECK(ip->next_header() == ip_proto::kHopByHop);
    CHECK(ip->upper_protocol() == ip_proto::kTcp);
    CHECK(ip->ext_len() == 8 + 8 + 24);
    CHECK(ip->upper().size() == sizeof(tv::kSyn6Frame) - 54);
  }
  SECTION("atomic fragment (RFC 6946 §4): processed") {
    const auto f = bytes_of(tv::kSyn6AtomicFragFrame);
    const auto ip = parse6(f);
    REQUIRE(ip.ok());
    CHECK(ip->upper_protocol() == ip_proto::kTcp);
    CHECK(ip->ext_len() == 8);
  }
  SECTION("destination options twice, around a routing header (§4.1)") {
    const auto ext = cat({opts8(ip_proto::kRouting, kPadN4), routing8(ip_proto::kDestOpts, 0),
                          opts8(17, kPadN4)});
    const auto ip = parse6(make_frame6(ip_proto::kDestOpts, ext, 17, kUpper));
    REQUIRE(ip.ok());
    CHECK(ip->upper_protocol() == 17);
    CHECK(ip->ext_len() == 24);
  }
  SECTION("longer headers: hdr ext len counts 8-byte units after the first") {
    std::vector<uint8_t> h(24, 0);
    h[0] = 17;
    h[1] = 2;
    h[2] = 1;  // PadN of 20 bytes: 2 + 2 + 20 = 24
    h[3] = 20;
    const auto ip = parse6(make_frame6(ip_proto::kDestOpts, h, 17, kUpper));
    REQUIRE(ip.ok());
    CHECK(ip->ext_len() == 24);
  }
  SECTION("Pad1 options and an unknown option with action 00 are skipped (§4.2)") {
    const auto ip = parse6(make_frame6(ip_proto::kHopByHop, opts8(17, {0, 0, 0x3E, 2, 0xAA, 0xBB}), 17, kUpper));
    REQUIRE(ip.ok());
    CHECK(ip->upper_protocol() == 17);
  }
  SECTION("no next header (59) ends the walk") {
    const auto ip = parse6(make_frame6(ip_proto::kNoNext, {}, 59, {}));
    REQUIRE(ip.ok());
    CHECK(ip->upper_protocol() == ip_proto::kNoNext);
    CHECK(ip->upper().empty());
  }
}

TEST_CASE("ipv6: extension header errors", "[wire][ipv6]") {
  SECTION("fewer than 8 bytes left for a header") {
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, {17, 0, 1, 2}, 17, {})) == ParseError::kIp6ExtTruncated);
  }
  SECTION("a header's length runs past the payload") {
    auto h = opts8(17, kPadN4);
    h[1] = 1;  // 16 bytes claimed, 8 present
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, h, 17, {})) == ParseError::kIp6ExtTruncated);
  }
  SECTION("a fragment header cut short") {
    const auto frag = fragment8(ip_proto::kTcp, 0, false);
    const std::vector<uint8_t> cut(frag.begin(), frag.begin() + 6);
    CHECK(err_of(make_frame6(ip_proto::kFragment, cut, 6, {})) == ParseError::kIp6ExtTruncated);
  }
  SECTION("hop-by-hop after another header (§4.1)") {
    const auto ext = cat({opts8(ip_proto::kHopByHop, kPadN4), opts8(17, kPadN4)});
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, ext, 17, kUpper)) == ParseError::kIp6HopByHopNotFirst);
  }
  SECTION("a loop: destination options a third time") {
    const auto ext = cat({opts8(ip_proto::kDestOpts, kPadN4), opts8(ip_proto::kDestOpts, kPadN4),
                          opts8(17, kPadN4)});
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, ext, 17, kUpper)) == ParseError::kIp6ExtRepeated);
  }
  SECTION("a loop: two routing headers") {
    const auto ext = cat({routing8(ip_proto::kRouting, 0), routing8(17, 0)});
    CHECK(err_of(make_frame6(ip_proto::kRouting, ext, 17, kUpper)) == ParseError::kIp6ExtRepeated);
  }
  SECTION("a loop: two fragment headers") {
    const auto ext = cat({fragment8(ip_proto::kFragment, 0, false), fragment8(17, 0, false)});
    CHECK(err_of(make_frame6(ip_proto::kFragment, ext, 17, kUpper)) == ParseError::kIp6ExtRepeated);
  }
  SECTION("a chain longer than kMaxIpv6ExtChainLen") {
    std::vector<uint8_t> big = {17, 0};
    const size_t len = kMaxIpv6ExtChainLen + 8;
    big[1] = static_cast<uint8_t>(len / 8 - 1);
    for (size_t left = len - 2; left > 0;) {  // PadN options of at most 255 bytes of data
      const size_t n = std::min<size_t>(left - 2, 255);
      big.push_back(1);
      big.push_back(static_cast<uint8_t>(n));
      big.insert(big.end(), n, 0);
      left -= n + 2;
      if (left == 1) {
        big.push_back(0);  // Pad1
        left = 0;
      }
    }
    REQUIRE(big.size() == len);
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, big, 17, kUpper)) == ParseError::kIp6ExtChainTooLong);
    // At the limit itself it passes.
    std::vector<uint8_t> fits = {17, static_cast<uint8_t>(kMaxIpv6ExtChainLen / 8 - 1)};
    while (fits.size() < kMaxIpv6ExtChainLen) fits.push_back(0);  // Pad1 all the way
    CHECK(parse6(make_frame6(ip_proto::kDestOpts, fits, 17, kUpper)).ok());
  }
  SECTION("an option's length byte missing") {
    CHECK(err_of(make_frame6(ip_proto::kHopByHop, opts8(17, {1, 3, 0, 0, 0, 1}), 17, kUpper)) ==
          ParseError::kIp6OptionOverrun);
  }
  SECTION("an option running past its header") {
    CHECK(err_of(make_frame6(ip_proto::kDestOpts, opts8(17, {1, 5, 0, 0, 0, 0}), 17, kUpper)) ==
          ParseError::kIp6OptionOverrun);
  }
  SECTION("unknown options whose action bits say discard (01, 10, 11)") {
    for (uint8_t type : {uint8_t{0x7E}, uint8_t{0x9E}, uint8_t{0xDE}, uint8_t{0xC2}}) {
      INFO("option type " << int(type));
      CHECK(err_of(make_frame6(ip_proto::kDestOpts, opts8(17, {type, 4, 0, 0, 0, 0}), 17, kUpper)) ==
            ParseError::kIp6OptionUnrecognized);
    }
  }
  SECTION("routing header with segments left: not the final destination (§4.4)") {
    CHECK(err_of(make_frame6(ip_proto::kRouting, routing8(17, 1), 17, kUpper)) ==
          ParseError::kIp6RoutingSegmentsLeft);
  }
  SECTION("fragments are dropped as IPv4 fragments are (kIpFragment)") {
    CHECK(err_of(bytes_of(tv::kSyn6FirstFragFrame)) == ParseError::kIpFragment);
    CHECK(err_of(make_frame6(ip_proto::kFragment, fragment8(17, 185, false), 17, kUpper)) ==
          ParseError::kIpFragment);  // the last fragment: offset, M clear
    CHECK(err_of(make_frame6(ip_proto::kFragment, fragment8(17, 185, true), 17, kUpper)) ==
          ParseError::kIpFragment);
  }
}

TEST_CASE("ipv6: write_ipv6_header writes scapy's bytes", "[wire][ipv6]") {
  const auto f = bytes_of(tv::kSyn6Frame);
  Ipv6HeaderSpec h;
  h.src = kA1;
  h.dst = kA2;
  h.next_header = ip_proto::kTcp;
  h.payload_len = static_cast<uint16_t>(f.size() - 54);
  h.hop_limit = 64;
  std::vector<uint8_t> out(40);
  REQUIRE(write_ipv6_header(out, h) == 40);
  CHECK(out == std::vector<uint8_t>(f.begin() + 14, f.begin() + 54));
  std::vector<uint8_t> small(39);
  CHECK(write_ipv6_header(small, h) == 0);
  // Traffic class and flow label land in their bits.
  h.traffic_class = 0xAB;
  h.flow_label = 0x12345;
  REQUIRE(write_ipv6_header(out, h) == 40);
  CHECK(out[0] == 0x6A);
  CHECK(out[1] == 0xB1);
  CHECK(out[2] == 0x23);
  CHECK(out[3] == 0x45);
}

TEST_CASE("ipv6 addresses: kinds, solicited-node group and its MAC", "[wire][ipv6]") {
  CHECK(Ipv6Addr{}.is_unspecified());
  CHECK_FALSE(kA1.is_unspecified());
  CHECK(Ipv6Addr::from_groups({0, 0, 0, 0, 0, 0, 0, 1}).is_loopback());
  CHECK_FALSE(kA1.is_loopback());
  CHECK(kAllNodesAddr.is_multicast());
  CHECK_FALSE(kA1.is_multicast());
  CHECK(Ipv6Addr::from_groups({0, 0, 0, 0, 0, 0xFFFF, 0xC612, 0x0001}).is_v4_mapped());  // ::ffff:198.18.0.1
  CHECK_FALSE(Ipv6Addr::from_groups({0, 0, 0, 0, 0, 0xFFFE, 0xC612, 0x0001}).is_v4_mapped());
  CHECK_FALSE(Ipv6Addr::from_groups({0, 0, 0, 0, 1, 0xFFFF, 0xC612, 0x0001}).is_v4_mapped());
  CHECK_FALSE(kA1.is_v4_mapped());
  CHECK(Ipv6Addr::from_groups({0xFE80, 0, 0, 0, 0, 0, 0, 1}).is_link_local());
  CHECK(Ipv6Addr::from_groups({0xFEBF, 0, 0, 0, 0, 0, 0, 1}).is_link_local());
  CHECK_FALSE(Ipv6Addr::from_groups({0xFEC0, 0, 0, 0, 0, 0, 0, 1}).is_link_local());
  // RFC 4291 §2.7.1: ff02::1:ff00:0/104 + the low 24 bits.
  const Ipv6Addr a = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0xAB12, 0x3456});
  const Ipv6Addr sn = solicited_node_addr(a);
  CHECK(sn == Ipv6Addr::from_groups({0xFF02, 0, 0, 0, 0, 1, 0xFF12, 0x3456}));
  CHECK(is_solicited_node_addr(sn));
  CHECK_FALSE(is_solicited_node_addr(kAllNodesAddr));
  CHECK_FALSE(is_solicited_node_addr(a));
  // RFC 2464 §7: 33:33 + the low 32 bits.
  CHECK(ipv6_multicast_mac(sn) == MacAddr{0x33, 0x33, 0xFF, 0x12, 0x34, 0x56});
  CHECK(ipv6_multicast_mac(kAllNodesAddr) == MacAddr{0x33, 0x33, 0, 0, 0, 1});
  uint8_t buf[16];
  a.store(buf);
  CHECK(Ipv6Addr::load(buf) == a);
}
