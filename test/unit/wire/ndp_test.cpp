// Neighbor Discovery (RFC 4861): NS/NA validity (§7.1.1, §7.1.2), each rule
// a named error; the builders against scapy's frames (§7.2.2, §7.2.4,
// §7.2.6, RFC 4862 §5.4.2).
#include <catch2/catch.hpp>

#include <vector>

#include "test_util.hpp"
#include "test_vectors_v6.hpp"
#include "wire/frame.hpp"
#include "wire/ndp.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

constexpr MacAddr kMac1 = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kMac2 = {0x02, 0, 0, 0, 0, 0x02};
constexpr ParseFlags kV6{true, true, true};
const Ipv6Addr kSn2 = solicited_node_addr(kA2);  // ff02::1:ff00:2

Result<NdMessage> nd_of(const std::vector<uint8_t>& f) {
  const auto r = parse_frame(f, kV6);
  REQUIRE(r.ok());
  REQUIRE(r->kind == FrameKind::kIpv6Icmp);
  return parse_nd(r->ip6, r->icmp6);
}

ParseError nd_err(const std::vector<uint8_t>& f) {
  const auto r = nd_of(f);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// An NS (135) or NA (136) message: flags byte, target, then `opts`; framed
// with a correct checksum by make_frame6.
std::vector<uint8_t> nd_frame(uint8_t type, uint8_t flags, const Ipv6Addr& target, std::vector<uint8_t> opts,
                              const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop_limit = 255, uint8_t code = 0) {
  std::vector<uint8_t> m = {type, code, 0, 0, flags, 0, 0, 0};
  m.insert(m.end(), target.b.begin(), target.b.end());
  m.insert(m.end(), opts.begin(), opts.end());
  return make_frame6(ip_proto::kIcmpv6, {}, ip_proto::kIcmpv6, m, src, dst, hop_limit);
}

std::vector<uint8_t> lladdr_opt(uint8_t type, const MacAddr& m) { return {type, 1, m[0], m[1], m[2], m[3], m[4], m[5]}; }

}  // namespace

TEST_CASE("nd parse: scapy's NS, NA, DAD NS and unsolicited NA", "[wire][ipv6]") {
  auto ns = nd_of(bytes_of(tv::kNsFrame));
  REQUIRE(ns.ok());
  CHECK(ns->type == icmp6_type::kNeighborSolicit);
  CHECK(ns->target == kA2);
  CHECK(ns->has_lladdr);
  CHECK(ns->lladdr == kMac1);
  CHECK(ns->flags == 0);

  auto na = nd_of(bytes_of(tv::kNaSolicitedFrame));
  REQUIRE(na.ok());
  CHECK(na->type == icmp6_type::kNeighborAdvert);
  CHECK(na->target == kA2);
  CHECK(na->flags == (nd_flag::kSolicited | nd_flag::kOverride));
  CHECK(na->has_lladdr);
  CHECK(na->lladdr == kMac2);

  auto dad = nd_of(bytes_of(tv::kNsDadFrame));
  REQUIRE(dad.ok());
  CHECK(dad->target == kA2);
  CHECK_FALSE(dad->has_lladdr);

  auto una = nd_of(bytes_of(tv::kNaUnsolicitedFrame));
  REQUIRE(una.ok());
  CHECK(una->flags == nd_flag::kOverride);
}

TEST_CASE("nd parse: options other than ours are skipped; the link-layer one is found among them", "[wire][ipv6]") {
  // A nonce option (14, RFC 3971) of 8 bytes, then SLLA.
  auto opts = std::vector<uint8_t>{14, 1, 1, 2, 3, 4, 5, 6};
  const auto sll = lladdr_opt(nd_opt::kSourceLinkAddr, kMac1);
  opts.insert(opts.end(), sll.begin(), sll.end());
  const auto r = nd_of(nd_frame(135, 0, kA2, opts, kA1, kSn2));
  REQUIRE(r.ok());
  CHECK(r->has_lladdr);
  CHECK(r->lladdr == kMac1);
  // An NA carrying a source link-layer option (not its kind): ignored.
  const auto na = nd_of(nd_frame(136, nd_flag::kSolicited, kA2, lladdr_opt(nd_opt::kSourceLinkAddr, kMac1), kA2, kA1));
  REQUIRE(na.ok());
  CHECK_FALSE(na->has_lladdr);
}

