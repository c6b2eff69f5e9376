#include "dp/offload_map.hpp"

#include <array>

#include "dp/rte.hpp"

namespace synmill::dp {
namespace {

struct OffloadFlag {
  OffloadMask ours;
  uint64_t rx;
  uint64_t tx;
};

constexpr std::array kOffloadFlags{
    OffloadFlag{offload::kRxIpCksum, RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, 0},
    OffloadFlag{offload::kRxTcpCksum, RTE_ETH_RX_OFFLOAD_TCP_CKSUM, 0},
    OffloadFlag{offload::kRxRssHash, RTE_ETH_RX_OFFLOAD_RSS_HASH, 0},
    OffloadFlag{offload::kTxIpCksum, 0, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM},
    OffloadFlag{offload::kTxTcpCksum, 0, RTE_ETH_TX_OFFLOAD_TCP_CKSUM},
    OffloadFlag{offload::kTxMultiSegs, 0, RTE_ETH_TX_OFFLOAD_MULTI_SEGS},
    OffloadFlag{offload::kMbufFastFree, 0, RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE},
};

struct RssFlag {
  RssTypeMask ours;
  uint64_t hf;
};

constexpr std::array kRssFlags{
    RssFlag{rss_type::kIpv4, RTE_ETH_RSS_IPV4},
    RssFlag{rss_type::kIpv4Tcp, RTE_ETH_RSS_NONFRAG_IPV4_TCP},
    RssFlag{rss_type::kIpv4Udp, RTE_ETH_RSS_NONFRAG_IPV4_UDP},
    RssFlag{rss_type::kIpv6, RTE_ETH_RSS_IPV6},
    RssFlag{rss_type::kIpv6Tcp, RTE_ETH_RSS_NONFRAG_IPV6_TCP},
    RssFlag{rss_type::kIpv6Udp, RTE_ETH_RSS_NONFRAG_IPV6_UDP},
};

}  // namespace

uint64_t rx_offload_flags(OffloadMask mask) {
  uint64_t flags = 0;
  for (const OffloadFlag& f : kOffloadFlags) {
    if ((mask & f.ours) != 0) flags |= f.rx;
  }
  return flags;
}

uint64_t tx_offload_flags(OffloadMask mask) {
  uint64_t flags = 0;
  for (const OffloadFlag& f : kOffloadFlags) {
    if ((mask & f.ours) != 0) flags |= f.tx;
  }
  return flags;
}

OffloadMask offloads_from_flags(uint64_t rx, uint64_t tx) {
  OffloadMask mask = 0;
  for (const OffloadFlag& f : kOffloadFlags) {
    if ((rx & f.rx) == f.rx && (tx & f.tx) == f.tx) mask |= f.ours;
  }
  return mask;
}

uint64_t rss_hf_flags(RssTypeMask mask) {
  uint64_t hf = 0;
  for (const RssFlag& f : kRssFlags) {
    if ((mask & f.ours) != 0) hf |= f.hf;
  }
  return hf;
}

}  // namespace synmill::dp
