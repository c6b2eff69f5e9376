#pragma once
// synmill-gen's output: the periodic status line, the final summary and its
// JSON form.
#include <string>

#include "dp/telemetry.hpp"
#include "gen/gen_config.hpp"
#include "gen/histogram.hpp"
#include "gen/load.hpp"

namespace synmill::gen {

struct Snapshot {
  GenCounters gen;
  dp::WorkerCounters dp;
  uint64_t open = 0;
  double seconds = 0;  // since generation started
};

// "[  2.0s] syn 1000/s synack 998/s est 990/s closes 985/s (c 985 s 0 r 0) open 12 fail 0 | rx 3000 pps tx 3000 pps"
std::string status_line(const Snapshot& prev, const Snapshot& cur);

struct Result {
  const GenConfig* cfg = nullptr;
  Snapshot end;
  double run_seconds = 0;  // the --duration actually run (rates divide by this)
  Histogram synack_ns;
  Histogram connect_ns;
  uint16_t workers = 1;
  double hold_ready_s = -1;  // when the held connections were all established (-1: none)
};

std::string summary_text(const Result& r);
std::string summary_json(const Result& r);

}  // namespace synmill::gen
