#include "wire/tcp_header.hpp"

#include "wire/bytes.hpp"

namespace synmill::wire {

Result<TcpView> TcpView::parse(std::span<const uint8_t> segment) {
  if (segment.size() < kTcpMinHeaderLen) return ParseError::kTcpTruncated;
  const size_t hlen = static_cast<size_t>(segment[tcp_off::kDataOffset] >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return ParseError::kTcpBadDataOffset;
  if (hlen > segment.size()) return ParseError::kTcpDataOffsetBeyondSegment;
  return TcpView(segment);
}


size_t write_tcp_header(std::span<uint8_t> out, const TcpHeaderFields& spec, const TcpOptions& opts,
                        uint16_t urgent_ptr) {
  const size_t hlen = kTcpMinHeaderLen + tcp_options_len(opts);
  if (out.size() < hlen) return 0;
  uint8_t* p = out.data();
  store_be16(p + tcp_off::kSrcPort, spec.src_port);
  store_be16(p + tcp_off::kDstPort, spec.dst_port);
  store_be32(p + tcp_off::kSeq, spec.seq);
  store_be32(p + tcp_off::kAck, spec.ack);
  p[tcp_off::kDataOffset] = static_cast<uint8_t>((hlen / 4) << 4);
  p[tcp_off::kFlags] = spec.flags;
  store_be16(p + tcp_off::kWindow, spec.window);
  store_be16(p + tcp_off::kChecksum, 0);
  store_be16(p + tcp_off::kUrgent, urgent_ptr);
  write_tcp_options(out.subspan(kTcpMinHeaderLen), opts);
  return hlen;
}

}  // namespace synmill::wire
