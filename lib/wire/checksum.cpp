#include "wire/checksum.hpp"

#include "wire/bytes.hpp"

namespace synmill::wire {

uint64_t detail::sum_native_call(const uint8_t* p, size_t n, uint64_t acc) { return sum_native(p, n, acc); }

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
