#pragma once
// rte_flow rules that steer TCP to the port's queues with RSS:
//  - in isolated mode (bifurcated NICs such as mlx5) only traffic matched by a
//    rule reaches DPDK, and the kernel keeps the rest (SSH, ARP for its own
//    addresses, ...): one rule per SteerRule, and for each IPv6 address the
//    rules name, the ICMPv6 Neighbor Discovery and echo need (Icmp6Rule);
//  - without isolation, one catch-all IPv4/TCP rule can ask the NIC for its
//    own symmetric Toeplitz function (i40e, ice).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dp/result.hpp"
#include "dp/rss.hpp"
#include "wire/ipv6_addr.hpp"

namespace synmill::dp {

// TCP traffic to steer to synmill (host byte order): IPv4 to dst_ip, or with
// v6 set IPv6 to dst_ip6. dst_ip 0 (dst_ip6 ::) matches any address;
// dst_port_mask selects which bits of dst_port must match (0xffff: exactly
// dst_port; 0: any port; 0xfc00 with dst_port 0x8000: 32768..33791).
struct SteerRule {
  uint32_t dst_ip = 0;
  uint16_t dst_port = 0;
  uint16_t dst_port_mask = 0xffff;
  bool v6 = false;
  wire::Ipv6Addr dst_ip6{};
};

// "198.18.0.1:80", "*:32768/0xfc00", "[2001:2::1]:80", "[*]:80"
std::string format_steer_rule(const SteerRule& rule);

// ICMPv6 an isolated port hands to synmill for one of its IPv6 addresses
// (RFC 4861 §7.2.3 / §7.2.5, RFC 4443 §4.1): every ICMPv6 message to the
// address itself (echo requests, the NA answering our NS, unicast NS), and
// NS (type 135) to its solicited-node group (RFC 4291 §2.7.1). The group is
// shared with any address (the kernel's too) with the same low 24 bits: NS
// for such an address then reach synmill, which does not answer them
// (drop_nd_not_ours). The address must be synmill's own, not the kernel's:
// ICMPv6 to it no longer reaches the kernel.
struct Icmp6Rule {
  wire::Ipv6Addr dst;
  std::optional<uint8_t> type;  // nullopt: any
};

// The ICMPv6 rules for the distinct IPv6 addresses `rules` name (:: not).
std::vector<Icmp6Rule> icmp6_rules_for(std::span<const SteerRule> rules);

// "icmp6 to 2001:2::1", "icmp6 type 135 to ff02::1:ff00:1"
std::string format_icmp6_rule(const Icmp6Rule& rule);

// The RSS action of a rule.
struct FlowRss {
  RssFunction function = RssFunction::kToeplitz;
  std::span<const uint8_t> key;     // empty: keep the port's key
  uint64_t rss_hf = 0;              // RTE_ETH_RSS_* types
  std::span<const uint16_t> queues; // empty: the PMD's default (all queues)
};

// rte_flow_isolate(port, 1). Call before rte_eth_dev_configure().
Result<void> enter_isolated_mode(uint16_t port_id);

// Adds ETH / IPV4 [dst] / TCP [dst port] -> RSS (ETH / IPV6 [dst] / TCP
// [dst port] for a v6 rule). `rule` null: all IPv4/TCP.
Result<void> add_tcp_rss_rule(uint16_t port_id, const SteerRule* rule, const FlowRss& rss);

// Adds ETH / IPV6 dst / ICMP6 [type] -> QUEUE `queue`. ND and echo go to one
// queue, as ARP and other frames without a TCP hash land on the RETA's
// first entry under RSS.
Result<void> add_icmp6_rule(uint16_t port_id, const Icmp6Rule& rule, uint16_t queue);

// Removes every rule on the port (rte_flow_flush); ports without rte_flow succeed.
Result<void> flush_flows(uint16_t port_id);

}  // namespace synmill::dp
