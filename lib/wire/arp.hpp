#pragma once
// ARP for IPv4 over Ethernet (RFC 826): the only flavour parsed. Addresses in
// host order.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ethernet.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

inline constexpr size_t kArpLen = 28;                       // Ethernet/IPv4 ARP packet
inline constexpr size_t kArpFrameLen = kEthHeaderLen + kArpLen;  // 42, NIC pads to 60

namespace arp_op {
inline constexpr uint16_t kRequest = 1;
inline constexpr uint16_t kReply = 2;
}  // namespace arp_op

class ArpView {
 public:
  ArpView() = default;

  // `data` is the Ethernet payload (trailing padding is ignored).
  // kArpTruncated: fewer than 28 bytes; kArpUnsupported: hardware type != 1,
  // protocol type != 0x0800, or address lengths != 6/4.
  static Result<ArpView> parse(std::span<const uint8_t> data);

  uint16_t op() const;
  MacAddr sender_mac() const;
  uint32_t sender_ip() const;
  MacAddr target_mac() const;
  uint32_t target_ip() const;
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit ArpView(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;  // exactly kArpLen bytes
};

// Full Ethernet + ARP frames (42 bytes, unpadded). Return kArpFrameLen, or 0
// when `out` is too small.
// Reply to `peer` (the request's sender) saying my_ip is at my_mac.
size_t build_arp_reply(std::span<uint8_t> out, const MacAddr& my_mac, uint32_t my_ip, const MacAddr& peer_mac,
                       uint32_t peer_ip);
// Broadcast "who has target_ip, tell my_ip".
size_t build_arp_request(std::span<uint8_t> out, const MacAddr& my_mac, uint32_t my_ip, uint32_t target_ip);

}  // namespace synmill::wire
