#pragma once
// The worker's clock, without a division per loop: TSC cycles to the stack's
// nanoseconds by one multiply and shift, and the gate that runs the stack's
// timers only when the timer tick changes. No DPDK here: the worker passes
// rte_get_tsc_hz() (once, at start) and rte_rdtsc().
#include <cstdint>

#include "tcp/types.hpp"

namespace synmill::dp {

// ns = (tsc - start) * (10^9 / hz), the factor in 24.40 fixed point, computed
// once: one 64x64->128 multiply and a shift per reading. The factor is
// truncated, so readings run slow (never fast, never backwards) by less than
// 2^-40 ns per cycle: about 0.55 us a week at 1 GHz, 2.9 us at 5.2 GHz.
class TscClock {
 public:
  TscClock() = default;
  TscClock(uint64_t hz, uint64_t start)
      : hz_(hz), start_(start), ns_per_tsc_q40_(static_cast<uint64_t>((U128{1000000000u} << 40) / hz)) {}

  tcp::Instant now(uint64_t tsc) const {
    const U128 ns = static_cast<U128>(tsc - start_) * ns_per_tsc_q40_;
    return tcp::Instant(static_cast<int64_t>(ns >> 40));
  }
  uint64_t hz() const { return hz_; }
  uint64_t start() const { return start_; }

 private:
  __extension__ using U128 = unsigned __int128;
  uint64_t hz_ = 0;
  uint64_t start_ = 0;
  uint64_t ns_per_tsc_q40_ = 0;
};

// due(now) is true at the first reading in each timer tick (ticks of
// `tick_ns` from time 0, the stack's start): the stack's timers are advanced
// then and not on the other loops of the tick (TimerWheel fires by ticks; a
// FIFO timer is then at most one tick late, as a wheel timer). The next
// boundary is one addition away; only after a stall that skipped ticks is it
// found again by a division.
class TickGate {
 public:
  explicit TickGate(int64_t tick_ns = 1) : tick_ns_(tick_ns > 0 ? tick_ns : 1) {}

  bool due(tcp::Instant now) {
    const int64_t t = now.ns();
    if (t < next_ns_) return false;
    next_ns_ += tick_ns_;
    if (next_ns_ <= t) next_ns_ = t - t % tick_ns_ + tick_ns_;  // ticks skipped
    return true;
  }
  int64_t next_ns() const { return next_ns_; }

 private:
  int64_t tick_ns_;
  int64_t next_ns_ = 0;
};

}  // namespace synmill::dp
