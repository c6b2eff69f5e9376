#pragma once
// SegmentIn from a parsed frame, and a frame from a SegmentOut: the glue the
// data plane and the simulation share between lib/wire and the TCP core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tcp/segment.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_parse.hpp"
#include "wire/tcp_template.hpp"

namespace synmill::tcp {

// `f` must be FrameKind::kIpv4Tcp or kIpv6Tcp. The local side is the frame's
// destination; for IPv6 the addresses go to SegmentIn::local6 / remote6.
SegmentIn segment_from_frame(const wire::Frame& f);

// The receive fast path: an Ethernet frame parsed in place straight into
// `out` (options included, no Frame in between). kNotTcp: not IPv4 TCP, use
// wire::parse_frame(); kError: `err` is what parse_frame() would return.
// `view` gives the rest of the frame (MAC addresses) to the caller. On kTcp
// every field of `out` is written, so a caller may reuse one SegmentIn for
// every frame rather than zero a new one each time.
wire::TcpFrameParse segment_from_bytes(std::span<const uint8_t> frame, wire::ParseFlags flags, SegmentIn& out,
                                       wire::TcpFrameView& view, wire::ParseError& err);

struct FrameAddrs {
  std::array<uint8_t, 6> src_mac{};
  std::array<uint8_t, 6> dst_mac{};
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
};

// Writes the whole frame (headers, payload copied from the segment's source,
// lengths, checksums unless offloaded). Returns its length, 0 if `out` is too
// small.
size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const FrameAddrs& addrs,
                          bool fill_ip_csum = true, bool fill_tcp_csum = true);

// The same from a sender's template (source MAC, TTL: see
// wire/tcp_template.hpp), as the data plane sends: same bytes.
size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const wire::TcpFrameTemplate& tpl,
                          const wire::MacAddr& dst_mac, uint16_t ip_id, bool fill_ip_csum = true,
                          bool fill_tcp_csum = true);

// Largest frame a segment can become with payload_len bytes.
size_t frame_len_for(const SegmentOut& seg);

}  // namespace synmill::tcp
