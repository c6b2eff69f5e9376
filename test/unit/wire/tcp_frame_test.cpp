#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_frame.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

constexpr MacAddr kMac1 = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kMac2 = {0x02, 0, 0, 0, 0, 0x02};

TcpFrameSpec server_spec() {
  TcpFrameSpec s;
  s.src_mac = kMac2;
  s.dst_mac = kMac1;
  s.src_ip = tv::kIp2;
  s.dst_ip = tv::kIp1;
  s.src_port = 80;
  s.dst_port = 40000;
  return s;
}

std::vector<uint8_t> build(const TcpFrameSpec& s, std::span<const uint8_t> payload = {}) {
  std::vector<uint8_t> out(1600);
  const size_t n = build_tcp_frame(out, s, payload);
  REQUIRE(n > 0);
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("build_tcp_frame: SYN-ACK equals scapy's", "[wire]") {
  TcpFrameSpec s = server_spec();
  s.seq = 0xdeadbeef;
  s.ack = 0x12345679;
  s.flags = tcp_flag::kSyn | tcp_flag::kAck;
  s.window = 65160;
  s.opts.has_mss = true;
  s.opts.mss = 1460;
  s.opts.sack_permitted = true;
  s.opts.has_timestamps = true;
  s.opts.ts_val = 0x11223344;
  s.opts.ts_ecr = 0x0a0b0c0d;
  s.opts.has_wscale = true;
  s.opts.wscale = 7;
  CHECK(build(s) == bytes_of(tv::kSynAckFrame));
}

TEST_CASE("build_tcp_frame: data segment with odd payload equals scapy's", "[wire]") {
  TcpFrameSpec s = server_spec();
  s.seq = 0xdeadbef0;
  s.ack = 0x12345679;
  s.flags = tcp_flag::kPsh | tcp_flag::kAck;
  s.window = 510;
  s.ip_id = 7;
  s.opts.has_timestamps = true;
  s.opts.ts_val = 0x11223345;
  s.opts.ts_ecr = 0x0a0b0c0e;
  const std::string text = "hello, world!";
  const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  CHECK(build(s, payload) == bytes_of(tv::kDataFrame));

  SECTION("headers, caller copies the payload, finish: same bytes") {
    std::vector<uint8_t> out(200, 0xEE);
    const size_t hlen = write_tcp_frame_headers(out, s);
    REQUIRE(hlen == tcp_frame_header_len(s.opts));
    REQUIRE(hlen == 66);
    std::memcpy(out.data() + hlen, text.data(), text.size());
    const size_t n = finish_tcp_frame(out, text.size());
    REQUIRE(n == hlen + text.size());
    out.resize(n);
    CHECK(out == bytes_of(tv::kDataFrame));
  }
}

TEST_CASE("build_tcp_frame: ACK with SACK blocks equals scapy's", "[wire]") {
  TcpFrameSpec s = server_spec();
  s.seq = 0xdeadbef0;
  s.ack = 0x12345679;
  s.flags = tcp_flag::kAck;
  s.window = 510;
  s.ip_id = 9;
  s.opts.has_timestamps = true;
  s.opts.ts_val = 1;
  s.opts.ts_ecr = 2;
  s.opts.sack_count = 2;
  s.opts.sack[0] = {0x1000, 0x2000};
  s.opts.sack[1] = {0x3000, 0x4000};
  CHECK(build(s) == bytes_of(tv::kSackAckFrame));
}

TEST_CASE("build_tcp_frame: checksum fill flags", "[wire]") {
  TcpFrameSpec s = server_spec();
  s.flags = tcp_flag::kRst;
  std::vector<uint8_t> out(100);
  const size_t n = build_tcp_frame(out, s, {}, /*fill_ip_csum=*/false, /*fill_tcp_csum=*/false);
  REQUIRE(n == 54);
  CHECK(load_be16(out.data() + 14 + 10) == 0);
  CHECK(load_be16(out.data() + 34 + 16) == 0);
  const auto fr = parse_frame(std::span<const uint8_t>(out.data(), n), kTrustChecksums);
  REQUIRE(fr.ok());
  CHECK(fr->ip.total_len() == 40);
  CHECK(fr->tcp.has(tcp_flag::kRst));
}

TEST_CASE("build_tcp_frame: out too small or payload too large gives 0", "[wire]") {
  TcpFrameSpec s = server_spec();
  s.opts.has_mss = true;
  const std::vector<uint8_t> payload(100, 1);
  const size_t need = tcp_frame_header_len(s.opts) + payload.size();
  std::vector<uint8_t> out(need);
  CHECK(build_tcp_frame(out, s, payload) == need);
  for (size_t len : {size_t{0}, size_t{13}, size_t{53}, tcp_frame_header_len(s.opts), need - 1}) {
    std::vector<uint8_t> small(len);
    CHECK(build_tcp_frame(small, s, payload) == 0);
  }
  CHECK(write_tcp_frame_headers(std::span<uint8_t>(out.data(), 57), s) == 0);

  const std::vector<uint8_t> huge(tcp_frame_max_payload(s.opts) + 1, 0);
  std::vector<uint8_t> big(huge.size() + 100);
  CHECK(build_tcp_frame(big, s, huge) == 0);
  const std::span<const uint8_t> max_payload(huge.data(), huge.size() - 1);
  const size_t n = build_tcp_frame(big, s, max_payload);
  REQUIRE(n == 14 + 0xFFFFu);
  CHECK(parse_frame(std::span<const uint8_t>(big.data(), n)).ok());

  // finish_tcp_frame refuses inconsistent input.
  CHECK(finish_tcp_frame(std::span<uint8_t>(out.data(), 53), 0) == 0);
  CHECK(finish_tcp_frame(out, payload.size() + 1) == 0);
  CHECK(finish_tcp_frame(out, 70000) == 0);
}

TEST_CASE("build_tcp_frame / parse_frame round trip over random specs", "[wire]") {
  std::mt19937 rng(42);
  std::vector<uint8_t> out(2000);
  std::vector<uint8_t> payload(1500);
  for (int iter = 0; iter < 5000; ++iter) {
    TcpFrameSpec s;
    for (auto& b : s.src_mac) b = static_cast<uint8_t>(rng());
    for (auto& b : s.dst_mac) b = static_cast<uint8_t>(rng());
    s.src_ip = static_cast<uint32_t>(rng());
    s.dst_ip = static_cast<uint32_t>(rng());
    s.src_port = static_cast<uint16_t>(rng());
    s.dst_port = static_cast<uint16_t>(rng());
    s.seq = static_cast<uint32_t>(rng());
    s.ack = static_cast<uint32_t>(rng());
    s.flags = static_cast<uint8_t>(rng());
    s.window = static_cast<uint16_t>(rng());
    s.ttl = static_cast<uint8_t>(rng());
    s.ip_id = static_cast<uint16_t>(rng());
    s.opts.has_mss = rng() % 2;
    s.opts.mss = static_cast<uint16_t>(rng());
    s.opts.has_wscale = rng() % 2;
    s.opts.wscale = static_cast<uint8_t>(rng());
    s.opts.sack_permitted = rng() % 2;
    s.opts.has_timestamps = rng() % 2;
    s.opts.ts_val = static_cast<uint32_t>(rng());
    s.opts.ts_ecr = static_cast<uint32_t>(rng());
    s.opts.sack_count = static_cast<uint8_t>(rng() % 5);
    for (auto& b : s.opts.sack) b = SackBlock{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng())};
    const size_t plen = rng() % 4 == 0 ? 0 : rng() % payload.size();
    for (size_t i = 0; i < plen; ++i) payload[i] = static_cast<uint8_t>(rng());

    const size_t n = build_tcp_frame(out, s, std::span<const uint8_t>(payload.data(), plen));
    REQUIRE(n == tcp_frame_header_len(s.opts) + plen);
    const auto fr = parse_frame(std::span<const uint8_t>(out.data(), n));  // checksums verified
    REQUIRE(fr.ok());
    REQUIRE(fr->kind == FrameKind::kIpv4Tcp);
    CHECK(fr->eth.src() == s.src_mac);
    CHECK(fr->eth.dst() == s.dst_mac);
    CHECK(fr->ip.src() == s.src_ip);
    CHECK(fr->ip.dst() == s.dst_ip);
    CHECK(fr->ip.ttl() == s.ttl);
    CHECK(fr->ip.id() == s.ip_id);
    CHECK(fr->ip.dont_fragment());
    CHECK(fr->tcp.src_port() == s.src_port);
    CHECK(fr->tcp.dst_port() == s.dst_port);
    CHECK(fr->tcp.seq() == s.seq);
    CHECK(fr->tcp.ack() == s.ack);
    CHECK(fr->tcp.flags() == s.flags);
    CHECK(fr->tcp.window() == s.window);
    CHECK(fr->opts.has_mss == s.opts.has_mss);
    CHECK(fr->opts.has_wscale == s.opts.has_wscale);
    CHECK(fr->opts.sack_permitted == s.opts.sack_permitted);
    CHECK(fr->opts.has_timestamps == s.opts.has_timestamps);
    if (s.opts.has_mss) CHECK(fr->opts.mss == s.opts.mss);
    if (s.opts.has_wscale) CHECK(fr->opts.wscale == s.opts.wscale);
    if (s.opts.has_timestamps) {
      CHECK(fr->opts.ts_val == s.opts.ts_val);
      CHECK(fr->opts.ts_ecr == s.opts.ts_ecr);
    }
    REQUIRE(fr->opts.sack_count == tcp_sack_blocks_that_fit(s.opts));
    for (int i = 0; i < fr->opts.sack_count; ++i) {
      CHECK(fr->opts.sack[i].left == s.opts.sack[i].left);
      CHECK(fr->opts.sack[i].right == s.opts.sack[i].right);
    }
    REQUIRE(fr->payload.size() == plen);
    CHECK(std::equal(fr->payload.begin(), fr->payload.end(), payload.begin()));
  }
}

