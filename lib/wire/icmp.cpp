#include "wire/icmp.hpp"

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"

namespace synmill::wire {

Result<IcmpView> IcmpView::parse(std::span<const uint8_t> msg) {
  if (msg.size() < kIcmpHeaderLen) return ParseError::kIcmpTruncated;
  return IcmpView(msg);
}

uint16_t IcmpView::checksum() const { return load_be16(bytes_, 2); }
uint16_t IcmpView::echo_id() const { return load_be16(bytes_, 4); }
uint16_t IcmpView::echo_seq() const { return load_be16(bytes_, 6); }
bool IcmpView::checksum_ok() const { return internet_checksum_ok(bytes_); }

size_t icmp_echo_reply_in_place(std::span<uint8_t> frame, uint8_t ttl) {
  const auto eth = EthernetView::parse(frame);
  if (!eth || eth->ethertype() != ethertype::kIpv4) return 0;
  const auto ip = Ipv4View::parse(eth->payload());
  if (!ip || ip->protocol() != ip_proto::kIcmp || ip->is_fragment()) return 0;
  const auto icmp = IcmpView::parse(ip->payload());
  if (!icmp || !icmp->is_echo_request()) return 0;

  const size_t hlen = ip->header_len();
  const size_t total = ip->total_len();
  const std::span<uint8_t> ip_bytes = frame.subspan(kEthHeaderLen, total);
  const std::span<uint8_t> msg = ip_bytes.subspan(hlen);

  swap_ethernet_addresses(frame);
  swap_ipv4_addresses(ip_bytes);
  set_ipv4_ttl(ip_bytes, ttl);
  rewrite_u8(msg, 0, icmp_type::kEchoReply, 2);
  return kEthHeaderLen + total;
}

}  // namespace synmill::wire
