#include "dp/steer_plan.hpp"

#include <algorithm>

namespace synmill::dp {

std::vector<std::pair<uint16_t, uint16_t>> port_blocks(uint16_t first, uint16_t last) {
  std::vector<std::pair<uint16_t, uint16_t>> out;
  uint32_t p = first;
  while (p <= last) {
    // The largest aligned block starting at p that stays within last.
    uint32_t size = 1;
    while (size < 65536 && (p & (size * 2 - 1)) == 0 && p + size * 2 - 1 <= last) size *= 2;
    out.emplace_back(static_cast<uint16_t>(p), static_cast<uint16_t>(~(size - 1) & 0xffff));
    p += size;
  }
  return out;
}

std::vector<SteerRule> steer_rules_for(const std::vector<Address>& addrs, const std::vector<ListenSpec>& listeners,
                                       const std::vector<ConnectSpec>& connects, uint16_t connect_first_port) {
  std::vector<SteerRule> out;
  const auto add = [&out](const SteerRule& r) {
    const bool have = std::any_of(out.begin(), out.end(), [&r](const SteerRule& x) {
      return x.v6 == r.v6 && x.dst_ip == r.dst_ip && x.dst_ip6 == r.dst_ip6 && x.dst_port == r.dst_port &&
             x.dst_port_mask == r.dst_port_mask;
    });
    if (!have) out.push_back(r);
  };
  const auto rule = [](const Address& a, uint16_t port, uint16_t mask) {
    SteerRule r;
    r.v6 = a.v6;
    r.dst_ip = a.v6 ? 0 : a.ip;
    r.dst_ip6 = a.v6 ? a.ip6 : wire::Ipv6Addr{};
    r.dst_port = port;
    r.dst_port_mask = mask;
    return r;
  };
  for (const Address& a : addrs) {
    for (const ListenSpec& l : listeners) add(rule(a, l.port, 0xffff));
  }
  for (const ConnectSpec& c : connects) {
    const auto from = std::find_if(addrs.begin(), addrs.end(), [&c](const Address& a) { return a.v6 == c.v6; });
    if (from == addrs.end() || c.count == 0) continue;
    const uint32_t last = std::min<uint32_t>(65535, uint32_t{connect_first_port} + c.count - 1);
    for (const auto& [value, mask] : port_blocks(connect_first_port, static_cast<uint16_t>(last))) {
      add(rule(*from, value, mask));
    }
  }
  return out;
}

}  // namespace synmill::dp
