#include "dp/flow_steer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "dp/app_values.hpp"
#include "dp/flow_pattern.hpp"
#include "dp/rte.hpp"
#include "wire/icmpv6.hpp"

namespace synmill::dp {
namespace {

std::string flow_error_text(int ret, const rte_flow_error& err) {
  if (err.message != nullptr) return fmt::format("{} ({})", err.message, rte_strerror(-ret));
  return rte_strerror(-ret);
}

rte_eth_hash_function to_rte(RssFunction fn) {
  return fn == RssFunction::kSymmetricToeplitz ? RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ
                                               : RTE_ETH_HASH_FUNCTION_TOEPLITZ;
}

// rte_flow_validate, then rte_flow_create: 0 or a negative errno.
int create_rule(uint16_t port_id, const rte_flow_item* pattern, const rte_flow_action* actions,
                rte_flow_error& err) {
  rte_flow_attr attr{};
  attr.ingress = 1;
  int ret = rte_flow_validate(port_id, &attr, pattern, actions, &err);
  if (ret == 0 && rte_flow_create(port_id, &attr, pattern, actions, &err) == nullptr) ret = -rte_errno;
  return ret;
}

}  // namespace

FlowPattern::FlowPattern(const SteerRule* rule) {
  const bool v6 = rule != nullptr && rule->v6;
  const bool match_ip = rule != nullptr && (v6 ? !rule->dst_ip6.is_unspecified() : rule->dst_ip != 0);
  const bool match_port = rule != nullptr && rule->dst_port_mask != 0;
  items[0].type = RTE_FLOW_ITEM_TYPE_ETH;
  items[1].type = v6 ? RTE_FLOW_ITEM_TYPE_IPV6 : RTE_FLOW_ITEM_TYPE_IPV4;
  if (match_ip && v6) {
    std::memcpy(ip6_spec.hdr.dst_addr, rule->dst_ip6.b.data(), 16);
    std::memset(ip6_mask.hdr.dst_addr, 0xff, 16);
    items[1].spec = &ip6_spec;
    items[1].mask = &ip6_mask;
  } else if (match_ip) {
    ip4_spec.hdr.dst_addr = rte_cpu_to_be_32(rule->dst_ip);
    ip4_mask.hdr.dst_addr = rte_cpu_to_be_32(0xffffffffu);
    items[1].spec = &ip4_spec;
    items[1].mask = &ip4_mask;
  }
  items[2].type = RTE_FLOW_ITEM_TYPE_TCP;
  if (match_port) {
    tcp_spec.hdr.dst_port = rte_cpu_to_be_16(rule->dst_port & rule->dst_port_mask);
    tcp_mask.hdr.dst_port = rte_cpu_to_be_16(rule->dst_port_mask);
    items[2].spec = &tcp_spec;
    items[2].mask = &tcp_mask;
  }
  items[3].type = RTE_FLOW_ITEM_TYPE_END;
}

FlowPattern::FlowPattern(const Icmp6Rule& rule) {
  items[0].type = RTE_FLOW_ITEM_TYPE_ETH;
  items[1].type = RTE_FLOW_ITEM_TYPE_IPV6;
  std::memcpy(ip6_spec.hdr.dst_addr, rule.dst.b.data(), 16);
  std::memset(ip6_mask.hdr.dst_addr, 0xff, 16);
  items[1].spec = &ip6_spec;
  items[1].mask = &ip6_mask;
  items[2].type = RTE_FLOW_ITEM_TYPE_ICMP6;
  if (rule.type) {
    icmp6_spec.type = *rule.type;
    icmp6_mask.type = 0xff;
    items[2].spec = &icmp6_spec;
    items[2].mask = &icmp6_mask;
  }
  items[3].type = RTE_FLOW_ITEM_TYPE_END;
}

std::string format_steer_rule(const SteerRule& r) {
  std::string ip;
  if (r.v6) {
    ip = r.dst_ip6.is_unspecified() ? std::string("[*]") : fmt::format("[{}]", format_ipv6(r.dst_ip6));
  } else {
    ip = r.dst_ip == 0 ? std::string("*") : format_ipv4(r.dst_ip);
  }
  if (r.dst_port_mask == 0) return ip + ":*";
  if (r.dst_port_mask == 0xffff) return fmt::format("{}:{}", ip, r.dst_port);
  return fmt::format("{}:{}/{:#06x}", ip, r.dst_port, r.dst_port_mask);
}

std::vector<Icmp6Rule> icmp6_rules_for(std::span<const SteerRule> rules) {
  std::vector<wire::Ipv6Addr> addrs;
  for (const SteerRule& r : rules) {
    if (r.v6 && !r.dst_ip6.is_unspecified() && std::find(addrs.begin(), addrs.end(), r.dst_ip6) == addrs.end()) {
      addrs.push_back(r.dst_ip6);
    }
  }
  std::vector<Icmp6Rule> out;
  for (const wire::Ipv6Addr& a : addrs) {
    out.push_back(Icmp6Rule{a, std::nullopt});
    out.push_back(Icmp6Rule{wire::solicited_node_addr(a), wire::icmp6_type::kNeighborSolicit});
  }
  return out;
}

std::string format_icmp6_rule(const Icmp6Rule& r) {
  return r.type ? fmt::format("icmp6 type {} to {}", *r.type, format_ipv6(r.dst))
                : fmt::format("icmp6 to {}", format_ipv6(r.dst));
}

Result<void> enter_isolated_mode(uint16_t port_id) {
  rte_flow_error err{};
  const int ret = rte_flow_isolate(port_id, 1, &err);
  if (ret != 0) {
    return Error{fmt::format(
        "port {}: rte_flow_isolate failed: {}: this PMD cannot leave non-steered traffic to the "
        "kernel; set flow_isolate = false to take all of the port's traffic",
        port_id, flow_error_text(ret, err))};
  }
  return {};
}

Result<void> add_tcp_rss_rule(uint16_t port_id, const SteerRule* rule, const FlowRss& rss) {
  const FlowPattern pattern(rule);
  rte_flow_action_rss action_rss{};
  action_rss.func = to_rte(rss.function);
  action_rss.level = 0;
  action_rss.types = rss.rss_hf;
  action_rss.key_len = static_cast<uint32_t>(rss.key.size());
  action_rss.key = rss.key.empty() ? nullptr : rss.key.data();
  action_rss.queue_num = static_cast<uint32_t>(rss.queues.size());
  action_rss.queue = rss.queues.empty() ? nullptr : rss.queues.data();

  std::array<rte_flow_action, 2> actions{};
  actions[0].type = RTE_FLOW_ACTION_TYPE_RSS;
  actions[0].conf = &action_rss;
  actions[1].type = RTE_FLOW_ACTION_TYPE_END;

  rte_flow_error err{};
  const int ret = create_rule(port_id, pattern.items.data(), actions.data(), err);
  if (ret != 0) {
    return Error{fmt::format("port {}: rte_flow rule tcp {} -> rss over {} queues refused: {}",
                             port_id, rule != nullptr ? format_steer_rule(*rule) : "*:*",
                             rss.queues.empty() ? std::string("all") : std::to_string(rss.queues.size()),
                             flow_error_text(ret, err))};
  }
  return {};
}

Result<void> add_icmp6_rule(uint16_t port_id, const Icmp6Rule& rule, uint16_t queue) {
  const FlowPattern pattern(rule);
  rte_flow_action_queue action_queue{};
  action_queue.index = queue;
  std::array<rte_flow_action, 2> actions{};
  actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
  actions[0].conf = &action_queue;
  actions[1].type = RTE_FLOW_ACTION_TYPE_END;
  rte_flow_error err{};
  const int ret = create_rule(port_id, pattern.items.data(), actions.data(), err);
  if (ret != 0) {
    return Error{fmt::format("port {}: rte_flow rule {} -> queue {} refused: {}", port_id, format_icmp6_rule(rule),
                             queue, flow_error_text(ret, err))};
  }
  return {};
}

Result<void> flush_flows(uint16_t port_id) {
  rte_flow_error err{};
  const int ret = rte_flow_flush(port_id, &err);
  if (ret != 0 && ret != -ENOTSUP && ret != -ENOSYS) {
    return Error{fmt::format("port {}: rte_flow_flush failed: {}", port_id, flow_error_text(ret, err))};
  }
  return {};
}

}  // namespace synmill::dp
