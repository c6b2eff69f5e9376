#include <catch2/catch.hpp>

#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/frame.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {
constexpr MacAddr kMac1 = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kMac2 = {0x02, 0, 0, 0, 0, 0x02};
}  // namespace

TEST_CASE("Ethernet header round trip", "[wire]") {
  uint8_t buf[kEthHeaderLen + 4] = {};
  REQUIRE(write_ethernet(buf, kMac1, kMac2, 0x86DD) == kEthHeaderLen);
  const auto eth = EthernetView::parse(buf);
  REQUIRE(eth.ok());
  CHECK(eth->dst() == kMac1);
  CHECK(eth->src() == kMac2);
  CHECK(eth->ethertype() == 0x86DD);
  CHECK(eth->payload().size() == 4);

  swap_ethernet_addresses(buf);
  const auto swapped = EthernetView::parse(buf);
  CHECK(swapped->dst() == kMac2);
  CHECK(swapped->src() == kMac1);

  CHECK(write_ethernet(std::span<uint8_t>(buf, kEthHeaderLen - 1), kMac1, kMac2, 0x0800) == 0);
}

TEST_CASE("Ethernet truncated at every length below 14", "[wire]") {
  const auto f = bytes_of(tv::kSynFrame);
  for (size_t len = 0; len < kEthHeaderLen; ++len) {
    const std::vector<uint8_t> cut(f.begin(), f.begin() + static_cast<long>(len));
    const auto eth = EthernetView::parse(cut);
    REQUIRE_FALSE(eth.ok());
    CHECK(eth.error() == ParseError::kEthTruncated);
    const auto fr = parse_frame(cut);
    REQUIRE_FALSE(fr.ok());
    CHECK(fr.error() == ParseError::kEthTruncated);
  }
}

TEST_CASE("ARP request from scapy parses", "[wire]") {
  const auto fr = parse_frame(tv::kArpRequestFrame);
  REQUIRE(fr.ok());
  CHECK(fr->kind == FrameKind::kArp);
  CHECK(fr->eth.dst() == kBroadcastMac);
  CHECK(fr->arp.op() == arp_op::kRequest);
  CHECK(fr->arp.sender_mac() == kMac1);
  CHECK(fr->arp.sender_ip() == tv::kIp1);
  CHECK(fr->arp.target_mac() == MacAddr{});
  CHECK(fr->arp.target_ip() == tv::kIp2);
  CHECK(fr->payload.empty());
}

TEST_CASE("ARP builders emit the scapy frames byte for byte", "[wire]") {
  uint8_t buf[64];
  REQUIRE(build_arp_request(buf, kMac1, tv::kIp1, tv::kIp2) == kArpFrameLen);
  CHECK(std::vector<uint8_t>(buf, buf + kArpFrameLen) == bytes_of(tv::kArpRequestFrame));

  // Reply to the parsed request.
  const auto req = ArpView::parse(std::span<const uint8_t>(tv::kArpRequestFrame).subspan(kEthHeaderLen));
  REQUIRE(req.ok());
  REQUIRE(build_arp_reply(buf, kMac2, req->target_ip(), req->sender_mac(), req->sender_ip()) == kArpFrameLen);
  CHECK(std::vector<uint8_t>(buf, buf + kArpFrameLen) == bytes_of(tv::kArpReplyFrame));

  const auto rep = parse_frame(std::span<const uint8_t>(buf, kArpFrameLen));
  REQUIRE(rep.ok());
  CHECK(rep->arp.op() == arp_op::kReply);
  CHECK(rep->arp.sender_mac() == kMac2);
  CHECK(rep->arp.target_ip() == tv::kIp1);

  CHECK(build_arp_request(std::span<uint8_t>(buf, kArpFrameLen - 1), kMac1, 1, 2) == 0);
  CHECK(build_arp_reply(std::span<uint8_t>(buf, kArpFrameLen - 1), kMac1, 1, kMac2, 2) == 0);
}

TEST_CASE("ARP padded to 60 bytes parses; the view is 28 bytes", "[wire]") {
  auto f = bytes_of(tv::kArpRequestFrame);
  f.resize(60, 0);
  const auto fr = parse_frame(f);
  REQUIRE(fr.ok());
  CHECK(fr->arp.bytes().size() == kArpLen);
}

TEST_CASE("ARP malformed: truncated and unsupported", "[wire]") {
  const auto good = bytes_of(tv::kArpRequestFrame);
  for (size_t len = kEthHeaderLen; len < kArpFrameLen; ++len) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(len));
    const auto fr = parse_frame(cut);
    REQUIRE_FALSE(fr.ok());
    CHECK(fr.error() == ParseError::kArpTruncated);
  }
  // htype, ptype (two bytes each), hlen, plen
  for (size_t off : {14u, 15u, 16u, 17u, 18u, 19u}) {
    auto f = good;
    f[off] ^= 0x10;
    const auto fr = parse_frame(f);
    REQUIRE_FALSE(fr.ok());
    CHECK(fr.error() == ParseError::kArpUnsupported);
  }
}

TEST_CASE("Other EtherTypes are classified, not rejected", "[wire]") {
  auto f = bytes_of(tv::kSynFrame);
  for (uint16_t et : {uint16_t{0x86DD}, ethertype::kVlan, uint16_t{0x88CC}}) {
    f[12] = static_cast<uint8_t>(et >> 8);
    f[13] = static_cast<uint8_t>(et);
    const auto fr = parse_frame(f);
    REQUIRE(fr.ok());
    CHECK(fr->kind == FrameKind::kOther);
    CHECK(fr->eth.ethertype() == et);
    CHECK(fr->payload.size() == f.size() - kEthHeaderLen);
  }
}
