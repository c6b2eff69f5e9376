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
constexpr size_t kTcp = kEthHeaderLen + kIpv4MinHeaderLen;
constexpr size_t kTcp6 = kEthHeaderLen + kIpv6HeaderLen;
constexpr uint16_t kDfFlag = 0x4000;  // RFC 1191 path MTU discovery, as Linux sets for TCP

// The TCP header at `t`, either family.
[[gnu::always_inline]] inline void write_tcp_part(uint8_t* t, const TcpHeaderFields& h, const TcpOptions& opts, size_t opts_len) {
  store_be16(t + tcp_off::kSrcPort, h.src_port);
  store_be16(t + tcp_off::kDstPort, h.dst_port);
  store_be32(t + tcp_off::kSeq, h.seq);
  store_be32(t + tcp_off::kAck, h.ack);
  t[tcp_off::kDataOffset] = static_cast<uint8_t>(((kTcpMinHeaderLen + opts_len) / 4) << 4);
  t[tcp_off::kFlags] = h.flags;
  store_be16(t + tcp_off::kWindow, h.window);
  store_be32(t + tcp_off::kChecksum, 0);  // checksum and urgent pointer
  if (opts_len > 0) write_tcp_options_unchecked(t + kTcpMinHeaderLen, opts, opts_len);
}
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

void TcpFrameTemplate::write_headers(uint8_t* out, const MacAddr& dst_mac, const TcpHeaderFields& h,
                                     const TcpOptions& opts, size_t opts_len, uint16_t ip_id,
                                     size_t payload_len, bool fill_ip_csum) const {
  std::memcpy(out, prefix_.data(), kPrefixLen);
  std::memcpy(out, dst_mac.data(), 6);
  uint8_t* ip = out + kIp;
  const auto total = static_cast<uint16_t>(kIpv4MinHeaderLen + kTcpMinHeaderLen + opts_len + payload_len);
  store_be16(ip + ipv4_off::kTotalLen, total);
  store_be16(ip + ipv4_off::kId, ip_id);
  store_be32(ip + ipv4_off::kSrc, h.src_ip);
  store_be32(ip + ipv4_off::kDst, h.dst_ip);
  uint16_t ip_csum = 0;
  if (fill_ip_csum) {
    uint64_t s = ip_const_sum_;
    s += total;
    s += ip_id;
    s += h.src_ip >> 16;
    s += h.src_ip & 0xFFFFu;
    s += h.dst_ip >> 16;
    s += h.dst_ip & 0xFFFFu;
    s = (s & 0xFFFFu) + (s >> 16);
    ip_csum = checksum_finish(static_cast<uint32_t>(s));
  }
  store_be16(ip + ipv4_off::kChecksum, ip_csum);
  write_tcp_part(out + kTcp, h, opts, opts_len);
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
  write_tcp_part(out + kTcp6, h, opts, opts_len);
}

void fill_tcp_checksum(uint8_t* frame, size_t tcp_len) {
  const uint8_t* ip = frame + kIp;
  uint8_t* t = frame + kTcp;
  store_be16(t + tcp_off::kChecksum,
             tcp_checksum_zeroed(load_be32(ip + ipv4_off::kSrc), load_be32(ip + ipv4_off::kDst), {t, tcp_len}));
}

void fill_tcp6_checksum(uint8_t* frame, size_t tcp_len) {
  const uint8_t* ip = frame + kIp;
  uint8_t* t = frame + kTcp6;
  store_be16(t + tcp_off::kChecksum,
             l4_checksum6_zeroed(ip + ipv6_off::kSrc, ip + ipv6_off::kDst, ip_proto::kTcp, {t, tcp_len}));
}

}  // namespace synmill::wire
