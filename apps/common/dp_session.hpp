#pragma once
// What the DPDK binaries (synmill, synmill-gen) share around their workers:
// the resources start-up creates, released in reverse order, the lcores the
// EAL gave, and launching a worker's poll loop on an lcore.
#include <atomic>
#include <optional>
#include <vector>

#include "dp/eal.hpp"
#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/worker.hpp"

struct rte_mempool;

namespace synmill::apps {

// Released in reverse order of creation; declare it before the workers so
// they free their mbufs into the pool first.
struct DpResources {
  std::optional<dp::Eal> eal;
  bool pdump = false;
  std::optional<uint16_t> port;  // configured: stop and close it
  rte_mempool* pool = nullptr;

  DpResources() = default;
  DpResources(const DpResources&) = delete;
  DpResources& operator=(const DpResources&) = delete;
  ~DpResources();
};

// The lcores the EAL enabled, main lcore included, in id order.
std::vector<unsigned> enabled_lcores();

// The worker lcores: every enabled lcore but the main one, or the main one
// alone when it is the only one (then the worker runs on the main thread).
std::vector<unsigned> worker_lcores_of(const std::vector<unsigned>& lcores, unsigned main_lcore);

// Segments worker 0 may park for each other worker on a port without RSS (and,
// when the port has fewer TX queues than workers, frames parked the other way).
inline constexpr uint32_t kDispatchRing = 1024;

// Mbufs the software-dispatch rings can hold (0 without dispatch).
uint32_t dispatch_slots(bool software_dispatch, uint16_t workers, uint16_t tx_queues);

// Configures `port_id` from `profile` for `workers` (res.port set, so it is
// closed on the way out). Fails if the port has fewer TX queues than workers
// and no software dispatch to route their frames through worker 0. `steer`:
// the traffic a flow-isolated port hands over (dp::PortRequest::steer).
dp::Result<dp::PortPlan> configure_for(DpResources& res, const dp::DriverProfile& profile, uint16_t port_id,
                                       uint16_t workers, std::vector<dp::SteerRule> steer = {});

// Creates the pool (spec, dispatch rings added) and starts the port with it.
dp::Result<dp::PortInfo> start_with_pool(DpResources& res, const dp::PortPlan& plan, dp::MbufPoolSpec spec,
                                         uint16_t workers);

// Worker i's queues: its own with RSS; with dispatch, RX queue 0 (worker 0
// polls it) and its own TX queue if the port has one per worker, else 0.
void assign_queues(dp::WorkerSettings& s, uint16_t index, uint16_t workers, const dp::PortInfo& port);

struct Launch {
  dp::Worker* worker = nullptr;
  const std::atomic<int>* state = nullptr;
};

// rte_eal_remote_launch entry: runs l->worker until l->state says stop.
int launch_worker(void* launch);

}  // namespace synmill::apps
