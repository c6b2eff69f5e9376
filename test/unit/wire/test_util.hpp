#pragma once
// Helpers shared by the [wire] tests. Tests may allocate; the library may not.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire::test {

template <size_t N>
std::vector<uint8_t> bytes_of(const uint8_t (&arr)[N]) {
  return std::vector<uint8_t>(arr, arr + N);
}

inline std::span<const uint8_t> cspan(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// Straightforward RFC 1071 reference: big-endian words, byte at a time.
inline uint16_t reference_checksum(std::span<const uint8_t> d, uint32_t initial = 0) {
  uint64_t sum = initial;
  for (size_t i = 0; i < d.size(); i += 2) {
    const uint32_t hi = d[i];
    const uint32_t lo = i + 1 < d.size() ? d[i + 1] : 0;
    sum += (hi << 8) | lo;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Recomputes the IPv4 header checksum and, for TCP, the TCP checksum of an
// Ethernet/IPv4 frame whose lengths are consistent (used after mutations).
// Out of line (test_util.cpp): inlined, GCC 12 raises false -Warray-bounds.
void refresh_checksums(std::vector<uint8_t>& f);

}  // namespace synmill::wire::test