TEST_CASE("reply built in place in the received buffer", "[wire]") {
  // Read what the reply needs from a received SYN, then build the SYN-ACK over it.
  auto buf = bytes_of(tv::kSynFrame);
  buf.resize(128);
  const auto fr = parse_frame(std::span<const uint8_t>(tv::kSynFrame));
  REQUIRE(fr.ok());
  TcpFrameSpec s;
  s.src_mac = fr->eth.dst();
  s.dst_mac = fr->eth.src();
  s.src_ip = fr->ip.dst();
  s.dst_ip = fr->ip.src();
  s.src_port = fr->tcp.dst_port();
  s.dst_port = fr->tcp.src_port();
  s.seq = 0xdeadbeef;
  s.ack = fr->tcp.seq() + 1;
  s.flags = tcp_flag::kSyn | tcp_flag::kAck;
  s.window = 65160;
  s.opts.has_mss = true;
  s.opts.mss = 1460;
  s.opts.sack_permitted = fr->opts.sack_permitted;
  s.opts.has_timestamps = true;
  s.opts.ts_val = 0x11223344;
  s.opts.ts_ecr = fr->opts.ts_val;
  s.opts.has_wscale = true;
  s.opts.wscale = 7;
  const size_t n = build_tcp_frame(buf, s, {});
  buf.resize(n);
  CHECK(buf == bytes_of(tv::kSynAckFrame));
}
