#include "dp/tx_cksum.hpp"

#include <span>

#include "dp/rte.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::dp {

namespace {
constexpr size_t kTcpCksumOff = 16;  // RFC 9293 §3.1
}

bool mark_tcp_tx_offload(rte_mbuf* m, uint8_t* frame, size_t len, bool ip_cksum, bool tcp_cksum) {
  constexpr size_t l2 = wire::kEthHeaderLen;
  if (len < l2 + wire::kIpv4MinHeaderLen) return false;
  const uint16_t type = wire::load_be16(frame + 12);
  const uint8_t* ip = frame + l2;
  size_t l3 = 0;
  uint16_t ph = 0;
  uint64_t flags = 0;
  if (type == wire::ethertype::kIpv4) {
    l3 = static_cast<size_t>(ip[0] & 0x0F) * 4;
    if (l3 < wire::kIpv4MinHeaderLen || len < l2 + l3 + wire::kTcpMinHeaderLen) return false;
    const auto tcp_len = static_cast<uint16_t>(len - l2 - l3);
    ph = wire::tcp_pseudo_header_checksum(wire::load_be32(ip + 12), wire::load_be32(ip + 16), tcp_len);
    flags = RTE_MBUF_F_TX_IPV4 | (ip_cksum ? RTE_MBUF_F_TX_IP_CKSUM : 0);
  } else if (type == wire::ethertype::kIpv6) {
    // What the worker builds has no extension header (l3 40); any other
    // frame is walked to its upper-layer header.
    if (len < l2 + wire::kIpv6HeaderLen + wire::kTcpMinHeaderLen) return false;
    if (ip[wire::ipv6_off::kNextHeader] == wire::ip_proto::kTcp) {
      l3 = wire::kIpv6HeaderLen;
    } else {
      const auto v = wire::Ipv6View::parse(std::span<const uint8_t>(ip, len - l2));
      if (!v || v->upper_protocol() != wire::ip_proto::kTcp) return false;
      l3 = v->upper_offset();
      if (len < l2 + l3 + wire::kTcpMinHeaderLen) return false;
    }
    // RFC 8200 §8.1: the upper-layer packet length, extension headers excluded.
    ph = wire::tcp6_pseudo_header_checksum(ip + wire::ipv6_off::kSrc, ip + wire::ipv6_off::kDst,
                                           static_cast<uint32_t>(len - l2 - l3));
    flags = RTE_MBUF_F_TX_IPV6;
  } else {
    return false;
  }
  uint8_t* tcp = frame + l2 + l3;
  m->l2_len = l2;
  m->l3_len = l3;
  m->l4_len = static_cast<uint64_t>(tcp[12] >> 4) * 4;  // data offset
  m->ol_flags |= flags;
  if (tcp_cksum) {
    m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
    tcp[kTcpCksumOff] = static_cast<uint8_t>(ph >> 8);
    tcp[kTcpCksumOff + 1] = static_cast<uint8_t>(ph);
  }
  return true;
}

}  // namespace synmill::dp
