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

TcpFrameParse parse_tcp_frame(std::span<const uint8_t> frame, ParseFlags flags, TcpFrameView& view,
                              TcpOptions& opts, ParseError& err);

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

}  // namespace synmill::wire
