#pragma once
// What synmill prints: the start-up banner, the periodic status line and the
// summary at exit. Pure formatting: the caller gathers the numbers.
#include <cstdint>
#include <string>
#include <vector>

#include "dp/app_config.hpp"
#include "dp/port_info.hpp"
#include "dp/telemetry.hpp"

namespace synmill::apps {

struct BannerFacts {
  std::string version;       // synmill's
  std::string dpdk_version;  // rte_version()
  const dp::AppConfig* config = nullptr;
  const dp::PortInfo* port = nullptr;
  std::vector<unsigned> worker_lcores;  // lcore of worker i
  unsigned main_lcore = 0;
  bool main_runs_worker = false;  // one lcore: the worker runs on the main lcore
  std::string runtime_dir;   // rte_eal_get_runtime_dir()
  std::string file_prefix;
  bool telemetry = false;    // registered
  bool pdump = false;        // rte_pdump_init succeeded
  bool no_huge = false;      // --no-huge / --in-memory: no secondary process can attach
};

// Several lines, each ending in '\n' (not the "synmill: ready" line).
std::string format_banner(const BannerFacts& f);

// One status line (no '\n') from two snapshots `seconds` apart; `uptime` is
// printed in front.
std::string format_status(const dp::Totals& now, const dp::Totals& before, double seconds,
                          double uptime);

// The summary at exit, several lines.
std::string format_summary(const dp::Totals& t, double uptime);

// 1234 -> "1234", 12345 -> "12.3K", 1234567 -> "1.23M".
std::string human(double v);

}  // namespace synmill::apps
