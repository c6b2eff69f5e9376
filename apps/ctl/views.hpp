#pragma once
// How synmill-ctl prints telemetry replies: `ss -s` and `ss -tan` look-alikes
// for states and connections, name/value lines for counters and settings.
#include <string>
#include <vector>

#include "ctl/json.hpp"

namespace synmill::ctl {

// /synmill/stats: "name  value" lines.
std::string format_stats(const Json& stats);

// /synmill/states as `ss -s` prints its TCP line.
std::string format_summary(const Json& states);

// /synmill/conns rows as `ss -tan` prints them, plus the core and timers;
// `total`: connections in the tables (from /synmill/states), 0 if unknown.
std::string format_conns(const std::vector<Json>& rows, uint64_t total);

// /synmill/config: "name = value" lines.
std::string format_config(const Json& config);

// "ESTABLISHED" -> "ESTAB", "SYN_RCVD" -> "SYN-RECV", ... as ss names them.
std::string ss_state(const std::string& state);

}  // namespace synmill::ctl
