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
// parse_tcp_frame() past its fast path: every check in its order
// (tcp_parse.cpp, out of line): frames with IPv4 options, IPv6, not TCP,
// or failing a check.
TcpFrameParse parse_tcp_frame_rest(std::span<const uint8_t> frame, ParseFlags flags, TcpFrameView& view,
                                   TcpOptions& opts, ParseError& err);
}  // namespace detail

class TcpFrameView {
 public:
  const uint8_t* frame() const { return frame_; }
  const uint8_t* eth_dst() const { return frame_; }
  const uint8_t* eth_src() const { return frame_ + 6; }
  // The family the parse accepted (a flag the parse sets: a caller's test of
  // it folds away after the inlined fast path, which knows it is IPv4).
  bool is_ipv6() const { return v6_; }
  // IPv4 addresses (host order). Precondition: !is_ipv6().
  uint32_t src_ip() const { return load_be32(ip_ + 12); }
  uint32_t dst_ip() const { return load_be32(ip_ + 16); }
  // IPv6 addresses: 16 bytes in the frame. Precondition: is_ipv6().
  const uint8_t* src_ip6_bytes() const { return ip_ + 8; }
  const uint8_t* dst_ip6_bytes() const { return ip_ + 24; }
  Ipv6Addr src_ip6() const { return Ipv6Addr::load(ip_ + 8); }
  Ipv6Addr dst_ip6() const { return Ipv6Addr::load(ip_ + 24); }
  // The 8 address bytes (IPv4: source then destination) and the 4 port
  // bytes (source then destination), as they lie in the frame.
  const uint8_t* addr_bytes() const { return ip_ + 12; }
  const uint8_t* port_bytes() const { return tcp_; }
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
  friend TcpFrameParse detail::parse_tcp_frame_rest(std::span<const uint8_t>, ParseFlags, TcpFrameView&,
                                                    TcpOptions&, ParseError&);
  const uint8_t* frame_ = nullptr;
  const uint8_t* ip_ = nullptr;
  const uint8_t* tcp_ = nullptr;
  uint32_t seg_len_ = 0;
  uint32_t hdr_len_ = 0;
  bool v6_ = false;
};

namespace detail {
// Bytes 6-9 of an IPv4 header (flags and fragment offset, TTL, protocol)
// as a native load: the fragment bits (MF, offset) and the protocol under
// kFragProtoMask are kTcpWhole for a whole datagram carrying TCP.
inline constexpr uint32_t kFragProtoMask = to_be32(0x3FFF00FFu);
inline constexpr uint32_t kTcpWhole = to_be32(0x00000006u);
}  // namespace detail

// The checks of EthernetView/Ipv4View (or Ipv6View)/TcpView::parse and
// parse_frame(), in their order, on raw pointers (parse_tcp_frame_rest),
// behind a fast path for the frames that dominate: IPv4 without options
// carrying a whole TCP segment that passes every check. Its conditions
// together imply each check of the ordered path (version 4 and IHL 5 from
// 0x45; a frame of at least 54 bytes holds both fixed headers; 40 <= total
// <= the bytes after Ethernet; no MF, no offset; 20 <= data offset <= the
// segment; both checksums), so a frame it accepts is one the ordered path
// accepts, with the same view and options, and an options error is the one
// the ordered path returns after the same checks. Any other frame goes the
// ordered way, which finds the first check that fails (a frame failing a
// checksum has it summed twice).
[[gnu::always_inline]] inline TcpFrameParse parse_tcp_frame(std::span<const uint8_t> frame,
                                                            ParseFlags flags, TcpFrameView& view,
                                                            TcpOptions& opts, ParseError& err) {
  const size_t size = frame.size();
  const uint8_t* f = frame.data();
  constexpr size_t kMin = kEthHeaderLen + kIpv4MinHeaderLen + kTcpMinHeaderLen;  // 54
  if (size >= kMin && load_be16(f + 12) == ethertype::kIpv4) [[likely]] {
    const uint8_t* ip = f + kEthHeaderLen;
    uint32_t frag_proto;
    std::memcpy(&frag_proto, ip + 6, 4);
    if (ip[0] == 0x45 && (frag_proto & detail::kFragProtoMask) == detail::kTcpWhole) [[likely]] {
      const uint8_t* tcp = ip + kIpv4MinHeaderLen;
      const size_t total = load_be16(ip + ipv4_off::kTotalLen);
      const size_t hlen = static_cast<size_t>(tcp[tcp_off::kDataOffset] >> 2) & 0x3C;
      // total - 40 wraps for total < 40: 40 <= total <= size - 14 in one compare.
      if (total - (kIpv4MinHeaderLen + kTcpMinHeaderLen) <= size - kMin && hlen >= kTcpMinHeaderLen &&
          hlen <= total - kIpv4MinHeaderLen && (!flags.verify_ip_checksum || ipv4_header20_ok(ip)) &&
          (!flags.verify_l4_checksum || tcp_checksum_ok_at(ip, tcp, total - kIpv4MinHeaderLen))) [[likely]] {
        const ParseError oe = parse_tcp_options_into({tcp + kTcpMinHeaderLen, hlen - kTcpMinHeaderLen}, opts);
        if (oe != ParseError::kCount) [[unlikely]] {
          err = oe;
          return TcpFrameParse::kError;
        }
        view.frame_ = f;
        view.ip_ = ip;
        view.tcp_ = tcp;
        view.seg_len_ = static_cast<uint32_t>(total - kIpv4MinHeaderLen);
        view.hdr_len_ = static_cast<uint32_t>(hlen);
        view.v6_ = false;
        return TcpFrameParse::kTcp;
      }
    }
  }
  return detail::parse_tcp_frame_rest(frame, flags, view, opts, err);
}

}  // namespace synmill::wire
