#pragma once
// A connection's deadline in 32 bits (issue 12: the record holds its three
// deadlines in 4 bytes each instead of 8): microseconds since the stack's
// start, modulo 2^32. 0 means "no deadline".
//
// Precision: a deadline is the first whole microsecond at or after the exact
// instant (Stack::deadline_at), so it never falls due early and falls due at
// most 1 µs late, far below the timer wheel's tick (StackConfig::timer_tick,
// 1 ms), the precision timers fire at anyway. Deadlines compare in serial
// arithmetic (before(), as RFC 1982), right while they are less than 2^31 µs
// (35.8 min) apart, and the count wraps every 71.6 min: a computed 0 becomes
// 1 (1 µs later, never earlier). The stack keeps every deadline within
// kMaxDeadline of now (config.hpp clamps: rto_max, fin_wait2_timeout,
// close_wait_timeout and the idle / keep-alive tick).
#include <cstdint>

#include "tcp/types.hpp"

namespace synmill::tcp {

struct Deadline {
  uint32_t us = 0;
  constexpr bool none() const { return us == 0; }
  friend constexpr bool operator==(Deadline, Deadline) = default;
};

// The farthest a deadline may lie ahead of now: half the serial range, less
// a margin for lateness.
inline constexpr Duration kMaxDeadline = Duration::s(30 * 60);

// a earlier than b (serial arithmetic).
constexpr bool before(Deadline a, Deadline b) { return static_cast<int32_t>(a.us - b.us) < 0; }

}  // namespace synmill::tcp
