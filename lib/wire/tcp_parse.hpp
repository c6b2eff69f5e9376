#pragma once
// The receive fast path: an Ethernet + IPv4 (or, with ParseFlags::accept_ipv6,
// IPv6 with its extension headers) + TCP frame read in place, its
// options parsed straight into the caller's TcpOptions. No Frame, no Result,
// no copies: the view holds pointers into the frame and reads fields on
// demand. Accepts and rejects exactly what parse_frame() does for IPv4 TCP
// (same checks, same order, same errors; fuzz_wire checks the two agree),
// and for IPv6 TCP what it does with accept_ipv6.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp_header.hpp"
#include "wire/frame.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/parse_error.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

enum class TcpFrameParse : uint8_t {
  kTcp,     // `view` and `opts` filled
  kNotTcp,  // not IPv4 (or accepted IPv6) carrying TCP (EtherType or IP protocol): use parse_frame()
  kError,   // `err` says why; parse_frame() returns the same error
};

class TcpFrameView;

// Inline (below): the receive path parses without a call, the frame's
// fields in registers (issue 12). Forced: GCC's inliner otherwise drops it
// (or segment_from_bytes()) from Worker::receive whenever something it
// inlines grows a little, which costs the worker about 45 instructions a
// packet (i12-wk2: a 20-byte checksum path in checksum.hpp did that). On
// the tree that merged both (session 12), forced against not: worker cps
// 1360 vs 1414, flood 783 vs 837; core_bench's full connection 4841 vs
// 4832 (the worker's figure decides).
[[gnu::always_inline]] inline TcpFrameParse parse_tcp_frame(std::span<const uint8_t> frame,
                                                            ParseFlags flags, TcpFrameView& view,
                                                            TcpOptions& opts, ParseError& err);

namespace detail {
// IPv6 up to the TCP header (tcp_parse.cpp, out of line): kTcp with `tcp`
// and `seg_len` set, kNotTcp, or kError with `err` set.
TcpFrameParse ipv6_to_tcp(std::span<const uint8_t> frame, const uint8_t*& tcp, size_t& seg_len, ParseError& err);
bool tcp6_ok(const uint8_t* ip, const uint8_t* tcp, size_t seg_len);
}  // namespace detail

class TcpFrameView {
 public:
  const uint8_t* frame() const { return frame_; }
  const uint8_t* eth_dst() const { return frame_; }
  const uint8_t* eth_src() const { return frame_ + 6; }
  // The family, from the EtherType the parse accepted (nothing stored for it).
  bool is_ipv6() const { return frame_[12] == 0x86; }
  // IPv4 addresses (host order). Precondition: !is_ipv6().
  uint32_t src_ip() const { return load_be32(ip_ + 12); }
  uint32_t dst_ip() const { return load_be32(ip_ + 16); }
  // IPv6 addresses: 16 bytes in the frame. Precondition: is_ipv6().
  const uint8_t* src_ip6_bytes() const { return ip_ + 8; }
  const uint8_t* dst_ip6_bytes() const { return ip_ + 24; }
  Ipv6Addr src_ip6() const { return Ipv6Addr::load(ip_ + 8); }
  Ipv6Addr dst_ip6() const { return Ipv6Addr::load(ip_ + 24); }
  uint16_t src_port() const { return load_be16(tcp_); }
  uint16_t dst_port() const { return load_be16(tcp_ + 2); }
  uint32_t seq() const { return load_be32(tcp_ + 4); }
  uint32_t ack() const { return load_be32(tcp_ + 8); }
  uint8_t flags() const { return tcp_[13]; }
  uint16_t window() const { return load_be16(tcp_ + 14); }
  // TCP header + options + payload, as trimmed by the IP total (IPv6
  // payload) length, after any IPv6 extension headers.
  std::span<const uint8_t> segment() const { return {tcp_, seg_len_}; }
  std::span<const uint8_t> options() const { return {tcp_ + 20, hdr_len_ - 20u}; }
  std::span<const uint8_t> payload() const { return {tcp_ + hdr_len_, seg_len_ - hdr_len_}; }

 private:
  friend TcpFrameParse parse_tcp_frame(std::span<const uint8_t>, ParseFlags, TcpFrameView&, TcpOptions&,
                                       ParseError&);
  const uint8_t* frame_ = nullptr;
  const uint8_t* ip_ = nullptr;
  const uint8_t* tcp_ = nullptr;
  uint32_t seg_len_ = 0;
  uint32_t hdr_len_ = 0;
};

// The checks of EthernetView/Ipv4View (or Ipv6View)/TcpView::parse and
// parse_frame(), in their order, on raw pointers. One TCP tail for both
// families.
[[gnu::always_inline]] inline TcpFrameParse parse_tcp_frame(std::span<const uint8_t> frame,
                                                            ParseFlags flags, TcpFrameView& view,
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
    if (ip[0] != 0x45) [[unlikely]] {  // 0x45, version 4 without options, passes the three checks below
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
    const TcpFrameParse r = detail::ipv6_to_tcp(frame, tcp, seg_len, err);
    if (r != TcpFrameParse::kTcp) return r;
    v6 = true;
  } else {
    return TcpFrameParse::kNotTcp;
  }
  if (seg_len < kTcpMinHeaderLen) return fail(ParseError::kTcpTruncated);
  const size_t hlen = static_cast<size_t>(tcp[tcp_off::kDataOffset] >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return fail(ParseError::kTcpBadDataOffset);
  if (hlen > seg_len) return fail(ParseError::kTcpDataOffsetBeyondSegment);
  if (flags.verify_l4_checksum &&
      !(v6 ? detail::tcp6_ok(ip, tcp, seg_len)
           : tcp_checksum_ok_at(ip, tcp, seg_len))) {
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
