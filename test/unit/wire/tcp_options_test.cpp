#include <catch2/catch.hpp>

#include <initializer_list>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_options.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

bool same(const TcpOptions& a, const TcpOptions& b) {
  if (a.has_mss != b.has_mss || a.has_wscale != b.has_wscale || a.sack_permitted != b.sack_permitted ||
      a.has_timestamps != b.has_timestamps || a.sack_count != b.sack_count) {
    return false;
  }
  if (a.has_mss && a.mss != b.mss) return false;
  if (a.has_wscale && a.wscale != b.wscale) return false;
  if (a.has_timestamps && (a.ts_val != b.ts_val || a.ts_ecr != b.ts_ecr)) return false;
  for (int i = 0; i < a.sack_count; ++i) {
    if (a.sack[i].left != b.sack[i].left || a.sack[i].right != b.sack[i].right) return false;
  }
  return true;
}

Result<TcpOptions> parse(std::initializer_list<uint8_t> bytes) {
  const std::vector<uint8_t> v(bytes);
  return parse_tcp_options(v);  // TcpOptions holds no view into `v`
}

ParseError parse_err(std::initializer_list<uint8_t> bytes) {
  const auto r = parse(bytes);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

TcpOptions round_trip(const TcpOptions& o) {
  uint8_t buf[kTcpMaxOptionsLen + 8];
  const size_t n = write_tcp_options(buf, o);
  REQUIRE(n == tcp_options_len(o));
  REQUIRE(n % 4 == 0);
  REQUIRE(n <= kTcpMaxOptionsLen);
  const auto r = parse_tcp_options(std::span<const uint8_t>(buf, n));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("TCP options of the scapy SYN", "[wire]") {
  const auto fr = parse_frame(tv::kSynFrame);
  REQUIRE(fr.ok());
  const TcpOptions& o = fr->opts;
  CHECK(o.has_mss);
  CHECK(o.mss == 1460);
  CHECK(o.sack_permitted);
  CHECK(o.has_timestamps);
  CHECK(o.ts_val == 0x0a0b0c0d);
  CHECK(o.ts_ecr == 0);
  CHECK(o.has_wscale);
  CHECK(o.wscale == 7);
  CHECK(o.sack_count == 0);
}

TEST_CASE("TCP SACK blocks of a scapy ACK", "[wire]") {
  const auto fr = parse_frame(tv::kSackAckFrame);
  REQUIRE(fr.ok());
  CHECK(fr->opts.has_timestamps);
  CHECK(fr->opts.ts_val == 1);
  CHECK(fr->opts.ts_ecr == 2);
  REQUIRE(fr->opts.sack_count == 2);
  CHECK(fr->opts.sack[0].left == 0x1000);
  CHECK(fr->opts.sack[0].right == 0x2000);
  CHECK(fr->opts.sack[1].left == 0x3000);
  CHECK(fr->opts.sack[1].right == 0x4000);
}

TEST_CASE("write_tcp_options uses Linux's layout", "[wire]") {
  TcpOptions o;
  o.has_mss = true;
  o.mss = 1460;
  o.sack_permitted = true;
  o.has_timestamps = true;
  o.ts_val = 0x11223344;
  o.ts_ecr = 0x0a0b0c0d;
  o.has_wscale = true;
  o.wscale = 7;
  uint8_t buf[40];
  REQUIRE(write_tcp_options(buf, o) == 20);
  // Same bytes as the options of scapy's SYN-ACK.
  const std::span<const uint8_t> expect = std::span<const uint8_t>(tv::kSynAckFrame).subspan(54, 20);
  CHECK(std::vector<uint8_t>(buf, buf + 20) == std::vector<uint8_t>(expect.begin(), expect.end()));

  SECTION("timestamps without SACK-permitted: NOP NOP TS") {
    o.sack_permitted = false;
    o.has_mss = false;
    o.has_wscale = false;
    REQUIRE(write_tcp_options(buf, o) == 12);
    CHECK(std::vector<uint8_t>(buf, buf + 4) == std::vector<uint8_t>{1, 1, 8, 10});
  }
  SECTION("SACK-permitted without timestamps: NOP NOP SACKPERM") {
    o.has_timestamps = false;
    o.has_mss = false;
    o.has_wscale = false;
    REQUIRE(write_tcp_options(buf, o) == 4);
    CHECK(std::vector<uint8_t>(buf, buf + 4) == std::vector<uint8_t>{1, 1, 4, 2});
  }
  SECTION("window scale: NOP WS") {
    o = TcpOptions{};
    o.has_wscale = true;
    o.wscale = 14;
    REQUIRE(write_tcp_options(buf, o) == 4);
    CHECK(std::vector<uint8_t>(buf, buf + 4) == std::vector<uint8_t>{1, 3, 3, 14});
  }
  SECTION("no options: nothing") {
    CHECK(write_tcp_options(buf, TcpOptions{}) == 0);
    CHECK(tcp_options_len(TcpOptions{}) == 0);
  }
  SECTION("out too small: nothing written") {
    uint8_t small[19] = {};
    CHECK(write_tcp_options(small, o) == 0);
    for (uint8_t b : small) CHECK(b == 0);
  }
}

TEST_CASE("every option alone round trips", "[wire]") {
  TcpOptions o;
  o.has_mss = true;
  o.mss = 536;
  CHECK(same(round_trip(o), o));
  o = {};
  o.has_wscale = true;
  o.wscale = 14;
  CHECK(same(round_trip(o), o));
  o = {};
  o.sack_permitted = true;
  CHECK(same(round_trip(o), o));
  o = {};
  o.has_timestamps = true;
  o.ts_val = 0xFFFFFFFF;
  o.ts_ecr = 0x80000000;
  CHECK(same(round_trip(o), o));
  for (uint8_t n = 1; n <= 4; ++n) {
    o = {};
    o.sack_count = n;
    for (int i = 0; i < n; ++i) o.sack[i] = SackBlock{static_cast<uint32_t>(1000 * i), static_cast<uint32_t>(1000 * i + 500)};
    CHECK(same(round_trip(o), o));
  }
}

TEST_CASE("all option combinations with 0..4 SACK blocks round trip", "[wire]") {
  std::mt19937 rng(2018);
  for (int mask = 0; mask < 16; ++mask) {
    for (uint8_t blocks = 0; blocks <= 4; ++blocks) {
      TcpOptions o;
      o.has_mss = mask & 1;
      o.has_wscale = mask & 2;
      o.sack_permitted = mask & 4;
      o.has_timestamps = mask & 8;
      o.mss = static_cast<uint16_t>(rng());
      o.wscale = static_cast<uint8_t>(rng() % 15);
      o.ts_val = static_cast<uint32_t>(rng());
      o.ts_ecr = static_cast<uint32_t>(rng());
      o.sack_count = blocks;
      for (auto& b : o.sack) b = SackBlock{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng())};

      const size_t fixed = (o.has_mss ? 4 : 0) + (o.has_timestamps ? 12 : (o.sack_permitted ? 4 : 0)) +
                           (o.has_wscale ? 4 : 0);
      const size_t fit = std::min<size_t>(blocks, (40 - fixed - 4) / 8);
      CHECK(tcp_sack_blocks_that_fit(o) == fit);
      TcpOptions expect = o;
      expect.sack_count = static_cast<uint8_t>(fit);
      const TcpOptions got = round_trip(o);
      CHECK(same(got, expect));
      CHECK(tcp_options_len(o) == fixed + (fit ? 4 + 8 * fit : 0));
    }
  }
}

TEST_CASE("SACK blocks that do not fit in 40 bytes are dropped", "[wire]") {
  TcpOptions o;
  o.sack_count = 4;
  CHECK(tcp_sack_blocks_that_fit(o) == 4);  // 4 + 32 = 36
  o.has_timestamps = true;
  CHECK(tcp_sack_blocks_that_fit(o) == 3);  // 12 + 4 + 24 = 40 (Linux: 3 with TS)
  o.has_mss = true;
  o.has_wscale = true;
  o.sack_permitted = true;
  CHECK(tcp_sack_blocks_that_fit(o) == 2);  // MSS 4 + SACKPERM/TS 12 + WS 4, + 4 + 16 = 40
  CHECK(tcp_options_len(o) == 40);
  o.sack_permitted = false;  // same size: TS is NOP-padded instead
  CHECK(tcp_sack_blocks_that_fit(o) == 2);
  o.sack_count = 200;  // out of range: clamped to kMaxSackBlocks first
  o.has_mss = o.has_wscale = o.sack_permitted = o.has_timestamps = false;
  CHECK(tcp_sack_blocks_that_fit(o) == 4);
}

TEST_CASE("NOP, EOL and unknown options", "[wire]") {
  SECTION("NOPs are skipped") {
    const auto r = parse({1, 1, 1, 2, 4, 0x05, 0xb4, 1, 1, 1});
    REQUIRE(r.ok());
    CHECK(r->mss == 1460);
  }
  SECTION("EOL ends the list; what follows is padding, even if malformed") {
    const auto r = parse({3, 3, 9, 0, 2, 0, 0xFF, 0xFF});
    REQUIRE(r.ok());
    CHECK(r->has_wscale);
    CHECK(r->wscale == 9);
    CHECK_FALSE(r->has_mss);
  }
  SECTION("empty area and only EOL") {
    CHECK(parse({}).ok());
    CHECK(parse({0, 0, 0, 0}).ok());
  }
  SECTION("unknown kinds are skipped by their length") {
    // MD5 (19, len 18), experimental 254 (len 4), TFO cookie (34, len 2), then MSS
    std::vector<uint8_t> v = {19, 18};
    v.resize(18, 0xAB);
    v.insert(v.end(), {254, 4, 0xF9, 0x89, 34, 2, 2, 4, 0x02, 0x18});
    const auto r = parse_tcp_options(v);
    REQUIRE(r.ok());
    CHECK(r->has_mss);
    CHECK(r->mss == 536);
    CHECK_FALSE(r->has_wscale);
  }
}

TEST_CASE("malformed options get their named errors", "[wire]") {
  CHECK(parse_err({2, 0, 0, 0}) == ParseError::kOptBadLength);
  CHECK(parse_err({2, 1, 0, 0}) == ParseError::kOptBadLength);
  CHECK(parse_err({99, 0}) == ParseError::kOptBadLength);
  CHECK(parse_err({99, 1, 1, 1}) == ParseError::kOptBadLength);
  // Length byte missing
  CHECK(parse_err({1, 1, 1, 2}) == ParseError::kOptOverrun);
  CHECK(parse_err({99}) == ParseError::kOptOverrun);
  // Length runs past the area
  CHECK(parse_err({2, 4, 5}) == ParseError::kOptOverrun);
  CHECK(parse_err({1, 8, 10, 0, 0, 0, 0, 0, 0, 0}) == ParseError::kOptOverrun);
  CHECK(parse_err({99, 40, 0, 0}) == ParseError::kOptOverrun);
  // Wrong lengths of known options
  CHECK(parse_err({2, 3, 5, 1}) == ParseError::kOptBadMssLength);
  CHECK(parse_err({2, 5, 5, 0xb4, 0}) == ParseError::kOptBadMssLength);
  CHECK(parse_err({2, 2, 1, 1}) == ParseError::kOptBadMssLength);
  CHECK(parse_err({3, 2, 1, 1}) == ParseError::kOptBadWscaleLength);
  CHECK(parse_err({3, 4, 7, 0}) == ParseError::kOptBadWscaleLength);
  CHECK(parse_err({4, 3, 0, 1}) == ParseError::kOptBadSackPermLength);
  CHECK(parse_err({4, 4, 0, 0}) == ParseError::kOptBadSackPermLength);
  CHECK(parse_err({8, 8, 0, 0, 0, 0, 0, 0}) == ParseError::kOptBadTimestampLength);
  CHECK(parse_err({8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) == ParseError::kOptBadTimestampLength);
  CHECK(parse_err({8, 2, 1, 1}) == ParseError::kOptBadTimestampLength);
  CHECK(parse_err({5, 2, 1, 1}) == ParseError::kOptBadSackLength);  // zero blocks
  CHECK(parse_err({5, 9, 0, 0, 0, 0, 0, 0, 0}) == ParseError::kOptBadSackLength);
  CHECK(parse_err({5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}) == ParseError::kOptBadSackLength);
  {
    std::vector<uint8_t> v = {5, 17};  // 15 bytes of blocks
    v.resize(40, 0);
    REQUIRE_FALSE(parse_tcp_options(v).ok());
    CHECK(parse_tcp_options(v).error() == ParseError::kOptBadSackLength);
  }
}

TEST_CASE("malformed options are reported by parse_frame", "[wire]") {
  auto f = bytes_of(tv::kSynFrame);
  f[54 + 1] = 0;  // MSS length 0
  refresh_checksums(f);
  const auto r = parse_frame(f);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ParseError::kOptBadLength);
  f[54 + 1] = 3;
  refresh_checksums(f);
  CHECK(parse_frame(f).error() == ParseError::kOptBadMssLength);
  f[54 + 1] = 40;  // runs past the 20-byte options area
  refresh_checksums(f);
  CHECK(parse_frame(f).error() == ParseError::kOptOverrun);
}

TEST_CASE("duplicate options: the last one wins", "[wire]") {
  SECTION("MSS") {
    const auto r = parse({2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18});
    REQUIRE(r.ok());
    CHECK(r->mss == 536);
  }
  SECTION("window scale") {
    const auto r = parse({3, 3, 2, 3, 3, 9});
    REQUIRE(r.ok());
    CHECK(r->wscale == 9);
  }
  SECTION("timestamps") {
    const auto r = parse({8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 8, 10, 0, 0, 0, 3, 0, 0, 0, 4});
    REQUIRE(r.ok());
    CHECK(r->ts_val == 3);
    CHECK(r->ts_ecr == 4);
  }
  SECTION("SACK: the later option replaces all earlier blocks") {
    const auto r = parse({5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6,  //
                          5, 10, 0, 0, 0, 7, 0, 0, 0, 8});
    REQUIRE(r.ok());
    REQUIRE(r->sack_count == 1);
    CHECK(r->sack[0].left == 7);
    CHECK(r->sack[0].right == 8);
    CHECK(r->sack[1].left == 0);
    CHECK(r->sack[2].right == 0);
  }
  SECTION("SACK-permitted twice is still SACK-permitted") {
    const auto r = parse({4, 2, 4, 2});
    REQUIRE(r.ok());
    CHECK(r->sack_permitted);
  }
  SECTION("a malformed duplicate still rejects the segment") {
    CHECK(parse_err({2, 4, 0x05, 0xb4, 2, 3, 0}) == ParseError::kOptBadMssLength);
  }
}

TEST_CASE("window scale above 14 is reported as received", "[wire]") {
  for (int ws : {14, 15, 100, 255}) {
    const auto r = parse({3, 3, static_cast<uint8_t>(ws), 0});
    REQUIRE(r.ok());
    CHECK(r->has_wscale);
    CHECK(r->wscale == ws);
  }
}
