#include "common/signals.hpp"

#include <signal.h>

#include <atomic>

namespace synmill::apps {
namespace {

std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free counter");

extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

void install_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int signals_received() { return g_signals.load(std::memory_order_relaxed); }

}  // namespace synmill::apps
