#include "dp/flow_steer.hpp"

#include <array>

#include <fmt/format.h>

#include "dp/rte.hpp"

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

}  // namespace

std::string format_steer_rule(const SteerRule& r) {
  const std::string ip = r.dst_ip == 0 ? std::string("*")
                                       : fmt::format("{}.{}.{}.{}", r.dst_ip >> 24,
                                                     (r.dst_ip >> 16) & 0xff, (r.dst_ip >> 8) & 0xff,
                                                     r.dst_ip & 0xff);
  if (r.dst_port_mask == 0) return ip + ":*";
  if (r.dst_port_mask == 0xffff) return fmt::format("{}:{}", ip, r.dst_port);
  return fmt::format("{}:{}/{:#06x}", ip, r.dst_port, r.dst_port_mask);
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
  rte_flow_attr attr{};
  attr.ingress = 1;

  rte_flow_item_ipv4 ip_spec{};
  rte_flow_item_ipv4 ip_mask{};
  rte_flow_item_tcp tcp_spec{};
  rte_flow_item_tcp tcp_mask{};
  const bool match_ip = rule != nullptr && rule->dst_ip != 0;
  const bool match_port = rule != nullptr && rule->dst_port_mask != 0;
  if (match_ip) {
    ip_spec.hdr.dst_addr = rte_cpu_to_be_32(rule->dst_ip);
    ip_mask.hdr.dst_addr = rte_cpu_to_be_32(0xffffffffu);
  }
  if (match_port) {
    tcp_spec.hdr.dst_port = rte_cpu_to_be_16(rule->dst_port & rule->dst_port_mask);
    tcp_mask.hdr.dst_port = rte_cpu_to_be_16(rule->dst_port_mask);
  }

  std::array<rte_flow_item, 4> pattern{};
  pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
  pattern[1].type = RTE_FLOW_ITEM_TYPE_IPV4;
  if (match_ip) {
    pattern[1].spec = &ip_spec;
    pattern[1].mask = &ip_mask;
  }
  pattern[2].type = RTE_FLOW_ITEM_TYPE_TCP;
  if (match_port) {
    pattern[2].spec = &tcp_spec;
    pattern[2].mask = &tcp_mask;
  }
  pattern[3].type = RTE_FLOW_ITEM_TYPE_END;

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
  int ret = rte_flow_validate(port_id, &attr, pattern.data(), actions.data(), &err);
  if (ret == 0 && rte_flow_create(port_id, &attr, pattern.data(), actions.data(), &err) == nullptr) {
    ret = -rte_errno;
  }
  if (ret != 0) {
    return Error{fmt::format("port {}: rte_flow rule tcp {} -> rss over {} queues refused: {}",
                             port_id, rule != nullptr ? format_steer_rule(*rule) : "*:*",
                             rss.queues.empty() ? std::string("all") : std::to_string(rss.queues.size()),
                             flow_error_text(ret, err))};
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
