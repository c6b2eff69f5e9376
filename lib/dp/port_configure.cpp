#include "dp/port.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dp/flow_steer.hpp"
#include "dp/offload_map.hpp"
#include "dp/profile_values.hpp"
#include "dp/rte.hpp"

// configure_port(): the decisions taken before the queues exist (flow
// isolation, RSS or software dispatch, queue and descriptor counts, offloads,
// MTU). start_port() and the rest are in port.cpp.
namespace synmill::dp {
namespace {

std::string port_label(uint16_t port_id, const std::string& driver) {
  return fmt::format("port {} ({})", port_id, driver);
}

std::string origin_or_default(const DriverProfile& p, std::string_view key) {
  const auto it = p.origin.find(key);
  return it != p.origin.end() ? it->second : p.path + " (default)";
}

// Decides RSS vs software dispatch and the queue counts.
Result<void> plan_queues(const DriverProfile& profile, const PortRequest& req,
                         const rte_eth_dev_info& dev, PortPlan& plan) {
  PortInfo& info = plan.info;
  const std::string label = port_label(req.port_id, info.driver);
  bool rss_on = profile.rss != RssMode::kNone && !profile.software_dispatch;
  if (!rss_on && !profile.software_dispatch && req.workers > 1) {
    return Error{fmt::format(
        "{}: {} has rss = none and software_dispatch = false, but {} workers need flows spread: "
        "set software_dispatch = true",
        label, profile.path, req.workers)};
  }
  plan.rss_hf = rss_hf_flags(profile.rss_types) & dev.flow_type_rss_offloads;
  if (rss_on && plan.rss_hf == 0) {
    info.notes.push_back(fmt::format(
        "{} hashes none of rss_types = {} (flow_type_rss_offloads {:#x}): software dispatch "
        "instead of RSS",
        info.driver, format_mask(profile.rss_types, rss_type_names()), dev.flow_type_rss_offloads));
    rss_on = false;
  } else if (rss_on && dev.max_rx_queues < 2 && req.workers > 1) {
    info.notes.push_back(fmt::format("{} has a single RX queue: software dispatch instead of RSS",
                                     info.driver));
    rss_on = false;
  }
  if (rss_on) {
    const uint16_t cap = std::min(profile.rx_queues_max, dev.max_rx_queues);
    if (req.workers > cap) {
      return Error{fmt::format(
          "{}: {} workers but at most {} RX queues (device {}, rx_queues_max {} at {}): use at "
          "most {} workers, or set rss = none and software_dispatch = true",
          label, req.workers, cap, dev.max_rx_queues, profile.rx_queues_max,
          origin_or_default(profile, "rx_queues_max"), cap)};
    }
    info.rx_queues = req.workers;
  } else {
    info.rx_queues = 1;
    plan.rss_hf = 0;
  }
  info.software_dispatch = !rss_on;
  info.link_state = profile.link_state;
  info.rss = rss_on ? profile.rss : RssMode::kNone;
  info.rss_types = rss_on ? profile.rss_types : 0;
  info.tx_queues = std::min({req.workers, profile.tx_queues_max, dev.max_tx_queues});
  if (info.tx_queues < req.workers) {
    info.notes.push_back(fmt::format("{} TX queues for {} workers: the others hand their frames to worker 0",
                                     info.tx_queues, req.workers));
  }
  return {};
}

// Requests the profile's offloads the device advertises.
void plan_offloads(const DriverProfile& profile, const rte_eth_dev_info& dev, PortPlan& plan) {
  OffloadMask wanted = profile.offloads;
  if (plan.info.software_dispatch) wanted &= ~offload::kRxRssHash;  // no RSS, no hash
  plan.rx_offload_flags = rx_offload_flags(wanted) & dev.rx_offload_capa;
  plan.tx_offload_flags = tx_offload_flags(wanted) & dev.tx_offload_capa;
  plan.info.offloads = offloads_from_flags(plan.rx_offload_flags, plan.tx_offload_flags) & wanted;
  plan.info.offloads_refused = wanted & ~plan.info.offloads;
  if (plan.info.offloads_refused != 0) {
    plan.info.notes.push_back(fmt::format(
        "offloads not advertised by {}: {} (checksums done in software)", plan.info.driver,
        format_mask(plan.info.offloads_refused, offload_names())));
  }
}

// Sets the MTU (clamped to the device's range); vdevs without MTU control keep theirs.
Result<void> apply_mtu(const DriverProfile& profile, const rte_eth_dev_info& dev, PortPlan& plan) {
  PortInfo& info = plan.info;
  const uint16_t max_mtu = dev.max_mtu != 0 ? dev.max_mtu : UINT16_MAX;
  const uint16_t mtu = std::clamp(profile.mtu, std::max<uint16_t>(dev.min_mtu, 68), max_mtu);
  if (mtu != profile.mtu) {
    info.notes.push_back(fmt::format("mtu {} outside the device's {}..{}: using {}", profile.mtu,
                                     dev.min_mtu, max_mtu, mtu));
  }
  const int ret = rte_eth_dev_set_mtu(info.port_id, mtu);
  if (ret == -ENOTSUP) {
    info.notes.push_back(fmt::format("{} cannot set the MTU (ENOTSUP): keeping its own",
                                     info.driver));
  } else if (ret != 0) {
    return Error{fmt::format("{}: rte_eth_dev_set_mtu({}) failed: {}: lower mtu in {}",
                             port_label(info.port_id, info.driver), mtu, rte_strerror(-ret),
                             origin_or_default(profile, "mtu"))};
  }
  uint16_t actual = 0;
  info.mtu = rte_eth_dev_get_mtu(info.port_id, &actual) == 0 ? actual : mtu;
  return {};
}

// rte_eth_dev_configure, descriptor counts and MTU: the steps that change the device.
Result<void> apply_device_config(const DriverProfile& profile, const rte_eth_dev_info& dev,
                                 PortPlan& plan) {
  PortInfo& info = plan.info;
  const std::string label = port_label(info.port_id, info.driver);
  rte_eth_conf conf{};
  conf.rxmode.mq_mode = info.software_dispatch ? RTE_ETH_MQ_RX_NONE : RTE_ETH_MQ_RX_RSS;
  conf.rxmode.offloads = plan.rx_offload_flags;
  conf.txmode.mq_mode = RTE_ETH_MQ_TX_NONE;
  conf.txmode.offloads = plan.tx_offload_flags;
  if (!info.software_dispatch) {
    conf.rx_adv_conf.rss_conf.rss_hf = plan.rss_hf;
    if (dev.hash_key_size != 0) {
      conf.rx_adv_conf.rss_conf.rss_key = info.rss_key.data();
      conf.rx_adv_conf.rss_conf.rss_key_len = dev.hash_key_size;
      plan.key_set_at_configure = true;
    }
  }
  if (const int ret = rte_eth_dev_configure(info.port_id, info.rx_queues, info.tx_queues, &conf);
      ret != 0) {
    return Error{fmt::format(
        "{}: rte_eth_dev_configure({} rx, {} tx queues, rss {:#x}, offloads rx {:#x} tx {:#x}) "
        "failed: {}: check {} (rx_queues_max, rss_types, offloads)",
        label, info.rx_queues, info.tx_queues, plan.rss_hf, plan.rx_offload_flags,
        plan.tx_offload_flags, rte_strerror(-ret), profile.path)};
  }

  info.rx_desc = profile.rx_desc;
  info.tx_desc = profile.tx_desc;
  if (const int ret = rte_eth_dev_adjust_nb_rx_tx_desc(info.port_id, &info.rx_desc, &info.tx_desc);
      ret != 0) {
    return Error{fmt::format("{}: rte_eth_dev_adjust_nb_rx_tx_desc failed: {}", label,
                             rte_strerror(-ret))};
  }
  if (info.rx_desc != profile.rx_desc || info.tx_desc != profile.tx_desc) {
    info.notes.push_back(fmt::format("descriptors rx {} tx {} adjusted to the device: rx {} tx {}",
                                     profile.rx_desc, profile.tx_desc, info.rx_desc, info.tx_desc));
  }
  return apply_mtu(profile, dev, plan);
}

}  // namespace

Result<PortPlan> configure_port(const DriverProfile& profile, const PortRequest& req) {
  if (!rte_eth_dev_is_valid_port(req.port_id)) {
    return Error{fmt::format(
        "port {} does not exist ({} ports probed): check the --vdev / -a EAL arguments",
        req.port_id, rte_eth_dev_count_avail())};
  }
  if (req.workers == 0) {
    return Error{fmt::format("port {}: 0 workers requested: give at least one worker core",
                             req.port_id)};
  }
  rte_eth_dev_info dev{};
  if (const int ret = rte_eth_dev_info_get(req.port_id, &dev); ret != 0) {
    return Error{fmt::format("port {}: rte_eth_dev_info_get failed: {}", req.port_id,
                             rte_strerror(-ret))};
  }
  PortPlan plan;
  plan.profile = profile;
  plan.steer = req.steer;
  PortInfo& info = plan.info;
  info.port_id = req.port_id;
  info.driver = dev.driver_name != nullptr ? dev.driver_name : "";
  std::array<char, RTE_ETH_NAME_MAX_LEN> name{};
  if (rte_eth_dev_get_name_by_port(req.port_id, name.data()) == 0) info.name = name.data();
  info.profile = profile.path;
  info.workers = req.workers;
  info.socket_id = rte_eth_dev_socket_id(req.port_id);
  const std::string label = port_label(req.port_id, info.driver);
  if (std::find(profile.match.begin(), profile.match.end(), info.driver) == profile.match.end()) {
    info.notes.push_back(fmt::format("profile {} does not list driver {} in 'match'", profile.path,
                                     info.driver));
  }

  // Decisions first: nothing on the device changes until they all hold.
  if (profile.flow_isolate && req.steer.empty()) {
    return Error{fmt::format(
        "{}: flow_isolate = true ({}) but no traffic to steer: give the local address and port "
        "(e.g. 198.18.0.1:80), or set flow_isolate = false to take all traffic",
        label, origin_or_default(profile, "flow_isolate"))};
  }
  if (auto r = plan_queues(profile, req, dev, plan); !r) return Error{r.error()};
  plan_offloads(profile, dev, plan);
  // The key: the profile's pattern repeated to the device's key size.
  const size_t key_len = dev.hash_key_size != 0 ? dev.hash_key_size : kRssKeyLenDefault;
  if (profile.rss_key.size() > key_len) {
    return Error{fmt::format("{}: rss_key ({}) is {} bytes but {} takes {}: shorten it", label,
                             origin_or_default(profile, "rss_key"), profile.rss_key.size(),
                             info.driver, key_len)};
  }
  // (The software hash reads at least 16 bytes.)
  info.rss_key = repeat_key(profile.rss_key, std::max<size_t>(key_len, 16));

  // Isolation must precede rte_eth_dev_configure(); undone if a later step fails.
  if (profile.flow_isolate) {
    if (auto r = enter_isolated_mode(req.port_id); !r) return Error{r.error()};
    info.flow_isolated = true;
  }
  if (auto r = apply_device_config(profile, dev, plan); !r) {
    if (info.flow_isolated) {
      rte_flow_error err{};
      (void)rte_flow_isolate(req.port_id, 0, &err);
    }
    return Error{r.error()};
  }
  return plan;
}

}  // namespace synmill::dp
