#pragma once
// Translation between the profile's offload / RSS-type bits and DPDK's
// RTE_ETH_{RX,TX}_OFFLOAD_* and RTE_ETH_RSS_* flags.
#include <cstdint>

#include "dp/driver_profile.hpp"

namespace synmill::dp {

uint64_t rx_offload_flags(OffloadMask mask);
uint64_t tx_offload_flags(OffloadMask mask);

// The profile offloads whose DPDK flags are all present in (rx, tx).
OffloadMask offloads_from_flags(uint64_t rx, uint64_t tx);

uint64_t rss_hf_flags(RssTypeMask mask);

}  // namespace synmill::dp
