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
#include "wire/ipv6_addr.hpp"
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

// ---- IPv6 ----------------------------------------------------------------
// 2001:2::1 and 2001:2::2 (RFC 5180's benchmarking range), as in test_vectors_v6.hpp.
inline constexpr Ipv6Addr kA1 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 1});
inline constexpr Ipv6Addr kA2 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});

// RFC 1071 reference over an explicit RFC 8200 §8.1 pseudo-header followed by
// `data` (whose checksum field the caller has zeroed).
uint16_t reference_checksum6(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                             std::span<const uint8_t> data);

// Ethernet (02:..:01 -> 02:..:02) + IPv6 header (next header `first_nh`,
// payload length = ext + upper) + `ext` + `upper`. When `upper_proto` is TCP
// (checksum at 16) or ICMPv6 (at 2) and `upper` is long enough, its checksum
// is filled by reference_checksum6().
std::vector<uint8_t> make_frame6(uint8_t first_nh, const std::vector<uint8_t>& ext, uint8_t upper_proto,
                                 std::vector<uint8_t> upper, const Ipv6Addr& src = kA1, const Ipv6Addr& dst = kA2,
                                 uint8_t hop_limit = 64);

}  // namespace synmill::wire::test
