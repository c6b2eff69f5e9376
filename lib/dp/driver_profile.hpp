#pragma once
// A driver profile: how synmill configures one NIC family or virtual device.
// Profiles live in drivers-config/<name>.conf (format documented in
// drivers-config/README.md): `key = value` lines, `#` comments. A port finds
// its profile by its PMD's driver name (rte_eth_dev_info.driver_name); the
// command line may override any key per port. All errors are one line naming
// the file and line (or the override), the key, and the fix.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dp/result.hpp"

namespace synmill::dp {

// How flows are spread over RX queues.
enum class RssMode : uint8_t {
  kNone,                  // no RSS: one RX queue (software dispatch if several workers)
  kToeplitzSymmetricKey,  // plain Toeplitz with a symmetric key (0x6d5a repeated)
  kSymmetricToeplitz,     // the NIC's own symmetric Toeplitz function (rte_flow RSS
                          // action, RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ);
                          // falls back to kToeplitzSymmetricKey where refused
};

// Offloads a profile may request; each is enabled only if the port advertises
// it (rte_eth_dev_info.{rx,tx}_offload_capa).
using OffloadMask = uint32_t;
namespace offload {
inline constexpr OffloadMask kRxIpCksum = 1u << 0;     // RTE_ETH_RX_OFFLOAD_IPV4_CKSUM
inline constexpr OffloadMask kRxTcpCksum = 1u << 1;    // RTE_ETH_RX_OFFLOAD_TCP_CKSUM
inline constexpr OffloadMask kRxRssHash = 1u << 2;     // RTE_ETH_RX_OFFLOAD_RSS_HASH
inline constexpr OffloadMask kTxIpCksum = 1u << 3;     // RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
inline constexpr OffloadMask kTxTcpCksum = 1u << 4;    // RTE_ETH_TX_OFFLOAD_TCP_CKSUM
inline constexpr OffloadMask kTxMultiSegs = 1u << 5;   // RTE_ETH_TX_OFFLOAD_MULTI_SEGS
inline constexpr OffloadMask kMbufFastFree = 1u << 6;  // RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE
inline constexpr OffloadMask kAll = (1u << 7) - 1;
}  // namespace offload

// Packet kinds the NIC hashes for RSS (masked by the port's flow_type_rss_offloads).
using RssTypeMask = uint32_t;
namespace rss_type {
inline constexpr RssTypeMask kIpv4 = 1u << 0;     // RTE_ETH_RSS_IPV4
inline constexpr RssTypeMask kIpv4Tcp = 1u << 1;  // RTE_ETH_RSS_NONFRAG_IPV4_TCP
inline constexpr RssTypeMask kIpv4Udp = 1u << 2;  // RTE_ETH_RSS_NONFRAG_IPV4_UDP
inline constexpr RssTypeMask kIpv6 = 1u << 3;     // RTE_ETH_RSS_IPV6
inline constexpr RssTypeMask kIpv6Tcp = 1u << 4;  // RTE_ETH_RSS_NONFRAG_IPV6_TCP
inline constexpr RssTypeMask kIpv6Udp = 1u << 5;  // RTE_ETH_RSS_NONFRAG_IPV6_UDP
}  // namespace rss_type

struct DriverProfile {
  std::string name;  // file stem: "tap" for drivers-config/tap.conf
  std::string path;  // the file it was read from
  std::vector<std::string> match;  // driver names this profile applies to

  uint16_t rx_queues_max = 1024;  // upper bound on RX queues (further capped by the device)
  uint16_t tx_queues_max = 1024;
  uint16_t rx_desc = 1024;  // per queue; clamped by rte_eth_dev_adjust_nb_rx_tx_desc
  uint16_t tx_desc = 1024;
  uint16_t mtu = 1500;

  RssMode rss = RssMode::kToeplitzSymmetricKey;
  // Key pattern, repeated to the device's key size (40 or 52 bytes).
  std::vector<uint8_t> rss_key = {0x6d, 0x5a};
  RssTypeMask rss_types = rss_type::kIpv4Tcp;
  OffloadMask offloads = 0;

  bool flow_isolate = false;       // rte_flow isolated mode (bifurcated NICs: mlx5)
  bool software_dispatch = false;  // one RX queue; flows handed to workers in software
  bool link_state = true;          // the PMD's link status is reliable: no polling while down

  // Where each key was last set: "drivers-config/tap.conf:7" or
  // "override 'rx_desc=512'". Used in messages about conflicting keys.
  std::map<std::string, std::string, std::less<>> origin;

  bool has(OffloadMask o) const { return (offloads & o) == o; }
};

// Parses profile text. `path` names the source in messages and fills
// DriverProfile::path; `name` is the profile's name (the file stem).
Result<DriverProfile> parse_profile(std::string_view text, std::string_view path,
                                    std::string_view name);

// Reads and parses one file; the name is the file's stem.
Result<DriverProfile> load_profile(const std::string& path);

// Scans `dir` for *.conf files and returns the profile whose `match` list
// names `driver`. Fails on any unreadable or invalid file in the directory, on
// two profiles matching the same driver, and when none matches.
Result<DriverProfile> find_profile(const std::string& dir, std::string_view driver);

// Loads every profile in `dir`, sorted by name.
Result<std::vector<DriverProfile>> load_profile_dir(const std::string& dir);

// One override: key and value, as given by the user.
using ProfileOverride = std::pair<std::string, std::string>;

// Splits "rx_desc=512,mtu=9000" into overrides. A comma-separated piece with
// no '=' continues the previous value, so list values need no quoting:
// "offloads=rx_ip_cksum,tx_tcp_cksum,mtu=9000" sets offloads and mtu.
Result<std::vector<ProfileOverride>> parse_overrides(std::string_view spec);

// Applies overrides on top of `profile` and re-validates it. `origin` names
// where they came from in messages (e.g. "--port-opt 0").
Result<void> apply_overrides(DriverProfile& profile, const std::vector<ProfileOverride>& overrides,
                             std::string_view origin);

std::string_view to_string(RssMode mode);

}  // namespace synmill::dp
