#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_header.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {
constexpr size_t kTcp = kEthHeaderLen + 20;
}  // namespace

TEST_CASE("TCP view of the scapy SYN", "[wire]") {
  const auto tcp = TcpView::parse(std::span<const uint8_t>(tv::kSynFrame).subspan(kTcp));
  REQUIRE(tcp.ok());
  CHECK(tcp->src_port() == 40000);
  CHECK(tcp->dst_port() == 80);
  CHECK(tcp->seq() == 0x12345678);
  CHECK(tcp->ack() == 0);
  CHECK(tcp->header_len() == 40);
  CHECK(tcp->flags() == tcp_flag::kSyn);
  CHECK(tcp->has(tcp_flag::kSyn));
  CHECK_FALSE(tcp->has(tcp_flag::kAck));
  CHECK(tcp->window() == 64240);
  CHECK(tcp->checksum() == 0xa592);
  CHECK(tcp->urgent_ptr() == 0);
  CHECK(tcp->options().size() == 20);
  CHECK(tcp->payload().empty());
}

TEST_CASE("TCP header write/parse round trip", "[wire]") {
  std::mt19937 rng(9293);
  for (int iter = 0; iter < 2000; ++iter) {
    TcpHeaderFields s;
    const auto urgent = static_cast<uint16_t>(rng());
    s.src_port = static_cast<uint16_t>(rng());
    s.dst_port = static_cast<uint16_t>(rng());
    s.seq = static_cast<uint32_t>(rng());
    s.ack = static_cast<uint32_t>(rng());
    s.flags = static_cast<uint8_t>(rng());
    s.window = static_cast<uint16_t>(rng());
    TcpOptions o;
    o.has_mss = rng() % 2;
    o.mss = static_cast<uint16_t>(rng());
    o.has_timestamps = rng() % 2;
    o.ts_val = static_cast<uint32_t>(rng());
    std::vector<uint8_t> buf(60, 0xEE);
    const size_t hlen = write_tcp_header(buf, s, o, urgent);
    REQUIRE(hlen == 20 + tcp_options_len(o));
    buf.resize(hlen);
    const auto tcp = TcpView::parse(buf);
    REQUIRE(tcp.ok());
    CHECK(tcp->src_port() == s.src_port);
    CHECK(tcp->dst_port() == s.dst_port);
    CHECK(tcp->seq() == s.seq);
    CHECK(tcp->ack() == s.ack);
    CHECK(tcp->flags() == s.flags);
    CHECK(tcp->window() == s.window);
    CHECK(tcp->urgent_ptr() == urgent);
    CHECK(tcp->checksum() == 0);
    CHECK(tcp->header_len() == hlen);
    const auto opts = parse_tcp_options(tcp->options());
    REQUIRE(opts.ok());
    CHECK(opts->has_mss == o.has_mss);
    CHECK(opts->has_timestamps == o.has_timestamps);
  }
  TcpOptions o;
  o.has_mss = true;
  uint8_t small[23];
  CHECK(write_tcp_header(small, TcpHeaderFields{}, o) == 0);
}

TEST_CASE("TCP malformed headers get their named errors", "[wire]") {
  const auto good = bytes_of(tv::kSynFrame);
  const auto err = [](std::vector<uint8_t> f) {
    refresh_checksums(f);
    const auto r = parse_frame(f);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  SECTION("truncated below 20 bytes") {
    for (size_t len = 0; len < 20; ++len) {
      std::vector<uint8_t> f(good.begin(), good.begin() + static_cast<long>(kTcp + len));
      store_be16(f.data() + kEthHeaderLen + 2, static_cast<uint16_t>(20 + len));
      CHECK(err(f) == ParseError::kTcpTruncated);
    }
  }
  SECTION("data offset < 5") {
    for (uint8_t off = 0; off < 5; ++off) {
      auto f = good;
      f[kTcp + 12] = static_cast<uint8_t>(off << 4);
      CHECK(err(f) == ParseError::kTcpBadDataOffset);
    }
  }
  SECTION("data offset beyond the segment") {
    auto f = good;  // 40-byte segment
    f[kTcp + 12] = 0xB0;  // 44
    CHECK(err(f) == ParseError::kTcpDataOffsetBeyondSegment);
    f[kTcp + 12] = 0xF0;  // 60
    CHECK(err(f) == ParseError::kTcpDataOffsetBeyondSegment);
    // Data offset fits the frame but not the IP total length (padding).
    auto p = bytes_of(tv::kPaddedAckFrame);
    p[kTcp + 12] = 0x60;  // 24 bytes; frame has 6 bytes of padding after 20
    CHECK(err(p) == ParseError::kTcpDataOffsetBeyondSegment);
  }
  SECTION("bad checksum, unless trusted") {
    auto f = good;
    f[kTcp + 4] ^= 0x80;  // seq
    const auto r = parse_frame(f);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ParseError::kBadTcpChecksum);
    CHECK(parse_frame(f, kTrustChecksums).ok());
    CHECK(parse_frame(f, ParseFlags{.verify_ip_checksum = true, .verify_l4_checksum = false}).ok());
  }
}
