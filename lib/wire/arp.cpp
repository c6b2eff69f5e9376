#include "wire/arp.hpp"

#include <cstring>

#include "wire/bytes.hpp"

namespace synmill::wire {

namespace {

constexpr uint16_t kHtypeEthernet = 1;

// RFC 826 "Packet format": htype, ptype, hlen, plen, op, sha, spa, tha, tpa.
size_t write_arp_frame(std::span<uint8_t> out, const MacAddr& eth_dst, uint16_t op, const MacAddr& sha,
                       uint32_t spa, const MacAddr& tha, uint32_t tpa) {
  if (out.size() < kArpFrameLen) return 0;
  write_ethernet(out, eth_dst, sha, ethertype::kArp);
  uint8_t* p = out.data() + kEthHeaderLen;
  store_be16(p, kHtypeEthernet);
  store_be16(p + 2, ethertype::kIpv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, op);
  std::memcpy(p + 8, sha.data(), 6);
  store_be32(p + 14, spa);
  std::memcpy(p + 18, tha.data(), 6);
  store_be32(p + 24, tpa);
  return kArpFrameLen;
}

}  // namespace

Result<ArpView> ArpView::parse(std::span<const uint8_t> data) {
  if (data.size() < kArpLen) return ParseError::kArpTruncated;
  if (load_be16(data, 0) != kHtypeEthernet || load_be16(data, 2) != ethertype::kIpv4 || data[4] != 6 ||
      data[5] != 4) {
    return ParseError::kArpUnsupported;
  }
  return ArpView(data.first(kArpLen));
}

uint16_t ArpView::op() const { return load_be16(bytes_, 6); }

MacAddr ArpView::sender_mac() const {
  MacAddr m;
  std::memcpy(m.data(), bytes_.data() + 8, 6);
  return m;
}

uint32_t ArpView::sender_ip() const { return load_be32(bytes_, 14); }

MacAddr ArpView::target_mac() const {
  MacAddr m;
  std::memcpy(m.data(), bytes_.data() + 18, 6);
  return m;
}

uint32_t ArpView::target_ip() const { return load_be32(bytes_, 24); }

size_t build_arp_reply(std::span<uint8_t> out, const MacAddr& my_mac, uint32_t my_ip, const MacAddr& peer_mac,
                       uint32_t peer_ip) {
  return write_arp_frame(out, peer_mac, arp_op::kReply, my_mac, my_ip, peer_mac, peer_ip);
}

size_t build_arp_request(std::span<uint8_t> out, const MacAddr& my_mac, uint32_t my_ip, uint32_t target_ip) {
  // RFC 826: the target hardware address is unknown; send zeros.
  return write_arp_frame(out, kBroadcastMac, arp_op::kRequest, my_mac, my_ip, MacAddr{}, target_ip);
}

}  // namespace synmill::wire
