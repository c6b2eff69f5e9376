#pragma once
// Builds whole Ethernet + IPv4 + TCP frames. Two ways:
//  - build_tcp_frame(): headers, payload copy, lengths and checksums at once;
//  - write_tcp_frame_headers(), then the caller copies the payload to
//    frame[tcp_frame_header_len(opts)...] (e.g. PayloadSource::copy_to), then
//    finish_tcp_frame() fills the IP total length and the checksums.
// `out` may be the received buffer (reply in place) once the fields needed
// from the received frame have been read. IPv4 header without options, DF set.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/tcp_header.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

// The header fields (host byte order) and what a whole frame adds.
struct TcpFrameSpec : TcpHeaderFields {
  std::array<uint8_t, 6> src_mac{};
  std::array<uint8_t, 6> dst_mac{};
  TcpOptions opts;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
};

// 14 + 20 + 20 + tcp_options_len(opts): where the payload starts.
constexpr size_t tcp_frame_header_len(const TcpOptions& opts) { return 14 + 20 + 20 + tcp_options_len(opts); }

// Largest payload a frame can carry with these options (IPv4 total length
// is 16 bits).
constexpr size_t tcp_frame_max_payload(const TcpOptions& opts) { return 0xFFFF - 20 - 20 - tcp_options_len(opts); }

// Writes the Ethernet, IPv4 and TCP headers (options included). The IP total
// length and both checksums are left zero for finish_tcp_frame(). Returns
// tcp_frame_header_len(spec.opts), or 0 when `out` is too small.
size_t write_tcp_frame_headers(std::span<uint8_t> out, const TcpFrameSpec& spec);

// Completes a frame whose headers were written by write_tcp_frame_headers()
// and whose `payload_len` payload bytes are already in place after them: sets
// the IP total length and fills the IP header checksum and the TCP checksum
// (pseudo-header included, RFC 9293 §3.1). With a fill flag false that field
// is left zero (NIC offload; for TCP offload the NIC wants
// tcp_pseudo_header_checksum() stored there instead, see checksum.hpp).
// Returns the frame length (header_len + payload_len), or 0 when `frame` is
// too short, the headers are not ours, or the payload is too large.
size_t finish_tcp_frame(std::span<uint8_t> frame, size_t payload_len, bool fill_ip_csum = true,
                        bool fill_tcp_csum = true);

// Whole frame in one call. Returns the frame length, or 0 when `out` is too
// small or the payload too large (nothing meaningful written).
size_t build_tcp_frame(std::span<uint8_t> out, const TcpFrameSpec& spec, std::span<const uint8_t> payload,
                       bool fill_ip_csum = true, bool fill_tcp_csum = true);

}  // namespace synmill::wire
