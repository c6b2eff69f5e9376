#pragma once
// The transmit fast path: Ethernet + IPv4 + TCP headers written from a
// per-sender template. The Ethernet source and EtherType and the IPv4 fields
// that never change (version/IHL, TOS, DF, TTL, protocol) are laid out once,
// with their share of the header checksum; a frame then costs a 34-byte copy,
// a few patched fields, the options written once at a length computed once
// by the caller, and one checksum pass over the TCP segment (64-bit steps).
// Same bytes as write_tcp_frame_headers() + finish_tcp_frame() (fuzz_wire
// checks it). IPv6: the same from a second prefix (Ethernet + the 40-byte
// header's constant words: version, traffic class 0, flow label 0, next
// header TCP, hop limit), write_headers6() and fill_tcp6_checksum(); there is
// no IP checksum and no identification.
#include <array>
#include <cstddef>
#include <cstdint>

#include <cstring>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/tcp_header.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

class TcpFrameTemplate {
 public:
  static constexpr size_t kPrefixLen = 34;   // Ethernet + IPv4 without options
  static constexpr size_t kPrefix6Len = 54;  // Ethernet + IPv6 without extension headers

  explicit TcpFrameTemplate(const MacAddr& src_mac = {}, uint8_t ttl = 64);

  // Writes the three headers for a segment whose payload (payload_len bytes)
  // the caller then puts at out + 54 + opts_len. The IP total length is set
  // and the IP checksum filled (zero when !fill_ip_csum, for offload); the
  // TCP checksum is left zero for fill_tcp_checksum(). opts_len must be
  // tcp_options_len(opts); the caller guarantees room for the whole frame and
  // 20 + opts_len + payload_len <= 65535 - 20.
  // Inline: the transmit path (frame_from_segment) then passes the fields in
  // registers rather than through a TcpHeaderFields in memory.
  [[gnu::always_inline]] inline void write_headers(uint8_t* out, const MacAddr& dst_mac, const TcpHeaderFields& h,
                                                   const TcpOptions& opts, size_t opts_len, uint16_t ip_id,
                                                   size_t payload_len, bool fill_ip_csum) const;

  // The same for IPv6 from `src` to `dst` (h.src_ip / h.dst_ip unused); the
  // payload goes at out + 74 + opts_len; the IPv6 payload length is set, the
  // TCP checksum left zero for fill_tcp6_checksum(). The caller guarantees
  // 20 + opts_len + payload_len <= 65535.
  void write_headers6(uint8_t* out, const MacAddr& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst,
                      const TcpHeaderFields& h, const TcpOptions& opts, size_t opts_len, size_t payload_len) const;

 private:
  std::array<uint8_t, kPrefixLen> prefix_{};
  std::array<uint8_t, kPrefix6Len> prefix6_{};
  uint32_t ip_const_sum_ = 0;  // one's-complement sum of the constant IPv4 words
};

namespace detail {
inline constexpr size_t kTplIp = kEthHeaderLen;
inline constexpr size_t kTplTcp = kEthHeaderLen + kIpv4MinHeaderLen;

// The TCP header at `t`, either family.
[[gnu::always_inline]] inline void write_tcp_part(uint8_t* t, const TcpHeaderFields& h, const TcpOptions& opts,
                                                  size_t opts_len) {
  store_be16(t + tcp_off::kSrcPort, h.src_port);
  store_be16(t + tcp_off::kDstPort, h.dst_port);
  store_be32(t + tcp_off::kSeq, h.seq);
  store_be32(t + tcp_off::kAck, h.ack);
  t[tcp_off::kDataOffset] = static_cast<uint8_t>(((kTcpMinHeaderLen + opts_len) / 4) << 4);
  t[tcp_off::kFlags] = h.flags;
  store_be16(t + tcp_off::kWindow, h.window);
  store_be32(t + tcp_off::kChecksum, 0);  // checksum and urgent pointer
  if (opts_len > 0) write_tcp_options_unchecked(t + kTcpMinHeaderLen, opts, opts_len);
}
}  // namespace detail

inline void TcpFrameTemplate::write_headers(uint8_t* out, const MacAddr& dst_mac, const TcpHeaderFields& h,
                                            const TcpOptions& opts, size_t opts_len, uint16_t ip_id,
                                            size_t payload_len, bool fill_ip_csum) const {
  std::memcpy(out, prefix_.data(), kPrefixLen);
  std::memcpy(out, dst_mac.data(), 6);
  uint8_t* ip = out + detail::kTplIp;
  const auto total = static_cast<uint16_t>(kIpv4MinHeaderLen + kTcpMinHeaderLen + opts_len + payload_len);
  store_be16(ip + ipv4_off::kTotalLen, total);
  store_be16(ip + ipv4_off::kId, ip_id);
  store_be32(ip + ipv4_off::kSrc, h.src_ip);
  store_be32(ip + ipv4_off::kDst, h.dst_ip);
  uint16_t ip_csum = 0;
  if (fill_ip_csum) {
    // Each address whole: hi * 2^16 + lo is hi + lo modulo 0xFFFF, and a
    // nonzero sum folds to the same 16 bits either way (< 2^35 here).
    // Folded without a loop (fold_native: 2^32 - 1 is a multiple of
    // 2^16 - 1, so its 64 -> 32 -> 16 folds give the same sum).
    const uint64_t s = uint64_t{ip_const_sum_} + total + ip_id + h.src_ip + h.dst_ip;
    ip_csum = static_cast<uint16_t>(~detail::fold_native(s));
  }
  store_be16(ip + ipv4_off::kChecksum, ip_csum);
  detail::write_tcp_part(out + detail::kTplTcp, h, opts, opts_len);
}

// Stores the TCP checksum (pseudo-header included, RFC 9293 §3.1) of the
// frame whose headers write_headers() wrote and whose payload is in place;
// `tcp_len` is 20 + opts_len + payload_len.
inline void fill_tcp_checksum(uint8_t* frame, size_t tcp_len) {
  store_tcp_checksum_at(frame + detail::kTplIp, frame + detail::kTplTcp, tcp_len);
}

// The same for a frame write_headers6() wrote (RFC 8200 §8.1 pseudo-header);
// `tcp_len` is 20 + opts_len + payload_len.
void fill_tcp6_checksum(uint8_t* frame, size_t tcp_len);

}  // namespace synmill::wire
