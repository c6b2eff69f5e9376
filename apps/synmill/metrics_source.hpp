#pragma once
// What the `metrics` application serves: every worker's published snapshot
// (dp::Worker::snapshot) and the packet pool, through dp::prometheus_text,
// the same formatter `synmill-ctl metrics` uses on telemetry.
#include <vector>

#include "dp/worker.hpp"
#include "tcp/apps/metrics.hpp"

struct rte_mempool;

namespace synmill::apps {

class EndpointMetrics final : public tcp::MetricsSource {
 public:
  // `workers` is filled as workers are created and outlives the apps.
  EndpointMetrics(const std::vector<const dp::Worker*>& workers, const rte_mempool* pool)
      : workers_(workers), pool_(pool) {}
  void render(std::string& out) override;

 private:
  const std::vector<const dp::Worker*>& workers_;
  const rte_mempool* pool_;
};

}  // namespace synmill::apps
