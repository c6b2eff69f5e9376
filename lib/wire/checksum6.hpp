#pragma once
// Upper-layer checksums over the IPv6 pseudo-header (RFC 8200 §8.1): source
// and destination address, the upper-layer packet length as 32 bits (the
// payload length minus the extension headers before the upper-layer header),
// three zero bytes and the next header value (6 TCP, 58 ICMPv6: RFC 4443
// §2.3). Same conventions as checksum.hpp (host-order results, to be stored
// big-endian); addresses are pointers to their 16 bytes in a frame or in an
// Ipv6Addr.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/checksum.hpp"

namespace synmill::wire {

namespace detail {

// The pseudo-header as a native-order partial sum (see sum_native()).
inline uint64_t pseudo6_native(const uint8_t* src, const uint8_t* dst, uint8_t next_header, uint32_t len) {
  uint64_t acc = sum_native(src, 16, 0);
  acc = sum_native(dst, 16, acc);
  acc = add_carry(acc, to_be32(len));                                   // bytes len[0..3]
  return add_carry(acc, to_be32(static_cast<uint32_t>(next_header)));  // bytes {0, 0, 0, nh}
}

}  // namespace detail

// True when `data` (the upper-layer packet, its checksum field included)
// sums with the pseudo-header to 0xFFFF. A length over 32 bits cannot occur.
inline bool l4_checksum6_ok(const uint8_t* src, const uint8_t* dst, uint8_t next_header,
                            std::span<const uint8_t> data) {
  const uint64_t ph = detail::pseudo6_native(src, dst, next_header, static_cast<uint32_t>(data.size()));
  return detail::sum_is_ffff(detail::sum_native(data.data(), data.size(), ph));
}

// The checksum of `data` whose checksum field is zero (as a builder leaves it).
inline uint16_t l4_checksum6_zeroed(const uint8_t* src, const uint8_t* dst, uint8_t next_header,
                                    std::span<const uint8_t> data) {
  const uint64_t ph = detail::pseudo6_native(src, dst, next_header, static_cast<uint32_t>(data.size()));
  return static_cast<uint16_t>(~detail::fold_be(detail::sum_native(data.data(), data.size(), ph)));
}

// The checksum of `data` as if its field at `csum_off` were zero: summed
// whole and the stored field taken back out (exact: the next header is never
// zero, so the sum without the field never is the all-zero one).
inline uint16_t l4_checksum6(const uint8_t* src, const uint8_t* dst, uint8_t next_header,
                             std::span<const uint8_t> data, size_t csum_off) {
  assert(csum_off + 2 <= data.size());
  const uint64_t ph = detail::pseudo6_native(src, dst, next_header, static_cast<uint32_t>(data.size()));
  const uint16_t sum = detail::fold_be(detail::sum_native(data.data(), data.size(), ph));
  const auto stored = static_cast<uint16_t>((data[csum_off] << 8) | data[csum_off + 1]);
  return checksum_finish(checksum_add16(sum, static_cast<uint16_t>(~stored)));
}

// TCP over IPv6 (RFC 9293 §3.1 with RFC 8200 §8.1's pseudo-header).
inline bool tcp6_checksum_ok(const uint8_t* src, const uint8_t* dst, std::span<const uint8_t> segment) {
  return l4_checksum6_ok(src, dst, 6, segment);
}
inline uint16_t tcp6_checksum(const uint8_t* src, const uint8_t* dst, std::span<const uint8_t> segment) {
  assert(segment.size() >= 20);
  return l4_checksum6(src, dst, 6, segment, 16);
}

// For TX checksum offload: the folded, uncomplemented pseudo-header sum the
// NIC expects in the TCP checksum field (what DPDK's rte_ipv6_phdr_cksum
// returns).
inline uint16_t tcp6_pseudo_header_checksum(const uint8_t* src, const uint8_t* dst, uint32_t tcp_len) {
  return detail::fold_be(detail::pseudo6_native(src, dst, 6, tcp_len));
}

}  // namespace synmill::wire
