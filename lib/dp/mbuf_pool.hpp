#pragma once
// Sizing and creation of the packet-buffer pool. Every mbuf that can be held at
// once must exist up front (no allocation on the hot path): descriptors of
// every RX/TX queue, per-core mempool caches, the packets of the bursts in
// flight on each core, the segments connections keep (retransmission and
// reassembly queues), and those parked in software-dispatch rings.
#include <cstdint>
#include <string>

#include "dp/result.hpp"

struct rte_mempool;

namespace synmill::dp {

struct PortInfo;

struct MbufPoolSpec {
  std::string name = "synmill_mbufs";
  int socket_id = -1;  // SOCKET_ID_ANY
  uint32_t rx_queues = 1;
  uint32_t rx_desc = 1024;
  uint32_t tx_queues = 1;
  uint32_t tx_desc = 1024;
  uint32_t lcores = 1;  // cores that allocate or free mbufs (one cache each)
  uint32_t burst = 32;  // packets per rx/tx burst
  uint32_t connections = 0;           // connections the tables hold at most
  uint32_t mbufs_per_connection = 0;  // mbufs one connection may keep queued
  uint32_t dispatch_slots = 0;        // capacity of the software-dispatch rings
  uint32_t count = 0;  // pool size chosen by the user; 0: the computed need
  uint16_t mtu = 1500;  // each mbuf holds one frame of this MTU
};

struct MbufBudget {
  uint32_t descriptors = 0;  // rx_queues*rx_desc + tx_queues*tx_desc
  uint32_t cache_size = 0;   // per-core mempool cache
  uint32_t caches = 0;       // lcores * cache flush threshold (1.5 * cache_size)
  uint32_t bursts = 0;       // lcores * 2 bursts (RX batch + TX buffer)
  uint32_t connections = 0;  // connections * mbufs_per_connection
  uint32_t dispatch = 0;
  uint32_t needed = 0;       // sum of the above
  uint32_t count = 0;        // pool size to create
};

// The mbuf data room (headroom included) that holds one frame of `mtu`.
uint16_t data_room_for_mtu(uint16_t mtu);

// Computes the budget; fails with a one-line message if spec.count is set and
// smaller than what the queues and connections need.
Result<MbufBudget> plan_mbuf_pool(const MbufPoolSpec& spec);

// A spec for the queues and MTU of a configured port.
MbufPoolSpec mbuf_pool_spec_for(const PortInfo& port, uint32_t lcores, uint32_t connections,
                                uint32_t mbufs_per_connection);

// Plans and creates the pool (rte_pktmbuf_pool_create) on spec.socket_id.
Result<rte_mempool*> create_mbuf_pool(const MbufPoolSpec& spec);

}  // namespace synmill::dp
