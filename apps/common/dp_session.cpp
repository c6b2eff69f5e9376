#include "common/dp_session.hpp"

#include <climits>

#include <fmt/format.h>

#include "dp/port.hpp"
#include "dp/rte.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <rte_pdump.h>
#pragma GCC diagnostic pop

namespace synmill::apps {

DpResources::~DpResources() {
  if (port) {
    if (auto r = dp::close_port(*port); !r) fmt::print(stderr, "{}\n", r.error());
  }
  if (pool != nullptr) rte_mempool_free(pool);
  if (pdump) rte_pdump_uninit();
  if (eal) eal->cleanup();
}

std::vector<unsigned> enabled_lcores() {
  std::vector<unsigned> out;
  for (unsigned id = rte_get_next_lcore(UINT_MAX, 0, 0); id < RTE_MAX_LCORE; id = rte_get_next_lcore(id, 0, 0)) {
    out.push_back(id);
  }
  return out;
}

std::vector<unsigned> worker_lcores_of(const std::vector<unsigned>& lcores, unsigned main_lcore) {
  std::vector<unsigned> out;
  for (unsigned id : lcores) {
    if (lcores.size() == 1 || id != main_lcore) out.push_back(id);
  }
  return out;
}

uint32_t dispatch_slots(bool software_dispatch, uint16_t workers, uint16_t tx_queues) {
  if (!software_dispatch || workers < 2) return 0;
  return uint32_t{workers - 1u} * kDispatchRing * (tx_queues >= workers ? 1u : 2u);
}

dp::Result<dp::PortPlan> configure_for(DpResources& res, const dp::DriverProfile& profile, uint16_t port_id,
                                       uint16_t workers, std::vector<dp::SteerRule> steer) {
  dp::PortRequest request;
  request.port_id = port_id;
  request.workers = workers;
  request.steer = std::move(steer);
  auto plan = dp::configure_port(profile, request);
  if (!plan) return plan;
  res.port = port_id;
  const bool dispatching = workers > 1 && plan->info.software_dispatch;
  if (plan->info.tx_queues < workers && !dispatching) {
    return dp::Error{fmt::format("port {} got {} TX queues for {} workers: use fewer lcores", port_id,
                                 plan->info.tx_queues, workers)};
  }
  return plan;
}

dp::Result<dp::PortInfo> start_with_pool(DpResources& res, const dp::PortPlan& plan, dp::MbufPoolSpec spec,
                                         uint16_t workers) {
  spec.dispatch_slots = dispatch_slots(plan.info.software_dispatch, workers, plan.info.tx_queues);
  auto pool = dp::create_mbuf_pool(spec);
  if (!pool) return dp::Error{pool.error()};
  res.pool = *pool;
  return dp::start_port(plan, res.pool);
}

void assign_queues(dp::WorkerSettings& s, uint16_t index, uint16_t workers, const dp::PortInfo& port) {
  const bool dispatching = workers > 1 && port.software_dispatch;
  s.index = index;
  s.port_id = port.port_id;
  s.rx_queue = dispatching ? 0 : index;
  s.tx_queue = dispatching && port.tx_queues < workers ? 0 : index;
  s.port = &port;
}

int launch_worker(void* arg) {
  const auto* l = static_cast<const Launch*>(arg);
  l->worker->run(*l->state);
  return 0;
}

}  // namespace synmill::apps
