#include "dp/port.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dp/flow_steer.hpp"
#include "dp/port_rss.hpp"
#include "dp/rte.hpp"

namespace synmill::dp {
namespace {

std::string port_label(uint16_t port_id, const std::string& driver) {
  return fmt::format("port {} ({})", port_id, driver);
}

}  // namespace

std::string driver_name_of(uint16_t port_id) {
  rte_eth_dev_info dev{};
  if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &dev) != 0 ||
      dev.driver_name == nullptr) {
    return {};
  }
  return dev.driver_name;
}

std::string receive_ipv6_multicast(uint16_t port_id, const std::vector<wire::Ipv6Addr>& addrs) {
  std::vector<rte_ether_addr> macs;
  const auto add = [&](const wire::MacAddr& m) {
    rte_ether_addr e{};
    std::copy(m.begin(), m.end(), std::begin(e.addr_bytes));
    const bool seen = std::any_of(macs.begin(), macs.end(),
                                  [&](const rte_ether_addr& x) { return rte_is_same_ether_addr(&x, &e) != 0; });
    if (!seen) macs.push_back(e);
  };
  add(wire::ipv6_multicast_mac(wire::kAllNodesAddr));
  for (const wire::Ipv6Addr& a : addrs) add(wire::ipv6_multicast_mac(wire::solicited_node_addr(a)));
  const int ret = rte_eth_dev_set_mc_addr_list(port_id, macs.data(), static_cast<uint32_t>(macs.size()));
  if (ret == 0) return fmt::format("IPv6: {} multicast MACs in the port's filter (all-nodes, solicited-node)", macs.size());
  const int all = rte_eth_allmulticast_enable(port_id);
  if (all == 0) {
    return fmt::format("IPv6: multicast filter list refused ({}): all-multicast mode on", rte_strerror(-ret));
  }
  return fmt::format("IPv6: neither a multicast filter list ({}) nor all-multicast mode ({}): Neighbor "
                     "Solicitations to a solicited-node group reach us only if the port filters nothing",
                     rte_strerror(-ret), rte_strerror(-all));
}

Result<PortInfo> start_port(const PortPlan& plan, rte_mempool* pool) {
  PortInfo info = plan.info;
  const uint16_t port = info.port_id;
  const std::string label = port_label(port, info.driver);
  if (pool == nullptr) return Error{fmt::format("{}: no mbuf pool given", label)};
  rte_eth_dev_info dev{};
  if (const int ret = rte_eth_dev_info_get(port, &dev); ret != 0) {
    return Error{fmt::format("{}: rte_eth_dev_info_get failed: {}", label, rte_strerror(-ret))};
  }
  const uint32_t room = rte_pktmbuf_data_room_size(pool);
  if ((plan.rx_offload_flags & RTE_ETH_RX_OFFLOAD_SCATTER) == 0 &&
      room < RTE_PKTMBUF_HEADROOM + uint32_t{info.mtu} + RTE_ETHER_HDR_LEN) {
    return Error{fmt::format("{}: mbuf data room {} too small for mtu {}: create the pool with "
                             "mtu = {} (mbuf_pool_spec_for)",
                             label, room, info.mtu, info.mtu)};
  }
  const int socket = info.socket_id >= 0 ? info.socket_id : static_cast<int>(rte_socket_id());
  rte_eth_rxconf rxconf = dev.default_rxconf;
  rxconf.offloads = plan.rx_offload_flags;
  for (uint16_t q = 0; q < info.rx_queues; ++q) {
    if (const int ret = rte_eth_rx_queue_setup(port, q, info.rx_desc, static_cast<unsigned>(socket),
                                               &rxconf, pool);
        ret != 0) {
      return Error{fmt::format("{}: RX queue {} setup ({} descriptors) failed: {}: lower rx_desc "
                               "in {} or grow the mbuf pool",
                               label, q, info.rx_desc, rte_strerror(-ret), plan.profile.path)};
    }
  }
  rte_eth_txconf txconf = dev.default_txconf;
  txconf.offloads = plan.tx_offload_flags;
  for (uint16_t q = 0; q < info.tx_queues; ++q) {
    if (const int ret =
            rte_eth_tx_queue_setup(port, q, info.tx_desc, static_cast<unsigned>(socket), &txconf);
        ret != 0) {
      return Error{fmt::format("{}: TX queue {} setup ({} descriptors) failed: {}: lower tx_desc "
                               "in {}",
                               label, q, info.tx_desc, rte_strerror(-ret), plan.profile.path)};
    }
  }
  if (const int ret = rte_eth_dev_start(port); ret != 0) {
    return Error{fmt::format("{}: rte_eth_dev_start failed: {}: see the PMD's log lines above",
                             label, rte_strerror(-ret))};
  }
  if (const int ret = rte_eth_promiscuous_disable(port); ret != 0) {
    info.notes.push_back(fmt::format("promiscuous mode could not be turned off: {}",
                                     rte_strerror(-ret)));
  }
  if (auto r = finish_rss(plan, info); !r) {
    (void)flush_flows(port);
    (void)rte_eth_dev_stop(port);
    return Error{r.error()};
  }

  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port, &link) == 0) {
    info.link_up = link.link_status == RTE_ETH_LINK_UP;
    info.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
    info.link_full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  }
  rte_ether_addr mac{};
  if (rte_eth_macaddr_get(port, &mac) == 0) {
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), info.mac.begin());
  }
  return info;
}

Result<void> stop_port(uint16_t port_id) {
  if (!rte_eth_dev_is_valid_port(port_id)) {
    return Error{fmt::format("port {} does not exist", port_id)};
  }
  auto flushed = flush_flows(port_id);
  if (const int ret = rte_eth_dev_stop(port_id); ret != 0) {
    return Error{fmt::format("port {}: rte_eth_dev_stop failed: {}", port_id, rte_strerror(-ret))};
  }
  return flushed;
}

Result<void> close_port(uint16_t port_id) {
  auto stopped = stop_port(port_id);
  if (!stopped) return stopped;
  if (const int ret = rte_eth_dev_close(port_id); ret != 0) {
    return Error{fmt::format("port {}: rte_eth_dev_close failed: {}", port_id, rte_strerror(-ret))};
  }
  return {};
}

}  // namespace synmill::dp
