#pragma once
// The rte_flow pattern of one steering rule (flow_steer.hpp), built apart from
// the device call so that tests can read what a rule matches without a NIC
// that takes rte_flow rules. Items point into the struct: do not copy it
// after build (the constructors build in place).
#include <array>

#include "dp/flow_steer.hpp"
#include "dp/rte.hpp"

namespace synmill::dp {

struct FlowPattern {
  // ETH / IPV4 or IPV6 / TCP / END for a SteerRule; ETH / IPV6 / ICMP6 / END
  // for an Icmp6Rule. Unset specs (any address, any port, any type) leave the
  // item's spec and mask null.
  explicit FlowPattern(const SteerRule* rule);
  explicit FlowPattern(const Icmp6Rule& rule);
  FlowPattern(const FlowPattern&) = delete;
  FlowPattern& operator=(const FlowPattern&) = delete;

  std::array<rte_flow_item, 4> items{};
  rte_flow_item_ipv4 ip4_spec{};
  rte_flow_item_ipv4 ip4_mask{};
  rte_flow_item_ipv6 ip6_spec{};
  rte_flow_item_ipv6 ip6_mask{};
  rte_flow_item_tcp tcp_spec{};
  rte_flow_item_tcp tcp_mask{};
  rte_flow_item_icmp6 icmp6_spec{};
  rte_flow_item_icmp6 icmp6_mask{};
};

}  // namespace synmill::dp
