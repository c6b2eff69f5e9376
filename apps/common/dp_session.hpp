#pragma once
// What the DPDK binaries (synmill, synmill-gen) share around their workers:
// the resources start-up creates, released in reverse order, the lcores the
// EAL gave, and launching a worker's poll loop on an lcore.
#include <atomic>
#include <optional>
#include <vector>

#include "dp/eal.hpp"
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

struct Launch {
  dp::Worker* worker = nullptr;
  const std::atomic<int>* state = nullptr;
};

// rte_eal_remote_launch entry: runs l->worker until l->state says stop.
int launch_worker(void* launch);

}  // namespace synmill::apps
