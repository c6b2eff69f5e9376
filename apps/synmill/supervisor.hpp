#pragma once
// The control side of a running synmill: SIGINT/SIGTERM, the periodic status
// line, and the shutdown sequence. It only reads the workers' counters and
// writes the shared run state; the workers do the TCP work.
//
//   running --signal--> draining (stop accepting, FIN every connection)
//           --all connections gone, --grace elapsed or a 2nd signal--> stopping
//           (workers RST the rest and leave their loops)
#include <atomic>
#include <chrono>
#include <span>

#include "common/signals.hpp"
#include "dp/app_config.hpp"
#include "dp/link_watch.hpp"
#include "dp/telemetry.hpp"
#include "dp/worker.hpp"

namespace synmill::apps {

class Supervisor {
 public:
  Supervisor(const dp::AppConfig& cfg, std::span<const dp::Worker* const> workers,
             std::atomic<int>& state, std::chrono::steady_clock::time_point started);

  // Runs until the workers were told to stop and have left their loops (or
  // did not within a few seconds). Call from the main lcore or a plain thread.
  void run();

  // The port's link, polled every tick; changes are logged.
  void watch_link(dp::LinkWatch* link) { link_ = link; }

  // True if every worker reported finished() before run() returned.
  bool workers_finished() const { return finished_; }

 private:
  void print_status(std::chrono::steady_clock::time_point now);
  bool all_closed() const;
  bool all_finished() const;

  const dp::AppConfig& cfg_;
  std::span<const dp::Worker* const> workers_;
  std::atomic<int>& state_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_status_;
  dp::Totals last_;
  bool finished_ = false;
  dp::LinkWatch* link_ = nullptr;
};

}  // namespace synmill::apps
