#include "wire/tcp_parse.hpp"

#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire {

namespace detail {

// IPv6 up to the TCP header: Ipv6View::parse() (extension headers walked).
// Out of line, so the IPv4 path stays as it was.
[[gnu::noinline]] TcpFrameParse ipv6_to_tcp(std::span<const uint8_t> frame, const uint8_t*& tcp, size_t& seg_len,
                                            ParseError& err) {
  const auto ip = Ipv6View::parse(frame.subspan(kEthHeaderLen));
  if (!ip) {
    err = ip.error();
    return TcpFrameParse::kError;
  }
  if (ip->upper_protocol() != ip_proto::kTcp) return TcpFrameParse::kNotTcp;
  tcp = ip->upper().data();
  seg_len = ip->upper().size();
  return TcpFrameParse::kTcp;
}

[[gnu::noinline]] bool tcp6_ok(const uint8_t* ip, const uint8_t* tcp, size_t seg_len) {
  return tcp6_checksum_ok(ip + ipv6_off::kSrc, ip + ipv6_off::kDst, {tcp, seg_len});
}


// parse_tcp_frame()'s checks in their order (the fast path's conditions
// are a subset of them: wire/tcp_parse.hpp).
TcpFrameParse parse_tcp_frame_rest(std::span<const uint8_t> frame, ParseFlags flags, TcpFrameView& view,
                                   TcpOptions& opts, ParseError& err) {
  const size_t size = frame.size();
  const uint8_t* f = frame.data();
  if (size < kEthHeaderLen) {
    err = ParseError::kEthTruncated;
    return TcpFrameParse::kError;
  }
  const uint8_t* ip = f + kEthHeaderLen;
  auto fail = [&err](ParseError e) {
    err = e;
    return TcpFrameParse::kError;
  };
  const uint8_t* tcp;
  size_t seg_len;
  bool v6 = false;
  if (load_be16(f + 12) == ethertype::kIpv4) {
    const size_t avail = size - kEthHeaderLen;
    if (avail < kIpv4MinHeaderLen) return fail(ParseError::kIpTruncated);
    if (ip[9] != ip_proto::kTcp) return TcpFrameParse::kNotTcp;
    size_t ihl = kIpv4MinHeaderLen;
    if (ip[0] != 0x45) {  // 0x45, version 4 without options, passes the three checks below
      if ((ip[0] >> 4) != 4) return fail(ParseError::kIpBadVersion);
      ihl = static_cast<size_t>(ip[0] & 0x0F) * 4;
      if (ihl < kIpv4MinHeaderLen) return fail(ParseError::kIpBadIhl);
      if (ihl > avail) return fail(ParseError::kIpIhlBeyondData);
    }
    const size_t total = load_be16(ip + ipv4_off::kTotalLen);
    if (total < ihl) return fail(ParseError::kIpTotalLenTooSmall);
    if (total > avail) return fail(ParseError::kIpTotalLenBeyondFrame);
    if (flags.verify_ip_checksum &&
        !(ihl == kIpv4MinHeaderLen ? ipv4_header20_ok(ip) : checksum_fold(checksum_add({ip, ihl})) == 0xFFFF)) {
      return fail(ParseError::kBadIpChecksum);
    }
    if ((load_be16(ip + 6) & 0x3FFF) != 0) return fail(ParseError::kIpFragment);  // MF or offset
    tcp = ip + ihl;
    seg_len = total - ihl;
  } else if (load_be16(f + 12) == ethertype::kIpv6 && flags.accept_ipv6) {
    const TcpFrameParse r = ipv6_to_tcp(frame, tcp, seg_len, err);
    if (r != TcpFrameParse::kTcp) return r;
    v6 = true;
  } else {
    return TcpFrameParse::kNotTcp;
  }
  if (seg_len < kTcpMinHeaderLen) return fail(ParseError::kTcpTruncated);
  const size_t hlen = static_cast<size_t>(tcp[tcp_off::kDataOffset] >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return fail(ParseError::kTcpBadDataOffset);
  if (hlen > seg_len) return fail(ParseError::kTcpDataOffsetBeyondSegment);
  if (flags.verify_l4_checksum && !(v6 ? tcp6_ok(ip, tcp, seg_len) : tcp_checksum_ok_at(ip, tcp, seg_len))) {
    return fail(ParseError::kBadTcpChecksum);
  }
  const ParseError oe = parse_tcp_options_into({tcp + kTcpMinHeaderLen, hlen - kTcpMinHeaderLen}, opts);
  if (oe != ParseError::kCount) return fail(oe);
  view.frame_ = f;
  view.ip_ = ip;
  view.tcp_ = tcp;
  view.seg_len_ = static_cast<uint32_t>(seg_len);
  view.hdr_len_ = static_cast<uint32_t>(hlen);
  view.v6_ = v6;
  return TcpFrameParse::kTcp;
}
}  // namespace detail

}  // namespace synmill::wire
