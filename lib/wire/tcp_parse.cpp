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

}  // namespace detail

}  // namespace synmill::wire