TEST_CASE("nd parse: every validity rule of RFC 4861 §7.1.1 / §7.1.2 is a named error", "[wire][ipv6]") {
  const auto sll = lladdr_opt(nd_opt::kSourceLinkAddr, kMac1);
  const auto tll = lladdr_opt(nd_opt::kTargetLinkAddr, kMac2);
  SECTION("hop limit not 255 (came through a router)") {
    CHECK(nd_err(nd_frame(135, 0, kA2, sll, kA1, kSn2, 254)) == ParseError::kNdBadHopLimit);
    CHECK(nd_err(nd_frame(136, nd_flag::kSolicited, kA2, tll, kA2, kA1, 64)) == ParseError::kNdBadHopLimit);
  }
  SECTION("code not 0") {
    CHECK(nd_err(nd_frame(135, 0, kA2, sll, kA1, kSn2, 255, 1)) == ParseError::kNdBadCode);
    CHECK(nd_err(nd_frame(136, 0, kA2, tll, kA2, kA1, 255, 3)) == ParseError::kNdBadCode);
  }
  SECTION("ICMP length under 24") {
    std::vector<uint8_t> m = {135, 0, 0, 0, 0, 0, 0, 0};
    m.insert(m.end(), kA2.b.begin(), kA2.b.end() - 1);  // 23 bytes
    CHECK(nd_err(make_frame6(ip_proto::kIcmpv6, {}, ip_proto::kIcmpv6, m, kA1, kSn2, 255)) ==
          ParseError::kNdTruncated);
  }
  SECTION("multicast target") {
    CHECK(nd_err(nd_frame(135, 0, kSn2, sll, kA1, kSn2)) == ParseError::kNdTargetMulticast);
    CHECK(nd_err(nd_frame(136, 0, kAllNodesAddr, tll, kA2, kA1)) == ParseError::kNdTargetMulticast);
  }
  SECTION("an option of length 0") {
    CHECK(nd_err(nd_frame(135, 0, kA2, {1, 0, 0, 0, 0, 0, 0, 0}, kA1, kSn2)) == ParseError::kNdBadOptionLength);
    CHECK(nd_err(nd_frame(136, 0, kA2, {14, 0, 0, 0, 0, 0, 0, 0}, kA2, kA1)) == ParseError::kNdBadOptionLength);
  }
  SECTION("an option running past the message, or a lone type byte") {
    CHECK(nd_err(nd_frame(135, 0, kA2, {1, 2, 0, 0, 0, 0, 0, 0}, kA1, kSn2)) == ParseError::kNdBadOptionLength);
    CHECK(nd_err(nd_frame(136, 0, kA2, {2}, kA2, kA1)) == ParseError::kNdBadOptionLength);
  }
  SECTION("our link-layer option not 8 bytes (RFC 2464 §8)") {
    std::vector<uint8_t> long_sll = {1, 2, 2, 0, 0, 0, 0, 1};
    long_sll.resize(16, 0);
    CHECK(nd_err(nd_frame(135, 0, kA2, long_sll, kA1, kSn2)) == ParseError::kNdBadLinkLayerOption);
    std::vector<uint8_t> long_tll = {2, 2, 2, 0, 0, 0, 0, 2};
    long_tll.resize(16, 0);
    CHECK(nd_err(nd_frame(136, 0, kA2, long_tll, kA2, kA1)) == ParseError::kNdBadLinkLayerOption);
  }
  SECTION("NS from :: must go to a solicited-node group") {
    CHECK(nd_err(nd_frame(135, 0, kA2, {}, Ipv6Addr{}, kA2)) == ParseError::kNdUnspecifiedSourceNotSolicited);
    CHECK(nd_err(nd_frame(135, 0, kA2, {}, Ipv6Addr{}, kAllNodesAddr)) ==
          ParseError::kNdUnspecifiedSourceNotSolicited);
  }
  SECTION("NS from :: must not carry a source link-layer option") {
    CHECK(nd_err(nd_frame(135, 0, kA2, sll, Ipv6Addr{}, kSn2)) == ParseError::kNdUnspecifiedSourceWithSlla);
  }
  SECTION("NA with Solicited set to a multicast destination") {
    CHECK(nd_err(nd_frame(136, nd_flag::kSolicited, kA2, tll, kA2, kAllNodesAddr)) ==
          ParseError::kNdSolicitedToMulticast);
    // Unicast, or multicast without S: fine.
    CHECK(nd_of(nd_frame(136, nd_flag::kSolicited, kA2, tll, kA2, kA1)).ok());
    CHECK(nd_of(nd_frame(136, nd_flag::kOverride, kA2, tll, kA2, kAllNodesAddr)).ok());
  }
  SECTION("a multicast source never reaches ND: the IPv6 parse drops it") {
    const auto f = nd_frame(135, 0, kA2, sll, kAllNodesAddr, kSn2);
    const auto r = parse_frame(f, kV6);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ParseError::kIp6MulticastSource);
  }
  SECTION("a unicast NS (NUD, §7.3.1) from a link-local source is valid") {
    const auto ll = Ipv6Addr::from_groups({0xFE80, 0, 0, 0, 0, 0, 0, 1});
    CHECK(nd_of(nd_frame(135, 0, kA2, sll, ll, kA2)).ok());
  }
}

