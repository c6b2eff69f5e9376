#pragma once
// SegmentIn from a parsed frame, and a frame from a SegmentOut: the glue the
// data plane and the simulation share between lib/wire and the TCP core.
#include <array>
#include <bit>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tcp/segment.hpp"
#include "wire/frame.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp_header.hpp"
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
// Inline: the poll loop's per-packet parse, without a call and the
// marshalling of its arguments (issue 12); forced, as parse_tcp_frame() is
// (wire/tcp_parse.hpp says why).
[[gnu::always_inline]] inline wire::TcpFrameParse segment_from_bytes(
    std::span<const uint8_t> frame, wire::ParseFlags flags, SegmentIn& out,
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
// Inline (below): the poll loop's emit builds the frame without a call.
inline size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const wire::TcpFrameTemplate& tpl,
                                 const wire::MacAddr& dst_mac, uint16_t ip_id, bool fill_ip_csum = true,
                                 bool fill_tcp_csum = true);

// Largest frame a segment can become with payload_len bytes.
size_t frame_len_for(const SegmentOut& seg);

namespace detail {
// FourTuple's {local_ip, remote_ip} (bytes 0-7) from the frame's source and
// destination addresses (n = 8), or {local_port, remote_port} (bytes 8-11)
// from its source and destination ports (n = 4): one load, one byte swap,
// one store. The swap of the whole word reverses the pair as well as each
// field's bytes: destination (local) first, in host order. (On a big-endian
// host the fields are in order already: the halves only trade places.) The
// tuple hash (tuple_hash.hpp) reads the same two words back.
inline void store_tuple_words(FourTuple& t, const uint8_t* src, size_t n, size_t at) {
  static_assert(offsetof(FourTuple, local_ip) == 0 && offsetof(FourTuple, remote_ip) == 4 &&
                offsetof(FourTuple, local_port) == 8 && offsetof(FourTuple, remote_port) == 10);
  auto* dst = reinterpret_cast<unsigned char*>(&t) + at;
  if (n == 8) {
    uint64_t w;
    std::memcpy(&w, src, 8);
    w = std::endian::native == std::endian::little ? __builtin_bswap64(w) : std::rotl(w, 32);
    std::memcpy(dst, &w, 8);
  } else {
    uint32_t w;
    std::memcpy(&w, src, 4);
    w = std::endian::native == std::endian::little ? __builtin_bswap32(w) : std::rotl(w, 16);
    std::memcpy(dst, &w, 4);
  }
}

// The 16 address bytes in a frame, read as an Ipv6Addr in place (a struct of
// one byte array: size 16, alignment 1, every access a byte access).
inline const wire::Ipv6Addr* as_ipv6(const uint8_t* p) {
  static_assert(sizeof(wire::Ipv6Addr) == 16 && alignof(wire::Ipv6Addr) == 1);
  return reinterpret_cast<const wire::Ipv6Addr*>(p);
}
}  // namespace detail

[[gnu::always_inline]] inline wire::TcpFrameParse segment_from_bytes(
    std::span<const uint8_t> frame, wire::ParseFlags flags, SegmentIn& out,
    wire::TcpFrameView& view, wire::ParseError& err) {
  const wire::TcpFrameParse r = wire::parse_tcp_frame(frame, flags, view, out.opts, err);
  if (r != wire::TcpFrameParse::kTcp) return r;
  if (view.is_ipv6()) [[unlikely]] {
    out.local6 = detail::as_ipv6(view.dst_ip6_bytes());
    out.remote6 = detail::as_ipv6(view.src_ip6_bytes());
    out.tuple.local_ip = out.tuple.remote_ip = 0;  // Stack::on_segment's, from its address tables
  } else {
    out.local6 = out.remote6 = nullptr;
    detail::store_tuple_words(out.tuple, view.addr_bytes(), 8, 0);
  }
  detail::store_tuple_words(out.tuple, view.port_bytes(), 4, 8);
  out.seq = Seq{view.seq()};
  out.ack = Seq{view.ack()};
  out.flags = view.flags();
  out.window = view.window();
  out.payload = view.payload();
  return r;
}

namespace detail {
inline wire::TcpHeaderFields header_fields(const SegmentOut& seg) {
  wire::TcpHeaderFields h;
  h.src_ip = seg.tuple.local_ip;
  h.dst_ip = seg.tuple.remote_ip;
  h.src_port = seg.tuple.local_port;
  h.dst_port = seg.tuple.remote_port;
  h.seq = seg.seq.raw();
  h.ack = (seg.flags & flag::kAck) ? seg.ack.raw() : 0;
  h.flags = seg.flags;
  h.window = seg.window;
  return h;
}

// IPv6 (seg.local6 set): out of line (segment_codec.cpp).
size_t frame_from_segment6(std::span<uint8_t> out, const SegmentOut& seg, const wire::TcpFrameTemplate& tpl,
                           const wire::MacAddr& dst_mac, bool fill_tcp_csum);
}  // namespace detail

inline size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const wire::TcpFrameTemplate& tpl,
                                 const wire::MacAddr& dst_mac, uint16_t ip_id, bool fill_ip_csum, bool fill_tcp_csum) {
  if (seg.local6 != nullptr) [[unlikely]]
    return detail::frame_from_segment6(out, seg, tpl, dst_mac, fill_tcp_csum);
  const size_t opts_len = wire::tcp_options_len(seg.opts);  // once
  const size_t hdr = wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + wire::kTcpMinHeaderLen + opts_len;
  const size_t len = hdr + seg.payload_len;
  // (the IPv4 total length is 16 bits: tcp_frame_max_payload, from the length once computed)
  if (out.size() < len || len - wire::kEthHeaderLen > 0xFFFF) return 0;
  uint8_t* p = out.data();
  tpl.write_headers(p, dst_mac, detail::header_fields(seg), seg.opts, opts_len, ip_id, seg.payload_len, fill_ip_csum);
  if (seg.payload_len > 0) seg.payload_src->copy_to(seg.payload_offset, seg.payload_len, p + hdr);
  if (fill_tcp_csum) wire::fill_tcp_checksum(p, len - wire::kEthHeaderLen - wire::kIpv4MinHeaderLen);
  return len;
}

}  // namespace synmill::tcp
