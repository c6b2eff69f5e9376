#pragma once
// What a configured and started port turned out to be: the facts the poll loop
// needs (queues, RSS key/function/RETA for flow steering, which checksums the
// NIC fills) and the start-up banner prints.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dp/driver_profile.hpp"
#include "dp/rss.hpp"

namespace synmill::dp {

struct PortInfo {
  uint16_t port_id = 0;
  std::string name;          // device name: "net_tap0", "0000:3b:00.0"
  std::string driver;        // rte_eth_dev_info.driver_name: "net_tap", "mlx5_pci"
  std::string profile;       // path of the profile used
  int socket_id = -1;        // NUMA socket of the device (-1: any)
  uint16_t workers = 1;      // worker cores the port was configured for

  uint16_t rx_queues = 1;    // RX queue i is polled by worker i
  uint16_t tx_queues = 1;    // TX queue i belongs to worker i (fewer: workers share)
  uint16_t rx_desc = 0;      // per queue, after the device's limits
  uint16_t tx_desc = 0;
  uint16_t mtu = 1500;       // in effect (read back from the port)

  // Flow steering. With RSS, the NIC puts a segment with hash h on queue
  // queue_for(h, reta); with software dispatch, worker queue_for(h, reta)
  // owns it. Either way hasher() computes h.
  RssMode rss = RssMode::kNone;  // in effect (kNone with software dispatch)
  RssFunction rss_function = RssFunction::kToeplitz;
  std::vector<uint8_t> rss_key;  // the key the port (or the dispatcher) hashes with
  RssTypeMask rss_types = 0;     // packet kinds the NIC hashes (after the device's mask)
  std::vector<uint16_t> reta;    // redirection table: entry -> queue / worker
  bool reta_from_device = false; // false: synthesized (software dispatch, unreadable)
  bool software_dispatch = false;
  bool flow_isolated = false;    // rte_flow isolated mode: only steered traffic arrives

  OffloadMask offloads = 0;          // enabled on the port
  OffloadMask offloads_refused = 0;  // requested by the profile, not advertised

  std::array<uint8_t, 6> mac{};
  bool link_up = false;
  bool link_state = true;    // the profile trusts the PMD's link status (LinkWatch applies)
  uint32_t link_speed_mbps = 0;
  bool link_full_duplex = false;

  // Where the result differs from the profile and why, one line each.
  std::vector<std::string> notes;

  RssHasher hasher() const { return RssHasher(rss_key, rss_function); }
  // The TX path fills these checksums itself unless the NIC does.
  bool tx_ip_cksum_offloaded() const { return (offloads & offload::kTxIpCksum) != 0; }
  bool tx_tcp_cksum_offloaded() const { return (offloads & offload::kTxTcpCksum) != 0; }
  // RX checksum status (mbuf ol_flags) is valid only if these are on.
  bool rx_ip_cksum_offloaded() const { return (offloads & offload::kRxIpCksum) != 0; }
  bool rx_tcp_cksum_offloaded() const { return (offloads & offload::kRxTcpCksum) != 0; }
};

// "02:00:00:00:00:01"
std::string format_mac(const std::array<uint8_t, 6>& mac);

// The start-up banner for one port, several lines, each ending in '\n'.
std::string format_port_info(const PortInfo& info);

}  // namespace synmill::dp
