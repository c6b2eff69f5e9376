#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp_header.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

TEST_CASE("RFC 1071 section 3 numerical example", "[wire]") {
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(checksum_fold(checksum_add(data)) == 0xddf2);
  CHECK(internet_checksum(data) == 0x220d);
  uint8_t with_csum[10] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
  CHECK(internet_checksum_ok(with_csum));
  with_csum[9] ^= 1;
  CHECK_FALSE(internet_checksum_ok(with_csum));
}

TEST_CASE("checksum edge cases: empty, odd length, all ones", "[wire]") {
  CHECK(internet_checksum(std::span<const uint8_t>{}) == 0xFFFF);
  const uint8_t one[] = {0xAB};
  CHECK(internet_checksum(one) == static_cast<uint16_t>(~0xAB00));
  const uint8_t ones[] = {0xFF, 0xFF, 0xFF, 0xFF};
  CHECK(checksum_fold(checksum_add(ones)) == 0xFFFF);
  CHECK(internet_checksum(ones) == 0x0000);
}

TEST_CASE("checksum_add matches the byte-wise reference at any length and alignment", "[wire]") {
  std::mt19937 rng(1071);
  std::vector<uint8_t> buf(2100);
  for (int iter = 0; iter < 5000; ++iter) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    const size_t off = rng() % 8;
    const size_t len = rng() % 2000;
    const std::span<const uint8_t> d(buf.data() + off, len);
    REQUIRE(internet_checksum(d) == reference_checksum(d));
    // Chaining: an even-length head, then the rest.
    const size_t head = (len / 2 == 0) ? 0 : 2 * (rng() % (len / 2 + 1));
    const uint32_t s = checksum_add(d.subspan(head), checksum_add(d.first(head)));
    REQUIRE(checksum_finish(s) == reference_checksum(d));
  }
}

TEST_CASE("IPv4 header and TCP checksums of scapy frames", "[wire]") {
  const std::span<const uint8_t> syn(tv::kSynFrame);
  const auto ip_hdr = syn.subspan(kEthHeaderLen, 20);
  CHECK(ipv4_header_checksum(ip_hdr) == 0x924e);
  CHECK(ipv4_header_checksum_ok(ip_hdr));
  const auto seg = syn.subspan(kEthHeaderLen + 20);
  CHECK(tcp_checksum(tv::kIp1, tv::kIp2, seg) == 0xa592);
  CHECK(tcp_checksum_ok(tv::kIp1, tv::kIp2, seg));
  CHECK_FALSE(tcp_checksum_ok(tv::kIp2, tv::kIp2, seg));

  // Odd-length payload.
  const std::span<const uint8_t> data(tv::kDataFrame);
  CHECK(ipv4_header_checksum(data.subspan(kEthHeaderLen, 20)) == 0xae88);
  CHECK(tcp_checksum(tv::kIp2, tv::kIp1, data.subspan(kEthHeaderLen + 20)) == 0x89d9);

  const std::span<const uint8_t> sack(tv::kSackAckFrame);
  CHECK(tcp_checksum(tv::kIp2, tv::kIp1, sack.subspan(kEthHeaderLen + 20)) == 0x4f90);

  // Every single-bit flip of the segment is detected.
  auto f = bytes_of(tv::kSynFrame);
  for (size_t i = kEthHeaderLen + 20; i < f.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      f[i] = static_cast<uint8_t>(f[i] ^ (1u << bit));
      REQUIRE_FALSE(tcp_checksum_ok(tv::kIp1, tv::kIp2, cspan(f).subspan(kEthHeaderLen + 20)));
      f[i] = static_cast<uint8_t>(f[i] ^ (1u << bit));
    }
  }
}

TEST_CASE("pseudo-header checksum for TX offload completes to the full checksum", "[wire]") {
  auto f = bytes_of(tv::kDataFrame);
  const std::span<uint8_t> seg(f.data() + kEthHeaderLen + 20, f.size() - kEthHeaderLen - 20);
  const uint16_t phdr = tcp_pseudo_header_checksum(tv::kIp2, tv::kIp1, static_cast<uint16_t>(seg.size()));
  store_be16(seg.data() + tcp_off::kChecksum, phdr);  // what the driver gets
  // The NIC sums the segment (with phdr in the field) and stores the complement.
  CHECK(internet_checksum(seg) == 0x89d9);
}

