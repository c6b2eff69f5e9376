#include "tcp/segment_codec.hpp"

#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::tcp {

SegmentIn segment_from_frame(const wire::Frame& f) {
  SegmentIn s;
  if (f.kind == wire::FrameKind::kIpv6Tcp) {
    s.local6 = detail::as_ipv6(f.ip6.dst_bytes());
    s.remote6 = detail::as_ipv6(f.ip6.src_bytes());
  } else {
    s.tuple.local_ip = f.ip.dst();
    s.tuple.remote_ip = f.ip.src();
  }
  s.tuple.local_port = f.tcp.dst_port();
  s.tuple.remote_port = f.tcp.src_port();
  s.seq = Seq{f.tcp.seq()};
  s.ack = Seq{f.tcp.ack()};
  s.flags = f.tcp.flags();
  s.window = f.tcp.window();
  s.opts = f.opts;
  s.payload = f.payload;
  return s;
}

size_t frame_len_for(const SegmentOut& seg) {
  return wire::tcp_frame_header_len(seg.opts, seg.local6 ? wire::IpFamily::kV6 : wire::IpFamily::kV4) +
         seg.payload_len;
}

namespace detail {

// IPv6 (seg.local6 set): out of line, so the IPv4 path stays as it was.
[[gnu::noinline]] size_t frame_from_segment6(std::span<uint8_t> out, const SegmentOut& seg,
                                             const wire::TcpFrameTemplate& tpl, const wire::MacAddr& dst_mac,
                                             bool fill_tcp_csum) {
  const size_t opts_len = wire::tcp_options_len(seg.opts);
  const size_t hdr = wire::kEthHeaderLen + wire::kIpv6HeaderLen + wire::kTcpMinHeaderLen + opts_len;
  const size_t len = hdr + seg.payload_len;
  // (the IPv6 payload length, TCP header and data, is 16 bits: tcp_frame_max_payload)
  if (out.size() < len || len - wire::kEthHeaderLen - wire::kIpv6HeaderLen > 0xFFFF) return 0;
  uint8_t* p = out.data();
  tpl.write_headers6(p, dst_mac, *seg.local6, *seg.remote6, header_fields(seg), seg.opts, opts_len, seg.payload_len);
  if (seg.payload_len > 0) seg.payload_src->copy_to(seg.payload_offset, seg.payload_len, p + hdr);
  if (fill_tcp_csum) wire::fill_tcp6_checksum(p, len - wire::kEthHeaderLen - wire::kIpv6HeaderLen);
  return len;
}

}  // namespace detail

size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const FrameAddrs& addrs,
                          bool fill_ip_csum, bool fill_tcp_csum) {
  const wire::TcpFrameTemplate tpl(addrs.src_mac, addrs.ttl);
  return frame_from_segment(out, seg, tpl, addrs.dst_mac, addrs.ip_id, fill_ip_csum, fill_tcp_csum);
}

}  // namespace synmill::tcp
