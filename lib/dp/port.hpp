#pragma once
// Configures and starts an ethdev port from its driver profile.
//
//   auto profile = find_profile("drivers-config", driver_name_of(port_id));
//   auto plan = configure_port(*profile, {.port_id = 0, .workers = 4});
//   auto pool = create_mbuf_pool(mbuf_pool_spec_for(plan->info, 4, conns, 2));
//   auto info = start_port(*plan, *pool);     // PortInfo for the banner and poll loop
//   ...
//   close_port(0);
//
// With RSS, the port gets one RX/TX queue pair per worker and symmetric
// Toeplitz hashing, so both directions of a flow land on one worker. Without
// RSS (tap, memif, ring, af_packet, virtio, null) it gets one RX queue and the
// RX worker hands flows to their owners by the same hash (software dispatch).
// Every error is one line naming the port, the step, and the fix.
#include <cstdint>
#include <string>
#include <vector>

#include "dp/driver_profile.hpp"
#include "dp/flow_steer.hpp"
#include "dp/port_info.hpp"
#include "wire/ipv6_addr.hpp"
#include "dp/result.hpp"

struct rte_mempool;

namespace synmill::dp {

struct PortRequest {
  uint16_t port_id = 0;
  uint16_t workers = 1;  // worker cores that own flows of this port
  // Traffic to take from a flow-isolated port (profile flow_isolate = true);
  // everything else stays with the kernel. Required in that mode.
  std::vector<SteerRule> steer;
};

// A configured (not yet started) port: what start_port() needs. info holds
// everything known before start (queues, descriptors, MTU, offloads, RSS plan).
struct PortPlan {
  PortInfo info;
  DriverProfile profile;
  std::vector<SteerRule> steer;
  uint64_t rx_offload_flags = 0;  // RTE_ETH_RX_OFFLOAD_* in effect
  uint64_t tx_offload_flags = 0;  // RTE_ETH_TX_OFFLOAD_* in effect
  uint64_t rss_hf = 0;            // RTE_ETH_RSS_* in effect
  bool key_set_at_configure = false;  // false: set with rte_eth_dev_rss_hash_update after start
};

// The PMD's driver name (rte_eth_dev_info.driver_name) of a port, for
// find_profile(); empty if the port does not exist.
std::string driver_name_of(uint16_t port_id);

// Configures the device: flow isolation, queue counts, RSS, offloads,
// descriptor counts clamped to the device, MTU.
Result<PortPlan> configure_port(const DriverProfile& profile, const PortRequest& request);

// Sets up the queues with mbufs from `pool`, starts the port, turns
// promiscuous mode off, installs steering rules, reads back the RSS key and
// RETA, the link and the MAC address.
Result<PortInfo> start_port(const PortPlan& plan, rte_mempool* pool);

// Has the started port deliver the multicast frames IPv6 Neighbor Discovery
// needs (RFC 4861 §7.2.1): all-nodes (ff02::1) and the solicited-node group
// of each address, by the port's multicast filter list, or else by
// all-multicast mode. Returns a line for the port's notes: what was done, or
// why neither could be (then NS to a solicited-node group may not arrive;
// net_tap and net_memif filter nothing and need neither).
std::string receive_ipv6_multicast(uint16_t port_id, const std::vector<wire::Ipv6Addr>& addrs);

// Removes flow rules and stops the port (it may be started again).
Result<void> stop_port(uint16_t port_id);

// Stops the port if needed and releases it (rte_eth_dev_close).
Result<void> close_port(uint16_t port_id);

}  // namespace synmill::dp
