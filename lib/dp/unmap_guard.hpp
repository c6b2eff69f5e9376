#pragma once
// Keeps shared memory a PMD polls mapped until no worker is inside a burst.
//
// Why: DPDK 22.11's net_memif tears a connection down from the EAL interrupt
// thread (memif_socket.c memif_disconnect(): clear ETH_MEMIF_FLAG_CONNECTED,
// close the ring fds, then memif_free_regions(): munmap() the shared rings and
// buffers, rte_free() the region records, regions[i] = NULL) with nothing that
// waits for the data path. eth_memif_rx()/eth_memif_tx() check the flag once
// at entry and then read ring->head, descriptors and packet buffers for the
// whole burst; a poller caught between the check and the end of its burst
// (preempted, or just busy with 32 copies) reads unmapped memory or a NULL
// region and dies with SIGSEGV inside librte_net_memif. That is the crash of a
// memif peer leaving at the end of a flood (testpmd has it too). A client
// (synmill-gen) unmaps its own regions the same way when the server leaves.
//
// The workaround: this library defines munmap() and the executables export it
// (-Wl,--export-dynamic-symbol=munmap), so the PMD's call lands here. A worker
// marks each poll-loop pass (enter() ... leave(): an odd sequence number while
// it may touch the port). munmap() from any other thread first waits until
// every worker that was inside a pass has left it (at most kMaxWait), then
// unmaps. Dekker-style: the worker publishes "inside" and then fences before
// the PMD reads its connected flag; munmap() runs after the PMD cleared that
// flag and fences before reading the workers' marks, so either the worker's
// burst sees the link down and touches nothing, or munmap() sees it inside and
// waits. The next burst finds the flag clear (or regions[] NULL) and returns 0.
// Cost on the hot path: one seq_cst store (a full barrier) per loop pass and
// one release store; no lock.
#include <atomic>
#include <cstdint>

namespace synmill::dp {

class UnmapGuard {
 public:
  // A worker's mark: odd while inside a pass. One cache line each.
  struct alignas(64) Mark {
    std::atomic<uint64_t> seq{0};
  };

  // Called once by each worker thread before its loop; nullptr if every slot
  // is taken (that worker then runs unguarded). Marks the thread as a worker:
  // its own munmap() calls never wait.
  static Mark* attach();
  static void detach(Mark* m);

  static void enter(Mark* m) {
    if (m == nullptr) return;
    // A seq_cst store is the full barrier here (xchg on x86, cheaper than
    // mov + mfence); atomic_thread_fence would do the same but is rejected
    // by -fsanitize=thread (GCC -Wtsan), and the TSan build must compile.
    m->seq.store(m->seq.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
  }
  static void leave(Mark* m) {
    if (m == nullptr) return;
    m->seq.store(m->seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // How many munmap() calls found a worker inside a pass and waited, and how
  // many gave up waiting (kMaxWait) — the second should stay 0.
  static uint64_t waits();
  static uint64_t gave_up();

  // What munmap() runs before the system call (exposed for tests).
  static void wait_for_workers();
};

}  // namespace synmill::dp
