#include <catch2/catch.hpp>

#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/frame.hpp"
#include "wire/icmp.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {
constexpr size_t kIcmp = kEthHeaderLen + 20;
}  // namespace

TEST_CASE("ICMP echo request from scapy parses", "[wire]") {
  const auto fr = parse_frame(tv::kEchoRequestFrame);
  REQUIRE(fr.ok());
  CHECK(fr->kind == FrameKind::kIpv4Icmp);
  CHECK(fr->icmp.type() == icmp_type::kEchoRequest);
  CHECK(fr->icmp.code() == 0);
  CHECK(fr->icmp.is_echo_request());
  CHECK(fr->icmp.echo_id() == 0x1234);
  CHECK(fr->icmp.echo_seq() == 5);
  CHECK(fr->icmp.checksum() == 0xeeb3);
  CHECK(fr->icmp.checksum_ok());
  REQUIRE(fr->payload.size() == 56);
  for (size_t i = 0; i < 56; ++i) CHECK(fr->payload[i] == i);
}

TEST_CASE("ICMP echo reply in place equals scapy's reply", "[wire]") {
  auto f = bytes_of(tv::kEchoRequestFrame);
  REQUIRE(icmp_echo_reply_in_place(f, 64) == f.size());
  CHECK(f == bytes_of(tv::kEchoReplyFrame));
  const auto fr = parse_frame(f);  // both checksums verified
  REQUIRE(fr.ok());
  CHECK(fr->icmp.type() == icmp_type::kEchoReply);
}

TEST_CASE("ICMP echo reply in place: padding dropped, any TTL, checksums valid", "[wire]") {
  for (int ttl = 0; ttl < 256; ttl += 5) {
    auto f = bytes_of(tv::kEchoRequestFrame);
    const size_t len = f.size();
    f.resize(len + 7, 0xCC);  // Ethernet padding or trailer
    REQUIRE(icmp_echo_reply_in_place(f, static_cast<uint8_t>(ttl)) == len);
    f.resize(len);
    const auto fr = parse_frame(f);
    REQUIRE(fr.ok());
    CHECK(fr->ip.ttl() == ttl);
    CHECK(fr->ip.src() == tv::kIp2);
    CHECK(fr->icmp.echo_seq() == 5);
  }
}

TEST_CASE("ICMP echo reply in place refuses what is not an echo request", "[wire]") {
  const auto check_refused = [](std::vector<uint8_t> f) {
    const auto before = f;
    CHECK(icmp_echo_reply_in_place(f) == 0);
    CHECK(f == before);
  };
  check_refused(bytes_of(tv::kEchoReplyFrame));
  check_refused(bytes_of(tv::kSynFrame));
  check_refused(bytes_of(tv::kArpRequestFrame));
  check_refused(std::vector<uint8_t>(10, 0));
  auto frag = bytes_of(tv::kEchoRequestFrame);
  frag[kEthHeaderLen + 6] = 0x20;
  check_refused(frag);
  auto code = bytes_of(tv::kEchoRequestFrame);
  code[kIcmp + 1] = 1;
  check_refused(code);
  auto cut = bytes_of(tv::kEchoRequestFrame);
  cut.resize(kIcmp + 7);
  store_be16(cut.data() + kEthHeaderLen + 2, 27);
  check_refused(cut);
}

TEST_CASE("ICMP malformed: truncated and bad checksum", "[wire]") {
  auto f = bytes_of(tv::kEchoRequestFrame);
  for (size_t icmp_len = 0; icmp_len < kIcmpHeaderLen; ++icmp_len) {
    std::vector<uint8_t> cut(f.begin(), f.begin() + static_cast<long>(kIcmp + icmp_len));
    store_be16(cut.data() + kEthHeaderLen + 2, static_cast<uint16_t>(20 + icmp_len));
    refresh_checksums(cut);
    const auto fr = parse_frame(cut);
    REQUIRE_FALSE(fr.ok());
    CHECK(fr.error() == ParseError::kIcmpTruncated);
  }
  f[kIcmp + 20] ^= 0xFF;  // corrupt the data
  const auto fr = parse_frame(f);
  REQUIRE_FALSE(fr.ok());
  CHECK(fr.error() == ParseError::kBadIcmpChecksum);
  CHECK(parse_frame(f, kTrustChecksums).ok());
}
