#include "synmill/supervisor.hpp"

#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "dp/telemetry.hpp"
#include "synmill/report.hpp"

namespace synmill::apps {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr auto kStopWait = std::chrono::seconds(5);  // workers leave their loop in microseconds

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Clock::duration to_clock(tcp::Duration d) { return std::chrono::nanoseconds(d.count_ns()); }

}  // namespace

Supervisor::Supervisor(const dp::AppConfig& cfg, std::span<const dp::Worker* const> workers,
                       std::atomic<int>& state, Clock::time_point started)
    : cfg_(cfg), workers_(workers), state_(state), started_(started), last_status_(started) {}

bool Supervisor::all_closed() const {
  for (const dp::Worker* w : workers_) {
    if (w->snapshot().conns != 0) return false;
  }
  return true;
}

bool Supervisor::all_finished() const {
  for (const dp::Worker* w : workers_) {
    if (!w->finished()) return false;
  }
  return true;
}

void Supervisor::print_status(Clock::time_point now) {
  const dp::Totals t = dp::sum_workers(workers_);
  fmt::print("{}\n", format_status(t, last_, seconds_between(last_status_, now),
                                   seconds_between(started_, now)));
  std::fflush(stdout);
  last_ = t;
  last_status_ = now;
}

void Supervisor::run() {
  enum class Phase { kRunning, kDraining, kStopping };
  Phase phase = Phase::kRunning;
  Clock::time_point deadline{};
  const bool status = cfg_.status_interval > tcp::Duration{};
  const Clock::duration interval = to_clock(cfg_.status_interval);
  last_ = dp::sum_workers(workers_);
  for (;;) {
    std::this_thread::sleep_for(kTick);
    const Clock::time_point now = Clock::now();
    const int sig = signals_received();
    if (phase != Phase::kStopping &&
        state_.load(std::memory_order_acquire) == static_cast<int>(dp::RunState::kStopping)) {
      phase = Phase::kStopping;  // stopped by the start-up code (a worker failed to launch)
      deadline = now + kStopWait;
    }
    if (phase == Phase::kRunning && sig >= 1) {
      phase = Phase::kDraining;
      deadline = now + to_clock(cfg_.grace);
      state_.store(static_cast<int>(dp::RunState::kDraining), std::memory_order_release);
      fmt::print("synmill: draining: no new connections; closing {} with FIN (up to {} s; signal "
                 "again to stop now)\n",
                 dp::sum_workers(workers_).conns, dp::format_seconds(cfg_.grace));
      std::fflush(stdout);
      continue;  // give the workers a tick to act on it
    }
    if (phase == Phase::kDraining) {
      const char* why = nullptr;
      if (sig >= 2) why = "second signal";
      else if (all_closed()) why = "all connections closed";
      else if (now >= deadline) why = "grace period over";
      if (why != nullptr) {
        fmt::print("synmill: stopping ({}): resetting {} remaining connections\n", why,
                   dp::sum_workers(workers_).conns);
        std::fflush(stdout);
        state_.store(static_cast<int>(dp::RunState::kStopping), std::memory_order_release);
        phase = Phase::kStopping;
        deadline = now + kStopWait;
      }
    }
    if (phase == Phase::kStopping) {
      if (all_finished()) {
        finished_ = true;
        return;
      }
      if (now >= deadline) return;
      continue;
    }
    if (status && now - last_status_ >= interval) print_status(now);
  }
}

}  // namespace synmill::apps
