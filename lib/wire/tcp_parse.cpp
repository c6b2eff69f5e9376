#include "wire/tcp_parse.hpp"

#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire {

// The TCP checks of TcpView::parse() and parse_frame(), in their order, for
// either family: `csum_ok` verifies with that family's pseudo-header.
struct TcpFrameParser {
  template <class CsumOk>
  [[gnu::always_inline]] static inline TcpFrameParse tcp(const uint8_t* f, const uint8_t* ip, const uint8_t* tcp,
                                                         size_t seg_len, ParseFlags flags, CsumOk csum_ok,
                                                         TcpFrameView& view, TcpOptions& opts, ParseError& err) {
    auto fail = [&err](ParseError e) {
      err = e;
      return TcpFrameParse::kError;
    };
    if (seg_len < kTcpMinHeaderLen) return fail(ParseError::kTcpTruncated);
    const size_t hlen = static_cast<size_t>(tcp[tcp_off::kDataOffset] >> 4) * 4;
    if (hlen < kTcpMinHeaderLen) return fail(ParseError::kTcpBadDataOffset);
    if (hlen > seg_len) return fail(ParseError::kTcpDataOffsetBeyondSegment);
    if (flags.verify_l4_checksum && !csum_ok(tcp, seg_len)) return fail(ParseError::kBadTcpChecksum);
    const ParseError oe = parse_tcp_options_into({tcp + kTcpMinHeaderLen, hlen - kTcpMinHeaderLen}, opts);
    if (oe != ParseError::kCount) return fail(oe);
    view.frame_ = f;
    view.ip_ = ip;
    view.tcp_ = tcp;
    view.seg_len_ = static_cast<uint32_t>(seg_len);
    view.hdr_len_ = static_cast<uint32_t>(hlen);
    return TcpFrameParse::kTcp;
  }

  // IPv6: Ipv6View::parse() (extension headers walked), then TCP.
  [[gnu::noinline]] static TcpFrameParse ipv6(std::span<const uint8_t> frame, ParseFlags flags, TcpFrameView& view,
                                              TcpOptions& opts, ParseError& err) {
    const auto ip = Ipv6View::parse(frame.subspan(kEthHeaderLen));
    if (!ip) {
      err = ip.error();
      return TcpFrameParse::kError;
    }
    if (ip->upper_protocol() != ip_proto::kTcp) return TcpFrameParse::kNotTcp;
    const uint8_t* p = ip->bytes().data();
    return tcp(
        frame.data(), p, p + ip->upper_offset(), ip->upper().size(), flags,
        [p](const uint8_t* t, size_t n) {
          return tcp6_checksum_ok(p + ipv6_off::kSrc, p + ipv6_off::kDst, {t, n});
        },
        view, opts, err);
  }
};

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
  if (load_be16(f + 12) != ethertype::kIpv4) {
    if (load_be16(f + 12) == ethertype::kIpv6 && flags.accept_ipv6) {
      return TcpFrameParser::ipv6(frame, flags, view, opts, err);
    }
    return TcpFrameParse::kNotTcp;
  }
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
  return TcpFrameParser::tcp(
      f, ip, ip + ihl, total - ihl, flags,
      [ip](const uint8_t* t, size_t n) {
        return tcp_checksum_ok(load_be32(ip + ipv4_off::kSrc), load_be32(ip + ipv4_off::kDst), {t, n});
      },
      view, opts, err);
}

}  // namespace synmill::wire
