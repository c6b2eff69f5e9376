#pragma once
// A connection's deadline as a count of timer-wheel ticks since the stack's
// start, modulo 2^32 (issue 12: the record holds its three deadlines in 4
// bytes each instead of 8). 0 means "no deadline".
//
// Precision: a deadline is the first tick boundary at or after the exact
// instant (Stack::tick_ceil), so it never falls due early and falls due at
// most one tick (StackConfig::timer_tick, 1 ms by default) late, the
// precision the timer wheel fires at anyway. Ticks compare in serial
// arithmetic (before()), so two deadlines compare right while they are less
// than 2^31 ticks apart (24.8 days at 1 ms; a connection's deadlines are at
// most hours ahead), and the count may wrap (after 49.7 days at 1 ms): a
// computed 0 becomes 1, one tick later, never earlier.
#include <cstdint>

namespace synmill::tcp {

struct Tick {
  uint32_t v = 0;
  constexpr bool none() const { return v == 0; }
  friend constexpr bool operator==(Tick, Tick) = default;
};

// a earlier than b (serial arithmetic, as RFC 1982).
constexpr bool before(Tick a, Tick b) { return static_cast<int32_t>(a.v - b.v) < 0; }

}  // namespace synmill::tcp
