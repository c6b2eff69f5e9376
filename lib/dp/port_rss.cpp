#include "dp/port_rss.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "dp/flow_steer.hpp"
#include "dp/profile_values.hpp"
#include "dp/rte.hpp"

namespace synmill::dp {
namespace {

size_t next_pow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

std::string label(const PortInfo& info) {
  return fmt::format("port {} ({})", info.port_id, info.driver);
}

// Puts the key on ports that take it only through rte_eth_dev_rss_hash_update
// (hash_key_size 0 in dev_info), then reads back the key the port really uses.
Result<void> settle_key(const PortPlan& plan, PortInfo& info) {
  const uint16_t port = info.port_id;
  if (!plan.key_set_at_configure) {
    rte_eth_rss_conf conf{};
    conf.rss_key = info.rss_key.data();
    conf.rss_key_len = static_cast<uint8_t>(info.rss_key.size());
    conf.rss_hf = plan.rss_hf;
    if (const int ret = rte_eth_dev_rss_hash_update(port, &conf); ret != 0) {
      info.notes.push_back(fmt::format("RSS key not settable ({})", rte_strerror(-ret)));
    }
  }
  std::array<uint8_t, 64> buf{};  // >= any hash_key_size; some PMDs copy 40 bytes regardless
  rte_eth_rss_conf conf{};
  conf.rss_key = buf.data();
  conf.rss_key_len = static_cast<uint8_t>(buf.size());
  if (const int ret = rte_eth_dev_rss_hash_conf_get(port, &conf); ret != 0) {
    info.notes.push_back(fmt::format("RSS key not readable ({}): assuming the configured key",
                                     rte_strerror(-ret)));
    return {};
  }
  const std::span<const uint8_t> actual(buf.data(), info.rss_key.size());
  if (std::equal(actual.begin(), actual.end(), info.rss_key.begin())) return {};
  const bool v6 = (info.rss_types & (rss_type::kIpv6 | rss_type::kIpv6Tcp)) != 0;
  if (!RssHasher(actual).symmetric() || (v6 && !RssHasher(actual).symmetric6())) {
    return Error{fmt::format(
        "{}: the port hashes with its own key {} (not symmetric) instead of {}: replies would land "
        "on other queues: set rss = none and software_dispatch = true in {}",
        label(info), format_hex(actual), format_hex(info.rss_key), plan.profile.path)};
  }
  info.notes.push_back(fmt::format("the port kept its own key {} (symmetric)", format_hex(actual)));
  info.rss_key.assign(actual.begin(), actual.end());
  return {};
}

// Flow-isolated ports: one RSS rule per steering rule, or nothing arrives;
// the ICMPv6 rules of the IPv6 addresses they name.
Result<void> install_steering(const PortPlan& plan, PortInfo& info) {
  std::vector<uint16_t> queues(info.rx_queues);
  std::iota(queues.begin(), queues.end(), uint16_t{0});
  const bool nic_symmetric = plan.profile.rss == RssMode::kSymmetricToeplitz;
  info.rss_function = nic_symmetric ? RssFunction::kSymmetricToeplitz : RssFunction::kToeplitz;
  for (const SteerRule& rule : plan.steer) {
    FlowRss rss{info.rss_function, info.rss_key, plan.rss_hf, queues};
    auto r = add_tcp_rss_rule(info.port_id, &rule, rss);
    if (!r && info.rss_function == RssFunction::kSymmetricToeplitz) {
      info.notes.push_back(fmt::format("NIC symmetric Toeplitz refused ({}): using Toeplitz with the "
                                       "symmetric key",
                                       r.error()));
      info.rss_function = rss.function = RssFunction::kToeplitz;
      info.rss = RssMode::kToeplitzSymmetricKey;
      r = add_tcp_rss_rule(info.port_id, &rule, rss);
    }
    if (!r) {
      return Error{fmt::format("{}: the port is flow-isolated, so no traffic reaches synmill without "
                               "its steering rules: set flow_isolate = false in {}",
                               r.error(), plan.profile.path)};
    }
  }
  // IPv6 addresses need Neighbor Discovery and echo besides their TCP
  // (flow_steer.hpp): to queue 0, where ARP lands too.
  for (const Icmp6Rule& rule : icmp6_rules_for(plan.steer)) {
    if (auto r = add_icmp6_rule(info.port_id, rule, 0); !r) {
      return Error{fmt::format("{}: the port is flow-isolated, so Neighbor Discovery for its IPv6 addresses "
                               "cannot reach synmill without this rule: set flow_isolate = false in {}",
                               r.error(), plan.profile.path)};
    }
  }
  // A flow's RSS action spreads over its own table: the queue list repeated to
  // the next power of two (mlx5), i.e. round-robin.
  info.reta = round_robin_reta(next_pow2(info.rx_queues), info.rx_queues);
  info.reta_from_device = false;
  return {};
}

// Reads the port's redirection table; round-robin (the PMDs' default) if it
// cannot be read.
void read_reta(const rte_eth_dev_info& dev, PortInfo& info) {
  const uint16_t size = dev.reta_size;
  if (size != 0) {
    std::vector<rte_eth_rss_reta_entry64> groups((size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                                 RTE_ETH_RETA_GROUP_SIZE);
    for (auto& g : groups) g.mask = ~uint64_t{0};
    const int ret = rte_eth_dev_rss_reta_query(info.port_id, groups.data(), size);
    if (ret == 0) {
      info.reta.resize(size);
      for (size_t i = 0; i < size; ++i) {
        info.reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
      }
      const bool sane = std::all_of(info.reta.begin(), info.reta.end(),
                                    [&](uint16_t q) { return q < info.rx_queues; });
      if (sane) {
        info.reta_from_device = true;
        return;
      }
      info.notes.push_back("RETA read back names unconfigured queues: assuming round-robin");
    } else {
      info.notes.push_back(fmt::format("RETA not readable ({}): assuming round-robin",
                                       rte_strerror(-ret)));
    }
  } else {
    info.notes.push_back("the port reports no RETA size: assuming round-robin");
  }
  info.reta = round_robin_reta(size != 0 ? size : kSoftwareRetaSize, info.rx_queues);
  info.reta_from_device = false;
}

}  // namespace

Result<void> finish_rss(const PortPlan& plan, PortInfo& info) {
  if (info.software_dispatch) {
    // One RX queue: an isolated port still needs its rules to let anything
    // in (their RSS over that one queue); the dispatch hash stays ours.
    if (info.flow_isolated) {
      if (auto r = install_steering(plan, info); !r) return r;
    }
    info.rss_function = RssFunction::kToeplitz;
    info.reta = round_robin_reta(kSoftwareRetaSize, info.workers);
    info.reta_from_device = false;
    return {};
  }
  rte_eth_dev_info dev{};
  if (const int ret = rte_eth_dev_info_get(info.port_id, &dev); ret != 0) {
    return Error{fmt::format("{}: rte_eth_dev_info_get failed: {}", label(info), rte_strerror(-ret))};
  }
  if (auto r = settle_key(plan, info); !r) return r;
  if (info.flow_isolated) {
    if (auto r = install_steering(plan, info); !r) return r;
  } else {
    info.rss_function = RssFunction::kToeplitz;
    if (plan.profile.rss == RssMode::kSymmetricToeplitz) {
      FlowRss rss{RssFunction::kSymmetricToeplitz, {}, plan.rss_hf, {}};
      if (auto r = add_tcp_rss_rule(info.port_id, nullptr, rss); r) {
        info.rss_function = RssFunction::kSymmetricToeplitz;
      } else {
        info.notes.push_back(fmt::format("NIC symmetric Toeplitz refused ({}): using Toeplitz with "
                                         "the symmetric key",
                                         r.error()));
        info.rss = RssMode::kToeplitzSymmetricKey;
      }
    }
    read_reta(dev, info);
  }
  if (!info.hasher().symmetric()) {
    info.notes.push_back(fmt::format("rss_key {} is not symmetric: the two directions of a flow may "
                                     "land on different queues (use 0x6d5a)",
                                     format_hex(info.rss_key)));
  } else if ((info.rss_types & (rss_type::kIpv6 | rss_type::kIpv6Tcp)) != 0 && !info.hasher().symmetric6()) {
    info.notes.push_back(fmt::format("rss_key {} is not symmetric for IPv6 (or shorter than its 40 bytes): the "
                                     "two directions of an IPv6 flow may land on different queues (use 0x6d5a)",
                                     format_hex(info.rss_key)));
  }
  return {};
}

}  // namespace synmill::dp
