#include "synmill/metrics_source.hpp"

#include "dp/metrics_text.hpp"
#include "dp/rte.hpp"
#include "dp/telemetry.hpp"

namespace synmill::apps {

void EndpointMetrics::render(std::string& out) {
  dp::MetricsInput in;
  for (const dp::Worker* w : workers_) {
    dp::Totals t;
    dp::add_to(t, w->snapshot());
    in.stats.push_back(dp::stats_entries(t));
    in.states.push_back(dp::state_entries(t.states));
  }
  if (pool_ != nullptr) {
    in.process.emplace_back("mbufs_in_use", rte_mempool_in_use_count(pool_));
    in.process.emplace_back("mbufs_total", pool_->size);
  }
  out.clear();
  dp::prometheus_text(in, out);
}

}  // namespace synmill::apps
