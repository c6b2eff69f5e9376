// See unmap_guard.hpp: munmap() waits for workers inside a poll-loop pass.
#include "dp/unmap_guard.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

namespace synmill::dp {

namespace {

constexpr size_t kSlots = 128;
constexpr auto kMaxWait = std::chrono::seconds(2);  // a stopped worker (SIGSTOP stops all threads) or a long preemption

std::array<UnmapGuard::Mark, kSlots> g_marks;
std::array<std::atomic<bool>, kSlots> g_used{};
std::atomic<uint64_t> g_waits{0};
std::atomic<uint64_t> g_gave_up{0};
std::atomic<uint64_t> g_barrier{0};
thread_local bool t_worker = false;

}  // namespace

UnmapGuard::Mark* UnmapGuard::attach() {
  for (size_t i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_used[i].compare_exchange_strong(expected, true)) {
      t_worker = true;
      return &g_marks[i];
    }
  }
  return nullptr;
}

void UnmapGuard::detach(Mark* m) {
  if (m == nullptr) return;
  if (m->seq.load(std::memory_order_relaxed) % 2 != 0) leave(m);
  g_used[static_cast<size_t>(m - g_marks.data())].store(false, std::memory_order_release);
}

uint64_t UnmapGuard::waits() { return g_waits.load(std::memory_order_relaxed); }
uint64_t UnmapGuard::gave_up() { return g_gave_up.load(std::memory_order_relaxed); }

void UnmapGuard::wait_for_workers() {
  if (t_worker) return;  // a worker unmapping itself cannot be inside another pass
  // Full barrier between the PMD's flag store and the reads of the marks: a
  // seq_cst read-modify-write (lock-prefixed on x86), for the same reason as
  // enter() uses a seq_cst store instead of atomic_thread_fence.
  g_barrier.fetch_add(1, std::memory_order_seq_cst);
  bool waited = false;
  for (size_t i = 0; i < kSlots; ++i) {
    if (!g_used[i].load(std::memory_order_acquire)) continue;
    const uint64_t s = g_marks[i].seq.load(std::memory_order_acquire);
    if (s % 2 == 0) continue;
    waited = true;
    const auto give_up = std::chrono::steady_clock::now() + kMaxWait;
    while (g_marks[i].seq.load(std::memory_order_acquire) == s && g_used[i].load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > give_up) {
        g_gave_up.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      std::this_thread::yield();
    }
  }
  if (waited) g_waits.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace synmill::dp

// Exported from the executables (see lib/dp/meson.build) so that a PMD's
// munmap() — net_memif's memif_free_regions() — comes here first. glibc's own
// internal unmaps do not (they call the system call directly).
extern "C" int munmap(void* addr, size_t len) noexcept {
  synmill::dp::UnmapGuard::wait_for_workers();
  return static_cast<int>(syscall(SYS_munmap, addr, len));
}
