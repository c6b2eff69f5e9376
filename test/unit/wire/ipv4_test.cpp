#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/frame.hpp"
#include "wire/ipv4.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

constexpr size_t kIp = kEthHeaderLen;  // IP header offset in a frame

ParseError frame_error(const std::vector<uint8_t>& f, ParseFlags flags = kVerifyChecksums) {
  const auto r = parse_frame(f, flags);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("IPv4 view of the scapy SYN", "[wire]") {
  const auto ip = Ipv4View::parse(std::span<const uint8_t>(tv::kSynFrame).subspan(kIp));
  REQUIRE(ip.ok());
  CHECK(ip->version() == 4);
  CHECK(ip->header_len() == 20);
  CHECK(ip->tos() == 0);
  CHECK(ip->total_len() == 60);
  CHECK(ip->id() == 0x1c46);
  CHECK(ip->dont_fragment());
  CHECK_FALSE(ip->more_fragments());
  CHECK(ip->fragment_offset() == 0);
  CHECK_FALSE(ip->is_fragment());
  CHECK(ip->ttl() == 64);
  CHECK(ip->protocol() == ip_proto::kTcp);
  CHECK(ip->checksum() == 0x924e);
  CHECK(ip->checksum_ok());
  CHECK(ip->src() == tv::kIp1);
  CHECK(ip->dst() == tv::kIp2);
  CHECK(ip->header().size() == 20);
  CHECK(ip->payload().size() == 40);
}

TEST_CASE("IPv4 header write/parse round trip", "[wire]") {
  std::mt19937 rng(791);
  for (int iter = 0; iter < 2000; ++iter) {
    Ipv4HeaderSpec s;
    s.src = static_cast<uint32_t>(rng());
    s.dst = static_cast<uint32_t>(rng());
    s.protocol = static_cast<uint8_t>(rng());
    s.total_len = static_cast<uint16_t>(20 + rng() % 100);
    s.ttl = static_cast<uint8_t>(rng());
    s.id = static_cast<uint16_t>(rng());
    s.dont_fragment = rng() % 2 == 0;
    s.tos = static_cast<uint8_t>(rng());
    std::vector<uint8_t> buf(s.total_len, 0xAA);
    REQUIRE(write_ipv4_header(buf, s) == kIpv4MinHeaderLen);
    const auto ip = Ipv4View::parse(buf);
    REQUIRE(ip.ok());
    CHECK(ip->src() == s.src);
    CHECK(ip->dst() == s.dst);
    CHECK(ip->protocol() == s.protocol);
    CHECK(ip->total_len() == s.total_len);
    CHECK(ip->ttl() == s.ttl);
    CHECK(ip->id() == s.id);
    CHECK(ip->dont_fragment() == s.dont_fragment);
    CHECK(ip->tos() == s.tos);
    CHECK_FALSE(ip->is_fragment());
    CHECK(ip->checksum_ok());
    CHECK(ip->payload().size() == s.total_len - 20u);
  }
  uint8_t small[19];
  CHECK(write_ipv4_header(small, Ipv4HeaderSpec{}) == 0);
  uint8_t hdr[20];
  REQUIRE(write_ipv4_header(hdr, Ipv4HeaderSpec{}, /*fill_checksum=*/false) == 20);
  CHECK(load_be16(hdr + ipv4_off::kChecksum) == 0);
}

TEST_CASE("IPv4 malformed headers get their named errors", "[wire]") {
  const auto good = bytes_of(tv::kSynFrame);

  SECTION("truncated below 20 bytes") {
    for (size_t len = kIp; len < kIp + 20; ++len) {
      const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(len));
      CHECK(frame_error(cut) == ParseError::kIpTruncated);
    }
  }
  SECTION("version != 4") {
    for (uint8_t v : {0, 5, 6, 15}) {
      auto f = good;
      f[kIp] = static_cast<uint8_t>((v << 4) | 5);
      CHECK(frame_error(f) == ParseError::kIpBadVersion);
    }
  }
  SECTION("IHL < 5") {
    for (uint8_t ihl = 0; ihl < 5; ++ihl) {
      auto f = good;
      f[kIp] = static_cast<uint8_t>(0x40 | ihl);
      CHECK(frame_error(f) == ParseError::kIpBadIhl);
    }
  }
  SECTION("IHL beyond the data") {
    std::vector<uint8_t> f(good.begin(), good.begin() + kIp + 40);  // 40 bytes of IP
    f[kIp] = 0x4B;  // 44 bytes
    CHECK(frame_error(f) == ParseError::kIpIhlBeyondData);
  }
  SECTION("total length < IHL*4") {
    auto f = good;
    store_be16(f.data() + kIp + 2, 19);
    CHECK(frame_error(f) == ParseError::kIpTotalLenTooSmall);
    f[kIp] = 0x46;  // 24-byte header
    store_be16(f.data() + kIp + 2, 23);
    CHECK(frame_error(f) == ParseError::kIpTotalLenTooSmall);
  }
  SECTION("total length beyond the frame") {
    auto f = good;
    store_be16(f.data() + kIp + 2, static_cast<uint16_t>(f.size() - kIp + 1));
    CHECK(frame_error(f) == ParseError::kIpTotalLenBeyondFrame);
    store_be16(f.data() + kIp + 2, 0xFFFF);
    CHECK(frame_error(f) == ParseError::kIpTotalLenBeyondFrame);
  }
  SECTION("bad header checksum, unless checksums are trusted") {
    auto f = good;
    f[kIp + 10] ^= 0x01;
    CHECK(frame_error(f) == ParseError::kBadIpChecksum);
    CHECK(parse_frame(f, kTrustChecksums).ok());
    CHECK(parse_frame(f, ParseFlags{.verify_ip_checksum = false, .verify_l4_checksum = true}).ok());
  }
}