TEST_CASE("RFC 1624 incremental updates equal full recomputation (IPv4 header)", "[wire]") {
  std::mt19937 rng(1624);
  std::vector<uint8_t> hdr(20);
  for (int iter = 0; iter < 50000; ++iter) {
    for (auto& b : hdr) b = static_cast<uint8_t>(rng());
    hdr[0] = 0x45;
    fill_ipv4_checksum(hdr);
    REQUIRE(ipv4_header_checksum_ok(hdr));
    for (int change = 0; change < 4; ++change) {
      switch (rng() % 4) {
        case 0: {  // a 16-bit word other than the checksum
          size_t off = 2 * (rng() % 10);
          if (off == ipv4_off::kChecksum) off = ipv4_off::kId;
          const auto v = static_cast<uint16_t>(rng() % 4 == 0 ? (rng() % 2 ? 0xFFFF : 0) : rng());
          rewrite_be16(hdr, off, v, ipv4_off::kChecksum);
          break;
        }
        case 1: {
          const size_t off = rng() % 2 ? ipv4_off::kSrc : ipv4_off::kDst;
          rewrite_be32(hdr, off, static_cast<uint32_t>(rng()), ipv4_off::kChecksum);
          break;
        }
        case 2:
          set_ipv4_ttl(hdr, static_cast<uint8_t>(rng()));
          break;
        default:
          rewrite_u8(hdr, 9, static_cast<uint8_t>(rng()), ipv4_off::kChecksum);  // protocol: odd offset
          break;
      }
      REQUIRE(load_be16(hdr.data() + ipv4_off::kChecksum) == ipv4_header_checksum(hdr));
    }
  }
}

TEST_CASE("RFC 1624 incremental updates equal full recomputation (TCP segment)", "[wire]") {
  std::mt19937 rng(9293);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> seg(20 + rng() % 64);
    for (auto& b : seg) b = static_cast<uint8_t>(rng());
    seg[tcp_off::kDataOffset] = 0x50;
    const auto src = static_cast<uint32_t>(rng());
    const auto dst = static_cast<uint32_t>(rng());
    store_be16(seg.data() + tcp_off::kChecksum, tcp_checksum(src, dst, seg));
    for (int change = 0; change < 4; ++change) {
      switch (rng() % 4) {
        case 0: rewrite_be32(seg, tcp_off::kSeq, static_cast<uint32_t>(rng()), tcp_off::kChecksum); break;
        case 1: rewrite_be32(seg, tcp_off::kAck, static_cast<uint32_t>(rng()), tcp_off::kChecksum); break;
        case 2: {
          const size_t off = rng() % 2 ? tcp_off::kWindow : tcp_off::kSrcPort;
          rewrite_be16(seg, off, static_cast<uint16_t>(rng()), tcp_off::kChecksum);
          break;
        }
        default: rewrite_u8(seg, tcp_off::kFlags, static_cast<uint8_t>(rng()), tcp_off::kChecksum); break;
      }
      REQUIRE(load_be16(seg.data() + tcp_off::kChecksum) == tcp_checksum(src, dst, seg));
      REQUIRE(tcp_checksum_ok(src, dst, seg));
    }
  }
}

