#pragma once
// rte_flow rules that steer TCP to the port's queues with RSS:
//  - in isolated mode (bifurcated NICs such as mlx5) only traffic matched by a
//    rule reaches DPDK, and the kernel keeps the rest (SSH, ARP for its own
//    addresses, ...): one rule per SteerRule;
//  - without isolation, one catch-all IPv4/TCP rule can ask the NIC for its
//    own symmetric Toeplitz function (i40e, ice).
#include <cstdint>
#include <span>
#include <string>

#include "dp/result.hpp"
#include "dp/rss.hpp"

namespace synmill::dp {

// IPv4/TCP traffic to steer to synmill (host byte order). dst_ip 0 matches any
// address; dst_port_mask selects which bits of dst_port must match (0xffff:
// exactly dst_port; 0: any port; 0xfc00 with dst_port 0x8000: 32768..33791).
struct SteerRule {
  uint32_t dst_ip = 0;
  uint16_t dst_port = 0;
  uint16_t dst_port_mask = 0xffff;
};

// "198.18.0.1:80", "*:32768/0xfc00"
std::string format_steer_rule(const SteerRule& rule);

// The RSS action of a rule.
struct FlowRss {
  RssFunction function = RssFunction::kToeplitz;
  std::span<const uint8_t> key;     // empty: keep the port's key
  uint64_t rss_hf = 0;              // RTE_ETH_RSS_* types
  std::span<const uint16_t> queues; // empty: the PMD's default (all queues)
};

// rte_flow_isolate(port, 1). Call before rte_eth_dev_configure().
Result<void> enter_isolated_mode(uint16_t port_id);

// Adds ETH / IPV4 [dst] / TCP [dst port] -> RSS. `rule` null: all IPv4/TCP.
Result<void> add_tcp_rss_rule(uint16_t port_id, const SteerRule* rule, const FlowRss& rss);

// Removes every rule on the port (rte_flow_flush); ports without rte_flow succeed.
Result<void> flush_flows(uint16_t port_id);

}  // namespace synmill::dp
