#include "wire/tcp_parse.hpp"

#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire {

// The checks of EthernetView/Ipv4View/TcpView::parse and parse_frame(), in
// their order, on raw pointers.
TcpFrameParse parse_tcp_frame(std::span<const uint8_t> frame, ParseFlags flags, TcpFrameView& view,
                              TcpOptions& opts, ParseError& err) {
  const size_t size = frame.size();
  const uint8_t* f = frame.data();
  if (size < kEthHeaderLen) {
    err = ParseError::kEthTruncated;
    return TcpFrameParse::kError;
  }
  if (load_be16(f + 12) != ethertype::kIpv4) return TcpFrameParse::kNotTcp;
  const uint8_t* ip = f + kEthHeaderLen;
  const size_t avail = size - kEthHeaderLen;
  auto fail = [&err](ParseError e) {
    err = e;
    return TcpFrameParse::kError;
  };
  if (avail < kIpv4MinHeaderLen) return fail(ParseError::kIpTruncated);
  if (ip[9] != ip_proto::kTcp) return TcpFrameParse::kNotTcp;
  if ((ip[0] >> 4) != 4) return fail(ParseError::kIpBadVersion);
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0F) * 4;
  if (ihl < kIpv4MinHeaderLen) return fail(ParseError::kIpBadIhl);
  if (ihl > avail) return fail(ParseError::kIpIhlBeyondData);
  const size_t total = load_be16(ip + ipv4_off::kTotalLen);
  if (total < ihl) return fail(ParseError::kIpTotalLenTooSmall);
  if (total > avail) return fail(ParseError::kIpTotalLenBeyondFrame);
  if (flags.verify_ip_checksum && checksum_fold(checksum_add({ip, ihl})) != 0xFFFF) {
    return fail(ParseError::kBadIpChecksum);
  }
  if ((load_be16(ip + 6) & 0x3FFF) != 0) return fail(ParseError::kIpFragment);  // MF or offset
  const uint8_t* tcp = ip + ihl;
  const size_t seg_len = total - ihl;
  if (seg_len < kTcpMinHeaderLen) return fail(ParseError::kTcpTruncated);
  const size_t hlen = static_cast<size_t>(tcp[tcp_off::kDataOffset] >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return fail(ParseError::kTcpBadDataOffset);
  if (hlen > seg_len) return fail(ParseError::kTcpDataOffsetBeyondSegment);
  if (flags.verify_l4_checksum &&
      !tcp_checksum_ok(load_be32(ip + ipv4_off::kSrc), load_be32(ip + ipv4_off::kDst), {tcp, seg_len})) {
    return fail(ParseError::kBadTcpChecksum);
  }
  const ParseError oe = parse_tcp_options_into({tcp + kTcpMinHeaderLen, hlen - kTcpMinHeaderLen}, opts);
  if (oe != ParseError::kCount) return fail(oe);
  view.frame_ = f;
  view.ip_ = ip;
  view.tcp_ = tcp;
  view.seg_len_ = static_cast<uint32_t>(seg_len);
  view.hdr_len_ = static_cast<uint32_t>(hlen);
  return TcpFrameParse::kTcp;
}

}  // namespace synmill::wire
