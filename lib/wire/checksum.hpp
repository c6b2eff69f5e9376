#pragma once
// Internet checksum (RFC 1071), the IPv4 header and TCP checksums (RFC 791
// §3.1, RFC 9293 §3.1 pseudo-header) and incremental updates (RFC 1624).
//
// Conventions: a "sum" is a 16-bit one's-complement sum of big-endian 16-bit
// words, kept folded in a uint32_t so calls chain; a "checksum" is the
// complement of a folded sum, in host order, to be stored big-endian in the
// header field (store_be16). Data covered by a checksum is verified by summing
// it *including* the stored field: the result folds to 0xFFFF.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace synmill::wire {

// One's-complement sum of `data` added to `sum` (RFC 1071 §4.1). An odd
// trailing byte is padded with a zero byte, so when chaining calls every span
// but the last must have even length.
uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum = 0);

constexpr uint32_t checksum_add16(uint32_t sum, uint16_t word) {
  sum += word;
  return (sum & 0xFFFFu) + (sum >> 16);
}

constexpr uint32_t checksum_add32(uint32_t sum, uint32_t v) {
  return checksum_add16(checksum_add16(sum, static_cast<uint16_t>(v >> 16)),
                        static_cast<uint16_t>(v & 0xFFFFu));
}

// Folds carries back in: the 16-bit one's-complement sum, not complemented.
constexpr uint16_t checksum_fold(uint32_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum to store: complement of the folded sum.
constexpr uint16_t checksum_finish(uint32_t sum) { return static_cast<uint16_t>(~checksum_fold(sum)); }

// RFC 1071 checksum of `data`.
uint16_t internet_checksum(std::span<const uint8_t> data);

// True when `data`, which contains its own checksum field, sums to 0xFFFF.
bool internet_checksum_ok(std::span<const uint8_t> data);

// Sum of the TCP/UDP IPv4 pseudo-header (RFC 9293 §3.1): source, destination,
// zero + protocol, segment length. Addresses in host order.
constexpr uint32_t pseudo_header_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t protocol, uint16_t len) {
  uint32_t s = checksum_add32(0, src_ip);
  s = checksum_add32(s, dst_ip);
  s = checksum_add16(s, protocol);
  return checksum_add16(s, len);
}

// IPv4 header checksum (RFC 791 §3.1) of `hdr` (the IHL*4 header bytes,
// at least 20), computed as if the checksum field (bytes 10-11) were zero.
uint16_t ipv4_header_checksum(std::span<const uint8_t> hdr);
bool ipv4_header_checksum_ok(std::span<const uint8_t> hdr);

// TCP checksum over pseudo-header + `segment` (header, options and payload,
// at least 20 bytes), computed as if the checksum field (bytes 16-17) were zero.
uint16_t tcp_checksum(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment);
bool tcp_checksum_ok(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment);

// For TX checksum offload: the folded, *uncomplemented* pseudo-header sum the
// NIC expects pre-loaded in the TCP checksum field (what DPDK's
// rte_ipv4_phdr_cksum returns), for a segment of `tcp_len` bytes.
constexpr uint16_t tcp_pseudo_header_checksum(uint32_t src_ip, uint32_t dst_ip, uint16_t tcp_len) {
  return checksum_fold(pseudo_header_sum(src_ip, dst_ip, 6, tcp_len));
}

// ---- incremental update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') -----------
// `hc` is the stored checksum (host order); returns the new one after the
// 16-bit word `old_word` covered by it became `new_word`.
constexpr uint16_t checksum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~hc);
  s = checksum_add16(s, static_cast<uint16_t>(~old_word));
  s = checksum_add16(s, new_word);
  return checksum_finish(s);
}

// Same for an aligned 32-bit field (two consecutive 16-bit words).
constexpr uint16_t checksum_update32(uint16_t hc, uint32_t old_val, uint32_t new_val) {
  hc = checksum_update16(hc, static_cast<uint16_t>(old_val >> 16), static_cast<uint16_t>(new_val >> 16));
  return checksum_update16(hc, static_cast<uint16_t>(old_val), static_cast<uint16_t>(new_val));
}

// In-place rewrites of a field inside `bytes` whose checksum is stored
// big-endian at `csum_off`. Offsets are relative to `bytes`, whose first byte
// must sit at an even offset of the checksummed data (true for an IP header,
// an ICMP message or a TCP segment). Preconditions: fields lie inside `bytes`;
// 16- and 32-bit fields start at even offsets.
void rewrite_u8(std::span<uint8_t> bytes, size_t field_off, uint8_t value, size_t csum_off);
void rewrite_be16(std::span<uint8_t> bytes, size_t field_off, uint16_t value, size_t csum_off);
void rewrite_be32(std::span<uint8_t> bytes, size_t field_off, uint32_t value, size_t csum_off);

}  // namespace synmill::wire
