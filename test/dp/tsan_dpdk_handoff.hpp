// Force-included (-include) into every file of the ThreadSanitizer build only
// (scripts/build.sh tsan; meson.build adds it when b_sanitize=thread).
//
// Debian's DPDK is not built with TSan. When an mbuf goes from one thread to
// another it passes through DPDK's rings and mempool drivers (librte_net_ring,
// librte_mempool_ring), whose atomics TSan never sees, so it would report
// every later touch of the packet (parsing, checksums, the mbuf header) as a
// race with the thread that wrote it. These wrappers tell TSan what DPDK
// guarantees: an mbuf released when it leaves our code (transmit, free) is
// acquired by the thread that next receives or allocates it. Nothing else is
// modelled or suppressed: synmill's own sharing (snapshots, table queries,
// dispatch rings, run state) is checked as written.
#pragma once
#if defined(__cplusplus) && __has_include(<rte_mbuf.h>) && __has_include(<rte_ethdev.h>)
#include <rte_config.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#pragma GCC diagnostic pop

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

static inline rte_mbuf* synmill_tsan_pktmbuf_alloc(rte_mempool* mp) {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m != nullptr) __tsan_acquire(m);
  return m;
}
static inline void synmill_tsan_pktmbuf_free(rte_mbuf* m) {
  if (m != nullptr) __tsan_release(m);
  rte_pktmbuf_free(m);
}
static inline uint16_t synmill_tsan_eth_rx_burst(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  const uint16_t got = rte_eth_rx_burst(port, queue, pkts, n);
  for (uint16_t i = 0; i < got; ++i) __tsan_acquire(pkts[i]);
  return got;
}
static inline uint16_t synmill_tsan_eth_tx_burst(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) __tsan_release(pkts[i]);  // those not sent stay ours: released twice is harmless
  return rte_eth_tx_burst(port, queue, pkts, n);
}
#define rte_pktmbuf_alloc synmill_tsan_pktmbuf_alloc
#define rte_pktmbuf_free synmill_tsan_pktmbuf_free
#define rte_eth_rx_burst synmill_tsan_eth_rx_burst
#define rte_eth_tx_burst synmill_tsan_eth_tx_burst
#endif
