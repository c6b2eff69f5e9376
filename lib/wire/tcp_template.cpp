#include "wire/tcp_template.hpp"

#include <cstring>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire {

namespace {
constexpr size_t kIp = kEthHeaderLen;
constexpr size_t kTcp6 = kEthHeaderLen + kIpv6HeaderLen;
constexpr uint16_t kDfFlag = 0x4000;  // RFC 1191 path MTU discovery, as Linux sets for TCP
}  // namespace

TcpFrameTemplate::TcpFrameTemplate(const MacAddr& src_mac, uint8_t ttl) {
  uint8_t* p = prefix_.data();
  std::memcpy(p + 6, src_mac.data(), 6);
  store_be16(p + 12, ethertype::kIpv4);
  uint8_t* ip = p + kIp;
  ip[0] = 0x45;  // version 4, IHL 5
  ip[1] = 0;     // TOS
  store_be16(ip + 6, kDfFlag);
  ip[ipv4_off::kTtl] = ttl;
  ip[9] = ip_proto::kTcp;
  // The words that never change: version/IHL/TOS, flags/offset, TTL/protocol.
  ip_const_sum_ = checksum_add16(checksum_add16(checksum_add16(0, load_be16(ip)), kDfFlag), load_be16(ip + 8));

  uint8_t* p6 = prefix6_.data();
  std::memcpy(p6 + 6, src_mac.data(), 6);
  store_be16(p6 + 12, ethertype::kIpv6);
  Ipv6HeaderSpec ip6;
  ip6.next_header = ip_proto::kTcp;
  ip6.hop_limit = ttl;
  write_ipv6_header({p6 + kIp, kIpv6HeaderLen}, ip6);
}

void TcpFrameTemplate::write_headers6(uint8_t* out, const MacAddr& dst_mac, const Ipv6Addr& src,
                                      const Ipv6Addr& dst, const TcpHeaderFields& h, const TcpOptions& opts,
                                      size_t opts_len, size_t payload_len) const {
  // src and dst may point into `out`: a reply (cookie SYN-ACK, RST for no
  // connection) built in the mbuf of the segment it answers takes the
  // addresses from that segment. Copied first, or the prefix and the source
  // overwrite them before they are read.
  const Ipv6Addr s = src;
  const Ipv6Addr d = dst;
  std::memcpy(out, prefix6_.data(), kPrefix6Len);
  std::memcpy(out, dst_mac.data(), 6);
  uint8_t* ip = out + kIp;
  store_be16(ip + ipv6_off::kPayloadLen, static_cast<uint16_t>(kTcpMinHeaderLen + opts_len + payload_len));
  s.store(ip + ipv6_off::kSrc);
  d.store(ip + ipv6_off::kDst);
  detail::write_tcp_part(out + kTcp6, h, opts, opts_len);
}

void fill_tcp6_checksum(uint8_t* frame, size_t tcp_len) {
  const uint8_t* ip = frame + kIp;
  uint8_t* t = frame + kTcp6;
  store_be16(t + tcp_off::kChecksum,
             l4_checksum6_zeroed(ip + ipv6_off::kSrc, ip + ipv6_off::kDst, ip_proto::kTcp, {t, tcp_len}));
}

}  // namespace synmill::wire
