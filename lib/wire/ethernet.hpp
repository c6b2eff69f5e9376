#pragma once
// Ethernet II header (IEEE 802.3 / RFC 894): destination MAC, source MAC,
// EtherType. 802.1Q-tagged frames are not unwrapped: their EtherType reads
// 0x8100 and parse_frame classifies them as FrameKind::kOther.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/bytes.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

using MacAddr = std::array<uint8_t, 6>;

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr MacAddr kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

namespace ethertype {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kIpv6 = 0x86DD;  // RFC 2464 §3
inline constexpr uint16_t kVlan = 0x8100;
}  // namespace ethertype

class EthernetView {
 public:
  EthernetView() = default;

  // kEthTruncated when fewer than 14 bytes.
  static Result<EthernetView> parse(std::span<const uint8_t> frame);

  MacAddr dst() const {
    MacAddr m;
    std::memcpy(m.data(), frame_.data(), 6);
    return m;
  }
  MacAddr src() const {
    MacAddr m;
    std::memcpy(m.data(), frame_.data() + 6, 6);
    return m;
  }
  uint16_t ethertype() const { return load_be16(frame_.data() + 12); }
  // Everything after the header, Ethernet padding included.
  std::span<const uint8_t> payload() const { return frame_.subspan(kEthHeaderLen); }
  std::span<const uint8_t> frame() const { return frame_; }

 private:
  explicit EthernetView(std::span<const uint8_t> frame) : frame_(frame) {}
  std::span<const uint8_t> frame_;
};

// Writes a 14-byte header at the start of `out`. Returns kEthHeaderLen, or 0
// (writing nothing) when `out` is shorter.
size_t write_ethernet(std::span<uint8_t> out, const MacAddr& dst, const MacAddr& src, uint16_t ethertype);

// Swaps destination and source MAC in place (for replies built in the
// received buffer). Precondition: frame.size() >= kEthHeaderLen.
void swap_ethernet_addresses(std::span<uint8_t> frame);

}  // namespace synmill::wire
