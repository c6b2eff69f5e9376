#include "dp/mbuf_pool.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dp/port_info.hpp"
#include "dp/rte.hpp"

namespace synmill::dp {
namespace {

constexpr uint32_t kCacheSizeMax = 256;  // below RTE_MEMPOOL_CACHE_MAX_SIZE (512)
constexpr uint32_t kFrameOverhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 4;  // + one VLAN tag
static_assert(kCacheSizeMax <= RTE_MEMPOOL_CACHE_MAX_SIZE);

uint64_t mul_sat(uint64_t a, uint64_t b) { return std::min<uint64_t>(a * b, UINT32_MAX); }

}  // namespace

uint16_t data_room_for_mtu(uint16_t mtu) {
  const uint32_t needed = RTE_PKTMBUF_HEADROOM + uint32_t{mtu} + kFrameOverhead;
  return static_cast<uint16_t>(std::max<uint32_t>(needed, RTE_MBUF_DEFAULT_BUF_SIZE));
}

Result<MbufBudget> plan_mbuf_pool(const MbufPoolSpec& s) {
  MbufBudget b;
  b.descriptors = static_cast<uint32_t>(
      std::min<uint64_t>(mul_sat(s.rx_queues, s.rx_desc) + mul_sat(s.tx_queues, s.tx_desc), UINT32_MAX));
  b.connections = static_cast<uint32_t>(mul_sat(s.connections, s.mbufs_per_connection));
  b.bursts = static_cast<uint32_t>(mul_sat(s.lcores, 2ull * s.burst));
  b.dispatch = s.dispatch_slots;
  const uint64_t without_caches =
      uint64_t{b.descriptors} + b.connections + b.bursts + b.dispatch;
  // rte_mempool_create() wants cache_size <= n / 1.5 and caches hold up to 1.5x.
  b.cache_size = s.lcores == 0 ? 0 : static_cast<uint32_t>(std::min<uint64_t>(kCacheSizeMax, without_caches / 4));
  b.caches = static_cast<uint32_t>(mul_sat(s.lcores, b.cache_size + b.cache_size / 2));
  b.needed = static_cast<uint32_t>(std::min<uint64_t>(without_caches + b.caches, UINT32_MAX));
  if (s.count != 0 && s.count < b.needed) {
    return Error{fmt::format(
        "mbuf pool '{}': {} mbufs configured but {} needed ({}x{} RX + {}x{} TX descriptors, {} in "
        "per-core caches, {} in bursts, {} connections x {} = {}, {} in dispatch rings): raise the "
        "pool to at least {} mbufs or lower the connection count",
        s.name, s.count, b.needed, s.rx_queues, s.rx_desc, s.tx_queues, s.tx_desc, b.caches, b.bursts,
        s.connections, s.mbufs_per_connection, b.connections, b.dispatch, b.needed, b.needed)};
  }
  b.count = s.count != 0 ? s.count : b.needed;
  b.cache_size = std::min<uint32_t>(b.cache_size, b.count * 2 / 3);
  return b;
}

MbufPoolSpec mbuf_pool_spec_for(const PortInfo& port, uint32_t lcores, uint32_t connections,
                                uint32_t mbufs_per_connection) {
  MbufPoolSpec s;
  s.name = fmt::format("synmill_mbufs_p{}", port.port_id);
  s.socket_id = port.socket_id;
  s.rx_queues = port.rx_queues;
  s.rx_desc = port.rx_desc;
  s.tx_queues = port.tx_queues;
  s.tx_desc = port.tx_desc;
  s.lcores = lcores;
  s.connections = connections;
  s.mbufs_per_connection = mbufs_per_connection;
  s.mtu = port.mtu;
  return s;
}

Result<rte_mempool*> create_mbuf_pool(const MbufPoolSpec& spec) {
  auto budget = plan_mbuf_pool(spec);
  if (!budget) return Error{budget.error()};
  const uint16_t room = data_room_for_mtu(spec.mtu);
  rte_mempool* pool = rte_pktmbuf_pool_create(spec.name.c_str(), budget->count, budget->cache_size, 0,
                                              room, spec.socket_id);
  if (pool != nullptr) return pool;

  const int err = rte_errno;
  const uint64_t mib =
      (uint64_t{budget->count} * (room + sizeof(rte_mbuf) + 64) + (1u << 20) - 1) >> 20;
  if (err == EEXIST) {
    return Error{fmt::format("mbuf pool '{}': a mempool of that name already exists: give each pool "
                             "its own name",
                             spec.name)};
  }
  return Error{fmt::format(
      "mbuf pool '{}': cannot allocate {} mbufs of {} bytes (about {} MiB) on socket {}: {}: reserve "
      "more hugepages or raise -m by {} MiB, or lower the connection count",
      spec.name, budget->count, room, mib, spec.socket_id, rte_strerror(err), mib)};
}

}  // namespace synmill::dp
