#pragma once
// Start-up, run and shutdown of the synmill endpoint:
//
//   EAL -> pdump -> port profile (+ --port-opt) -> checks (lcores vs RSS, MSS vs
//   MTU, mbuf budget) -> configure port -> mbuf pool -> start port -> one
//   dp::Worker per worker lcore with one app instance per listener -> launch ->
//   telemetry -> banner -> "synmill: ready" -> supervise (status, signals,
//   drain) -> summary -> stop and close the port -> EAL cleanup.
//
// With one lcore the worker runs on the main lcore and the status line comes
// from a plain (non-EAL) thread; with more, the main lcore supervises and
// every other lcore runs a worker.
#include <string>
#include <vector>

#include "dp/app_config.hpp"
#include "synmill/run.hpp"

namespace synmill::apps {

inline constexpr int kExitOk = 0;
inline constexpr int kExitStartup = 1;  // EAL, port, pool, ... failed
inline constexpr int kExitUsage = 2;    // bad option, file or combination

// What synmill::run adds: the program's own application (none for the
// synmill binary: factory empty) and its arguments after the second "--".
struct UserApps {
  AppFactory factory;
  RunOptions options;
  std::span<const std::string> args;
};

// `argv`: the whole command line (EAL arguments, "--", the application's);
// `cfg`: the application's options, already parsed. Returns the exit status.
int run_endpoint(const dp::AppConfig& cfg, const std::vector<std::string>& argv, const UserApps& user);

}  // namespace synmill::apps
