#include "wire/ndp.hpp"

#include <cstring>

namespace synmill::wire {

namespace {

constexpr size_t kTargetOff = 8;  // after type, code, checksum and the 4-byte reserved/flags word

// Ethernet + IPv6 header + 24-byte NS/NA body; `opt_len` bytes of options
// follow, written by the caller before the checksum.
std::span<uint8_t> write_nd_headers(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& src,
                                    const MacAddr& dst_mac, const Ipv6Addr& dst, uint8_t type, uint8_t flags,
                                    const Ipv6Addr& target, size_t opt_len) {
  write_ethernet(out, dst_mac, my_mac, ethertype::kIpv6);
  Ipv6HeaderSpec h;
  h.src = src;
  h.dst = dst;
  h.next_header = ip_proto::kIcmpv6;
  h.payload_len = static_cast<uint16_t>(kNdMinLen + opt_len);
  h.hop_limit = kNdHopLimit;
  write_ipv6_header(out.subspan(kEthHeaderLen), h);
  const std::span<uint8_t> msg = out.subspan(kEthHeaderLen + kIpv6HeaderLen, kNdMinLen + opt_len);
  msg[0] = type;
  msg[1] = 0;
  store_be32(msg, 4, uint32_t{flags} << 24);
  target.store(msg.data() + kTargetOff);
  return msg;
}

void write_lladdr_option(uint8_t* p, uint8_t type, const MacAddr& mac) {
  p[0] = type;
  p[1] = 1;  // 8 bytes (RFC 2464 §8)
  std::memcpy(p + 2, mac.data(), 6);
}

}  // namespace

Result<NdMessage> parse_nd(const Ipv6View& ip, const Icmpv6View& icmp) {
  const std::span<const uint8_t> m = icmp.bytes();
  if (ip.hop_limit() != kNdHopLimit) return ParseError::kNdBadHopLimit;  // §7.1.1, §7.1.2
  if (icmp.code() != 0) return ParseError::kNdBadCode;
  if (m.size() < kNdMinLen) return ParseError::kNdTruncated;
  NdMessage nd;
  nd.type = icmp.type();
  nd.target = Ipv6Addr::load(m.data() + kTargetOff);
  if (nd.target.is_multicast()) return ParseError::kNdTargetMulticast;
  const bool ns = nd.type == icmp6_type::kNeighborSolicit;
  if (!ns) nd.flags = static_cast<uint8_t>(m[4] & (nd_flag::kRouter | nd_flag::kSolicited | nd_flag::kOverride));
  const uint8_t ll_type = ns ? nd_opt::kSourceLinkAddr : nd_opt::kTargetLinkAddr;
  for (size_t i = kNdMinLen; i < m.size();) {
    // §4.6: type, length in 8-byte units; "all included options have a
    // length that is greater than zero" (§7.1.1, §7.1.2).
    if (i + 2 > m.size() || m[i + 1] == 0) return ParseError::kNdBadOptionLength;
    const size_t len = size_t{m[i + 1]} * 8;
    if (i + len > m.size()) return ParseError::kNdBadOptionLength;
    if (m[i] == ll_type) {
      if (len != kNdLinkLayerOptLen) return ParseError::kNdBadLinkLayerOption;
      nd.has_lladdr = true;  // a repeated option: the last one wins
      std::memcpy(nd.lladdr.data(), m.data() + i + 2, 6);
    }
    i += len;
  }
  const Ipv6Addr dst = ip.dst();
  if (ns && ip.src().is_unspecified()) {
    // §7.1.1: from :: only to a solicited-node group, and without SLLA.
    if (!is_solicited_node_addr(dst)) return ParseError::kNdUnspecifiedSourceNotSolicited;
    if (nd.has_lladdr) return ParseError::kNdUnspecifiedSourceWithSlla;
  }
  if (!ns && dst.is_multicast() && (nd.flags & nd_flag::kSolicited) != 0) {
    return ParseError::kNdSolicitedToMulticast;  // §7.1.2
  }
  return nd;
}

size_t build_neighbor_solicit(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& src,
                              const Ipv6Addr& target) {
  const size_t opt_len = src.is_unspecified() ? 0 : kNdLinkLayerOptLen;  // §4.3: no SLLA from ::
  const size_t len = kEthHeaderLen + kIpv6HeaderLen + kNdMinLen + opt_len;
  if (out.size() < len) return 0;
  const Ipv6Addr group = solicited_node_addr(target);
  const std::span<uint8_t> msg = write_nd_headers(out, my_mac, src, ipv6_multicast_mac(group), group,
                                                  icmp6_type::kNeighborSolicit, 0, target, opt_len);
  if (opt_len != 0) write_lladdr_option(msg.data() + kNdMinLen, nd_opt::kSourceLinkAddr, my_mac);
  fill_icmpv6_checksum(msg, src, group);
  return len;
}

size_t build_neighbor_advert(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& src,
                             const MacAddr& dst_mac, const Ipv6Addr& dst, const Ipv6Addr& target, uint8_t flags) {
  if (out.size() < kNdFrameLen) return 0;
  const std::span<uint8_t> msg = write_nd_headers(out, my_mac, src, dst_mac, dst, icmp6_type::kNeighborAdvert,
                                                  flags, target, kNdLinkLayerOptLen);
  write_lladdr_option(msg.data() + kNdMinLen, nd_opt::kTargetLinkAddr, my_mac);
  fill_icmpv6_checksum(msg, src, dst);
  return kNdFrameLen;
}

size_t build_neighbor_advert_reply(std::span<uint8_t> out, const MacAddr& my_mac, const NdMessage& ns,
                                   const Ipv6Addr& ns_src, const MacAddr& ns_src_mac) {
  if (ns_src.is_unspecified()) return build_unsolicited_neighbor_advert(out, my_mac, ns.target);
  const MacAddr& to = ns.has_lladdr ? ns.lladdr : ns_src_mac;
  return build_neighbor_advert(out, my_mac, ns.target, to, ns_src, ns.target,
                               nd_flag::kSolicited | nd_flag::kOverride);
}

size_t build_unsolicited_neighbor_advert(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& addr) {
  return build_neighbor_advert(out, my_mac, addr, ipv6_multicast_mac(kAllNodesAddr), kAllNodesAddr, addr,
                               nd_flag::kOverride);
}

}  // namespace synmill::wire
