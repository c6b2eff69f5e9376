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

int launch_worker(void* arg) {
  const auto* l = static_cast<const Launch*>(arg);
  l->worker->run(*l->state);
  return 0;
}

}  // namespace synmill::apps