namespace {
// store_tcp_checksum_at() stores what tcp_checksum() computes for `seg` under
// the IPv4 header `ip`, tcp_checksum_ok_at() accepts it, and both it and
// tcp_checksum_ok() reject the segment with one bit flipped (any byte, the
// short tail's included).
void check_in_place_checksums(const std::vector<uint8_t>& ip, std::vector<uint8_t>& seg, std::mt19937& rng) {
  store_be16(seg.data() + tcp_off::kChecksum, 0);
  const uint32_t src = load_be32(ip.data() + ipv4_off::kSrc);
  const uint32_t dst = load_be32(ip.data() + ipv4_off::kDst);
  const uint16_t want = tcp_checksum(src, dst, seg);
  store_tcp_checksum_at(ip.data(), seg.data(), seg.size());
  REQUIRE(load_be16(seg.data() + tcp_off::kChecksum) == want);
  REQUIRE(tcp_checksum_ok_at(ip.data(), seg.data(), seg.size()));
  seg[rng() % seg.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
  REQUIRE_FALSE(tcp_checksum_ok_at(ip.data(), seg.data(), seg.size()));
  REQUIRE_FALSE(tcp_checksum_ok(src, dst, seg));
}
}  // namespace

// The transmit and receive paths' variants, which read the addresses from
// the IPv4 header in place and never byte-swap, against tcp_checksum().
TEST_CASE("store_tcp_checksum_at / tcp_checksum_ok_at equal tcp_checksum", "[wire]") {
  std::mt19937 rng(1071);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> ip(20);
    for (auto& b : ip) b = static_cast<uint8_t>(rng());
    if (iter % 7 == 0) std::fill(ip.begin() + 12, ip.end(), uint8_t{0xFF});  // carries everywhere
    std::vector<uint8_t> seg(20 + rng() % 1500);
    for (auto& b : seg) b = static_cast<uint8_t>(iter % 5 == 0 ? 0xFF : rng());
    check_in_place_checksums(ip, seg, rng);
  }
}

TEST_CASE("TCP checksums at every short segment length (the 20-byte and overlapping-tail paths)", "[wire]") {
  std::mt19937 rng(1624);
  for (size_t len = 20; len <= 140; ++len) {
    for (int iter = 0; iter < 50; ++iter) {
      std::vector<uint8_t> ip(20);
      for (auto& b : ip) b = static_cast<uint8_t>(iter % 3 == 0 ? 0xFF : rng());
      std::vector<uint8_t> seg(len);
      for (auto& b : seg) b = static_cast<uint8_t>(iter % 3 == 0 ? 0xFF : rng());
      check_in_place_checksums(ip, seg, rng);
    }
  }
}

TEST_CASE("sum_is_ffff is fold_native(acc) == 0xFFFF without the fold", "[wire]") {
  using detail::fold_native;
  using detail::sum_is_ffff;
  const uint64_t m = 0xFFFF;
  // The edges of the divisibility test: 0, the value just below 0xFFFF, the
  // multiples of 0xFFFF around 0 and 2^64 - 1, and their neighbours.
  std::vector<uint64_t> v = {0, 1, m - 1, m, m + 1, 2 * m, ~uint64_t{0}, ~uint64_t{0} - 1, ~uint64_t{0} - m,
                             ~uint64_t{0} - m + 1, ~uint64_t{0} - m - 1, 0xFFFFFFFFull, 0x100000000ull,
                             0xFFFF0000FFFF0000ull, 0x0001000100010001ull, 0xFFFEFFFEFFFEFFFFull};
  for (uint64_t k = 0; k < 70000; ++k) {
    v.push_back(k);
    v.push_back(~uint64_t{0} - k);
    v.push_back(k * m);
    v.push_back(k * m + 1);
    v.push_back(k * m - 1);
  }
  std::mt19937_64 rng(1624);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng();
    v.push_back(r);
    v.push_back(r - r % m);  // a multiple of 0xFFFF
  }
  for (const uint64_t acc : v) {
    INFO(acc);
    REQUIRE(sum_is_ffff(acc) == (fold_native(acc) == 0xFFFF));
  }
}

TEST_CASE("checksum_update16/32 are RFC 1624 eqn 3 on corner values", "[wire]") {
  // RFC 1624 section 4 example: HC=0xDD2F, m=0x5555 -> m'=0x3285 gives 0x0000.
  CHECK(checksum_update16(0xDD2F, 0x5555, 0x3285) == 0x0000);
  // No-op change leaves a checksum alone.
  CHECK(checksum_update16(0x1234, 0xABCD, 0xABCD) == 0x1234);
  CHECK(checksum_update32(0x1234, 0xDEADBEEF, 0xDEADBEEF) == 0x1234);
  // Changing a word and back restores the checksum.
  CHECK(checksum_update16(checksum_update16(0x4321, 0x0000, 0xFFFF), 0xFFFF, 0x0000) == 0x4321);
}
