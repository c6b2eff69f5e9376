#include "wire/ethernet.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "wire/bytes.hpp"

namespace synmill::wire {

Result<EthernetView> EthernetView::parse(std::span<const uint8_t> frame) {
  if (frame.size() < kEthHeaderLen) return ParseError::kEthTruncated;
  return EthernetView(frame);
}

size_t write_ethernet(std::span<uint8_t> out, const MacAddr& dst, const MacAddr& src, uint16_t ethertype) {
  if (out.size() < kEthHeaderLen) return 0;
  std::memcpy(out.data(), dst.data(), 6);
  std::memcpy(out.data() + 6, src.data(), 6);
  store_be16(out, 12, ethertype);
  return kEthHeaderLen;
}

void swap_ethernet_addresses(std::span<uint8_t> frame) {
  assert(frame.size() >= kEthHeaderLen);
  std::swap_ranges(frame.begin(), frame.begin() + 6, frame.begin() + 6);
}

}  // namespace synmill::wire