TEST_CASE("IPv4 fragments are reported as kIpFragment", "[wire]") {
  const auto good = bytes_of(tv::kSynFrame);
  SECTION("MF set") {
    auto f = good;
    f[kIp + 6] = 0x20;  // MF, offset 0
    refresh_checksums(f);
    CHECK(frame_error(f) == ParseError::kIpFragment);
  }
  SECTION("offset != 0, MF clear (last fragment)") {
    auto f = good;
    store_be16(f.data() + kIp + 6, 0x0001);
    refresh_checksums(f);
    CHECK(frame_error(f) == ParseError::kIpFragment);
    const auto ip = Ipv4View::parse(cspan(f).subspan(kIp));
    CHECK(ip->fragment_offset() == 1);
  }
  SECTION("any protocol") {
    auto f = bytes_of(tv::kEchoRequestFrame);
    store_be16(f.data() + kIp + 6, 0x2000);
    fill_ipv4_checksum(std::span<uint8_t>(f).subspan(kIp));
    CHECK(frame_error(f) == ParseError::kIpFragment);
  }
  SECTION("checksum is checked first") {
    auto f = good;
    f[kIp + 6] = 0x20;  // checksum now stale
    CHECK(frame_error(f) == ParseError::kBadIpChecksum);
    CHECK(frame_error(f, kTrustChecksums) == ParseError::kIpFragment);
  }
}

TEST_CASE("Ethernet padding is trimmed by the IP total length", "[wire]") {
  const auto fr = parse_frame(tv::kPaddedAckFrame);
  REQUIRE(fr.ok());
  CHECK(fr->kind == FrameKind::kIpv4Tcp);
  CHECK(fr->eth.payload().size() == 46);
  CHECK(fr->ip.bytes().size() == 40);
  CHECK(fr->tcp.bytes().size() == 20);
  CHECK(fr->payload.empty());

  // Same with a payload: padding after a 3-byte payload is not payload.
  auto f = bytes_of(tv::kDataFrame);  // 13 payload bytes, 79 bytes total
  f.resize(120, 0x5A);
  const auto fd = parse_frame(f);
  REQUIRE(fd.ok());
  CHECK(fd->payload.size() == 13);
  CHECK(std::string(fd->payload.begin(), fd->payload.end()) == "hello, world!");
}

TEST_CASE("IPv4 options are skipped", "[wire]") {
  // Insert 4 bytes of IP options (NOP NOP NOP EOL) into the SYN.
  const auto syn = bytes_of(tv::kSynFrame);
  std::vector<uint8_t> f(syn.size() + 4);
  std::copy(syn.begin(), syn.begin() + kIp + 20, f.begin());
  const uint8_t ip_opts[4] = {0x01, 0x01, 0x01, 0x00};
  std::copy(ip_opts, ip_opts + 4, f.begin() + kIp + 20);
  std::copy(syn.begin() + kIp + 20, syn.end(), f.begin() + kIp + 24);
  f[kIp] = 0x46;
  store_be16(f.data() + kIp + 2, 64);
  refresh_checksums(f);
  const auto fr = parse_frame(f);
  REQUIRE(fr.ok());
  CHECK(fr->ip.header_len() == 24);
  CHECK(fr->tcp.src_port() == 40000);
  CHECK(fr->opts.mss == 1460);
}

TEST_CASE("IPv4 in-place TTL and address swap keep the checksum valid", "[wire]") {
  auto f = bytes_of(tv::kSynFrame);
  const std::span<uint8_t> hdr(f.data() + kIp, 20);
  for (int ttl = 0; ttl < 256; ++ttl) {
    set_ipv4_ttl(hdr, static_cast<uint8_t>(ttl));
    REQUIRE(hdr[ipv4_off::kTtl] == ttl);
    REQUIRE(ipv4_header_checksum_ok(hdr));
    REQUIRE(load_be16(hdr.data() + ipv4_off::kChecksum) == ipv4_header_checksum(hdr));
  }
  swap_ipv4_addresses(hdr);
  CHECK(load_be32(hdr.data() + ipv4_off::kSrc) == tv::kIp2);
  CHECK(load_be32(hdr.data() + ipv4_off::kDst) == tv::kIp1);
  CHECK(ipv4_header_checksum_ok(hdr));
}

TEST_CASE("Non-TCP, non-ICMP IPv4 is kIpv4Other with the IP payload", "[wire]") {
  auto f = bytes_of(tv::kSynFrame);
  f[kIp + 9] = ip_proto::kUdp;
  refresh_checksums(f);
  const auto fr = parse_frame(f);
  REQUIRE(fr.ok());
  CHECK(fr->kind == FrameKind::kIpv4Other);
  CHECK(fr->payload.size() == 40);
}
