#include "tcp/segment_codec.hpp"

#include "wire/tcp_frame.hpp"

namespace synmill::tcp {

SegmentIn segment_from_frame(const wire::Frame& f) {
  SegmentIn s;
  s.tuple.local_ip = f.ip.dst();
  s.tuple.remote_ip = f.ip.src();
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

static wire::TcpFrameSpec spec_of(const SegmentOut& seg, const FrameAddrs& a) {
  wire::TcpFrameSpec spec;
  spec.src_mac = a.src_mac;
  spec.dst_mac = a.dst_mac;
  spec.src_ip = seg.tuple.local_ip;
  spec.dst_ip = seg.tuple.remote_ip;
  spec.src_port = seg.tuple.local_port;
  spec.dst_port = seg.tuple.remote_port;
  spec.seq = seg.seq.raw();
  spec.ack = (seg.flags & flag::kAck) ? seg.ack.raw() : 0;
  spec.flags = seg.flags;
  spec.window = seg.window;
  spec.opts = seg.opts;
  spec.ttl = a.ttl;
  spec.ip_id = a.ip_id;
  return spec;
}

size_t frame_len_for(const SegmentOut& seg) {
  return wire::tcp_frame_header_len(seg.opts) + seg.payload_len;
}

size_t frame_from_segment(std::span<uint8_t> out, const SegmentOut& seg, const FrameAddrs& addrs,
                          bool fill_ip_csum, bool fill_tcp_csum) {
  if (out.size() < frame_len_for(seg)) return 0;
  const size_t hdr = wire::write_tcp_frame_headers(out, spec_of(seg, addrs));
  if (hdr == 0) return 0;
  if (seg.payload_len > 0) seg.payload_src->copy_to(seg.payload_offset, seg.payload_len, out.data() + hdr);
  return wire::finish_tcp_frame(out.first(hdr + seg.payload_len), seg.payload_len, fill_ip_csum,
                                fill_tcp_csum);
}

}  // namespace synmill::tcp