TEST_CASE("nd build: NS and DAD NS equal scapy's; to 33:33:ff:xx:xx:xx", "[wire][ipv6]") {
  std::vector<uint8_t> out(kNdFrameLen);
  REQUIRE(build_neighbor_solicit(out, kMac1, kA1, kA2) == kNdFrameLen);
  CHECK(out == bytes_of(tv::kNsFrame));
  CHECK(MacAddr{out[0], out[1], out[2], out[3], out[4], out[5]} == MacAddr{0x33, 0x33, 0xFF, 0, 0, 2});

  std::vector<uint8_t> dad(kNdFrameLen);
  const size_t n = build_neighbor_solicit(dad, kMac2, Ipv6Addr{}, kA2);
  REQUIRE(n == kNdFrameLen - kNdLinkLayerOptLen);
  dad.resize(n);
  CHECK(dad == bytes_of(tv::kNsDadFrame));

  std::vector<uint8_t> small(kNdFrameLen - 1);
  CHECK(build_neighbor_solicit(small, kMac1, kA1, kA2) == 0);
  // What we send passes our own validity checks.
  const auto back = nd_of(bytes_of(tv::kNsFrame));
  CHECK(back.ok());
}

TEST_CASE("nd build: the answer to an NS (§7.2.4) and the unsolicited NA (§7.2.6) equal scapy's", "[wire][ipv6]") {
  const auto nsf = bytes_of(tv::kNsFrame);
  const auto ns = nd_of(nsf);
  REQUIRE(ns.ok());
  std::vector<uint8_t> out(kNdFrameLen);
  REQUIRE(build_neighbor_advert_reply(out, kMac2, *ns, kA1, kMac1) == kNdFrameLen);
  CHECK(out == bytes_of(tv::kNaSolicitedFrame));

  std::vector<uint8_t> una(kNdFrameLen);
  REQUIRE(build_unsolicited_neighbor_advert(una, kMac2, kA2) == kNdFrameLen);
  CHECK(una == bytes_of(tv::kNaUnsolicitedFrame));

  // From :: (DAD): the answer goes to all nodes with Solicited clear.
  const auto dad = nd_of(bytes_of(tv::kNsDadFrame));
  REQUIRE(dad.ok());
  std::vector<uint8_t> to_all(kNdFrameLen);
  REQUIRE(build_neighbor_advert_reply(to_all, kMac2, *dad, Ipv6Addr{}, kMac2) == kNdFrameLen);
  CHECK(to_all == bytes_of(tv::kNaUnsolicitedFrame));

  // Without a source link-layer option, to the frame's source MAC.
  NdMessage bare = *ns;
  bare.has_lladdr = false;
  const MacAddr eth_src = {0x02, 0, 0, 0, 0, 0x77};
  REQUIRE(build_neighbor_advert_reply(out, kMac2, bare, kA1, eth_src) == kNdFrameLen);
  CHECK(MacAddr{out[0], out[1], out[2], out[3], out[4], out[5]} == eth_src);

  std::vector<uint8_t> small(kNdFrameLen - 1);
  CHECK(build_neighbor_advert(small, kMac2, kA2, kMac1, kA1, kA2, 0) == 0);
}
