#pragma once
// Builds whole Ethernet + IPv4 (or IPv6) + TCP frames. Two ways:
//  - build_tcp_frame(): headers, payload copy, lengths and checksums at once;
//  - write_tcp_frame_headers(), then the caller copies the payload to
//    frame[tcp_frame_header_len(opts)...] (e.g. PayloadSource::copy_to), then
//    finish_tcp_frame() fills the IP total length and the checksums.
// `out` may be the received buffer (reply in place) once the fields needed
// from the received frame have been read. IPv4 header without options, DF set;
// IPv6 header without extension headers, flow label 0, `ttl` as hop limit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv6_addr.hpp"
#include "wire/tcp_header.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

// The header fields (host byte order) and what a whole frame adds. For
// IPv6 (family kV6) the addresses are src_ip6 / dst_ip6, and src_ip /
// dst_ip / ip_id are not used.
struct TcpFrameSpec : TcpHeaderFields {
  std::array<uint8_t, 6> src_mac{};
  std::array<uint8_t, 6> dst_mac{};
  TcpOptions opts;
  uint8_t ttl = 64;  // IPv6: hop limit
  uint16_t ip_id = 0;
  IpFamily family = IpFamily::kV4;
  Ipv6Addr src_ip6;
  Ipv6Addr dst_ip6;
};

// The fixed IP header: 20 (IPv4 without options) or 40 (IPv6).
constexpr size_t ip_header_len(IpFamily f) { return f == IpFamily::kV6 ? 40 : 20; }

// 14 + 20 (IPv6: 40) + 20 + tcp_options_len(opts): where the payload starts.
constexpr size_t tcp_frame_header_len(const TcpOptions& opts, IpFamily f = IpFamily::kV4) {
  return 14 + ip_header_len(f) + 20 + tcp_options_len(opts);
}

// Largest payload a frame can carry with these options: the IPv4 total
// length and the IPv6 payload length are 16 bits, the latter not counting
// the IPv6 header (jumbograms, RFC 2675, are not sent).
constexpr size_t tcp_frame_max_payload(const TcpOptions& opts, IpFamily f = IpFamily::kV4) {
  return 0xFFFF - (f == IpFamily::kV6 ? 0 : 20) - 20 - tcp_options_len(opts);
}

// The MSS to announce for a link MTU (RFC 9293 §3.7.1: MTU less the fixed IP
// and TCP headers): MTU - 40 for IPv4, MTU - 60 for IPv6 (RFC 8200 §8.3).
// The builders write whatever MSS TcpOptions holds; the TCP layer picks it
// per family with this. 0 when the MTU cannot carry the headers.
constexpr uint16_t tcp_mss_for_mtu(uint32_t mtu, IpFamily f) {
  const uint32_t headers = static_cast<uint32_t>(ip_header_len(f)) + 20;
  if (mtu <= headers) return 0;
  return static_cast<uint16_t>(mtu - headers > 0xFFFF ? 0xFFFF : mtu - headers);
}

// The send MSS when the peer's SYN carries no MSS option: 536 for IPv4 (RFC
// 9293 §3.7.1), 1220 for IPv6 (RFC 8200 §5's minimum link MTU 1280 less
// 60, §8.3; Linux's IPV6_MIN_MTU - 60 too).
constexpr uint16_t tcp_default_mss(IpFamily f) { return f == IpFamily::kV6 ? 1220 : 536; }

// Writes the Ethernet, IP and TCP headers (options included). The IP total
// (IPv6 payload) length and the checksums are left zero for
// finish_tcp_frame(). Returns tcp_frame_header_len(spec.opts, spec.family),
// or 0 when `out` is too small.
size_t write_tcp_frame_headers(std::span<uint8_t> out, const TcpFrameSpec& spec);

// Completes a frame whose headers were written by write_tcp_frame_headers()
// and whose `payload_len` payload bytes are already in place after them: sets
// the IP total length and fills the IP header checksum and the TCP checksum
// (pseudo-header included, RFC 9293 §3.1); for IPv6 (told by the EtherType)
// the payload length and the TCP checksum over the IPv6 pseudo-header (RFC
// 8200 §8.1; there is no IP checksum). With a fill flag false that field
// is left zero (NIC offload; for TCP offload the NIC wants
// tcp_pseudo_header_checksum() stored there instead, see checksum.hpp,
// checksum6.hpp).
// Returns the frame length (header_len + payload_len), or 0 when `frame` is
// too short, the headers are not ours, or the payload is too large.
size_t finish_tcp_frame(std::span<uint8_t> frame, size_t payload_len, bool fill_ip_csum = true,
                        bool fill_tcp_csum = true);

// Whole frame in one call. Returns the frame length, or 0 when `out` is too
// small or the payload too large (nothing meaningful written).
size_t build_tcp_frame(std::span<uint8_t> out, const TcpFrameSpec& spec, std::span<const uint8_t> payload,
                       bool fill_ip_csum = true, bool fill_tcp_csum = true);

}  // namespace synmill::wire
