#include "wire/icmpv6.hpp"

#include <cstring>

#include "wire/checksum6.hpp"

namespace synmill::wire {

Result<Icmpv6View> Icmpv6View::parse(std::span<const uint8_t> msg) {
  if (msg.size() < kIcmpv6MinLen) return ParseError::kIcmp6Truncated;
  return Icmpv6View(msg);
}

bool Icmpv6View::checksum_ok(const Ipv6View& ip) const {
  return l4_checksum6_ok(ip.src_bytes(), ip.dst_bytes(), ip_proto::kIcmpv6, bytes_);
}

void fill_icmpv6_checksum(std::span<uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  store_be16(msg, 2, 0);
  store_be16(msg, 2, l4_checksum6_zeroed(src.b.data(), dst.b.data(), ip_proto::kIcmpv6, msg));
}

size_t icmpv6_echo_reply_in_place(std::span<uint8_t> frame, const MacAddr& my_mac, const Ipv6Addr& my_addr,
                                  uint8_t hop_limit) {
  const auto eth = EthernetView::parse(frame);
  if (!eth || eth->ethertype() != ethertype::kIpv6) return 0;
  const auto ip = Ipv6View::parse(eth->payload());
  if (!ip || ip->upper_protocol() != ip_proto::kIcmpv6) return 0;
  const auto icmp = Icmpv6View::parse(ip->upper());
  if (!icmp || !icmp->is_echo_request()) return 0;
  const Ipv6Addr peer = ip->src();
  if (peer.is_unspecified()) return 0;
  const MacAddr peer_mac = eth->src();

  const size_t msg_len = icmp->bytes().size();
  const size_t msg_off = kEthHeaderLen + ip->upper_offset();
  uint8_t* out = frame.data();
  std::memmove(out + kEthHeaderLen + kIpv6HeaderLen, out + msg_off, msg_len);  // drops extension headers
  write_ethernet(frame, peer_mac, my_mac, ethertype::kIpv6);
  Ipv6HeaderSpec h;
  h.src = my_addr;
  h.dst = peer;
  h.next_header = ip_proto::kIcmpv6;
  h.payload_len = static_cast<uint16_t>(msg_len);
  h.hop_limit = hop_limit;
  write_ipv6_header(frame.subspan(kEthHeaderLen), h);
  const std::span<uint8_t> msg = frame.subspan(kEthHeaderLen + kIpv6HeaderLen, msg_len);
  msg[0] = icmp6_type::kEchoReply;
  fill_icmpv6_checksum(msg, my_addr, peer);
  return kEthHeaderLen + kIpv6HeaderLen + msg_len;
}

}  // namespace synmill::wire
