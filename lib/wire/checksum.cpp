#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

#include "wire/bytes.hpp"

namespace synmill::wire {

namespace {

// Sums native-order words (RFC 1071 §2(B): the sum is byte-order independent
// up to a final swap), 32 bits at a time through memcpy, so unaligned frames
// are fine. Returns the folded 16-bit sum in big-endian word terms.
uint16_t sum_be(std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  const size_t n = data.size();
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    acc += w;
  }
  if (i + 2 <= n) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    acc += w;
    i += 2;
  }
  if (i < n) {
    const uint8_t last[2] = {p[i], 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    acc += w;
  }
  // 2^16 == 1 (mod 2^16 - 1): fold 64 -> 16 bits with end-around carries.
  while ((acc >> 16) != 0) acc = (acc & 0xFFFFu) + (acc >> 16);
  auto folded = static_cast<uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<uint16_t>((folded << 8) | (folded >> 8));
  }
  return folded;
}

}  // namespace

uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum) {
  return checksum_add16(checksum_fold(sum), sum_be(data));
}

uint16_t internet_checksum(std::span<const uint8_t> data) { return checksum_finish(checksum_add(data)); }

bool internet_checksum_ok(std::span<const uint8_t> data) { return checksum_fold(checksum_add(data)) == 0xFFFF; }

uint16_t ipv4_header_checksum(std::span<const uint8_t> hdr) {
  assert(hdr.size() >= 20);
  const uint32_t s = checksum_add(hdr.first(10));
  return checksum_finish(checksum_add(hdr.subspan(12), s));
}

bool ipv4_header_checksum_ok(std::span<const uint8_t> hdr) { return internet_checksum_ok(hdr); }

uint16_t tcp_checksum(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment) {
  assert(segment.size() >= 20 && segment.size() <= 0xFFFF);
  uint32_t s = pseudo_header_sum(src_ip, dst_ip, 6, static_cast<uint16_t>(segment.size()));
  s = checksum_add(segment.first(16), s);
  return checksum_finish(checksum_add(segment.subspan(18), s));
}

bool tcp_checksum_ok(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment) {
  if (segment.size() > 0xFFFF) return false;
  const uint32_t s = pseudo_header_sum(src_ip, dst_ip, 6, static_cast<uint16_t>(segment.size()));
  return checksum_fold(checksum_add(segment, s)) == 0xFFFF;
}

void rewrite_be16(std::span<uint8_t> bytes, size_t field_off, uint16_t value, size_t csum_off) {
  assert(field_off % 2 == 0 && field_off + 2 <= bytes.size() && csum_off + 2 <= bytes.size());
  const uint16_t old = load_be16(bytes.data() + field_off);
  store_be16(bytes.data() + field_off, value);
  const uint16_t hc = load_be16(bytes.data() + csum_off);
  store_be16(bytes.data() + csum_off, checksum_update16(hc, old, value));
}

void rewrite_be32(std::span<uint8_t> bytes, size_t field_off, uint32_t value, size_t csum_off) {
  assert(field_off % 2 == 0 && field_off + 4 <= bytes.size() && csum_off + 2 <= bytes.size());
  const uint32_t old = load_be32(bytes.data() + field_off);
  store_be32(bytes.data() + field_off, value);
  const uint16_t hc = load_be16(bytes.data() + csum_off);
  store_be16(bytes.data() + csum_off, checksum_update32(hc, old, value));
}

void rewrite_u8(std::span<uint8_t> bytes, size_t field_off, uint8_t value, size_t csum_off) {
  const size_t word_off = field_off & ~static_cast<size_t>(1);
  assert(word_off + 2 <= bytes.size());
  const uint8_t hi = field_off == word_off ? value : bytes[word_off];
  const uint8_t lo = field_off == word_off ? bytes[word_off + 1] : value;
  rewrite_be16(bytes, word_off, static_cast<uint16_t>((hi << 8) | lo), csum_off);
}

}  // namespace synmill::wire
