#pragma once
// The Prometheus text exposition format (version 0.0.4) of synmill's counters
// and gauges: one formatter for `synmill-ctl metrics` (from telemetry) and
// the `metrics` application (from the workers' snapshots), so both print the
// same text. Names start with synmill_, are in base units (bytes, segments,
// frames, TSC cycles, connections), counters end in _total, and every sample
// per worker carries a worker="N" label. Drops are one family per layer with
// a reason label. Derived values (busy_cycles_per_packet, the states' total)
// are left out: PromQL computes them.
//
// Std and fmt only (synmill-ctl links it without DPDK).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace synmill::dp {

struct MetricsInput {
  using Named = std::vector<std::pair<std::string, uint64_t>>;
  std::vector<Named> stats;   // per worker: /synmill/stats,W (stats_entries of that worker)
  std::vector<Named> states;  // per worker: /synmill/states,W (state_entries)
  Named process;              // not per worker: mbufs_in_use, mbufs_total
};

// Appends the exposition text to `out`.
void prometheus_text(const MetricsInput& in, std::string& out);

// The family, label and sample name a /synmill/stats entry becomes, e.g.
// "drop_paws" -> {"synmill_tcp_dropped_segments_total", "reason", "paws"};
// empty family for what is left out.
struct MetricName {
  std::string family;
  std::string label;  // extra label besides worker ("reason", "state"), or empty
  std::string label_value;
  bool counter = true;
};
MetricName metric_for_stat(const std::string& name);

}  // namespace synmill::dp
