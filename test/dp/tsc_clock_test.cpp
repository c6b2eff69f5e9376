// The worker's clock (dp/tsc_clock.hpp): TSC to nanoseconds by multiply and
// shift agrees with the exact division, never runs backwards, and the timer
// gate opens once per tick. No EAL.
#include <catch2/catch.hpp>

#include <cstdint>

#include "dp/tsc_clock.hpp"

using synmill::dp::TickGate;
using synmill::dp::TscClock;
using synmill::tcp::Instant;

namespace {
__extension__ using U128 = unsigned __int128;

int64_t exact_ns(uint64_t cycles, uint64_t hz) {
  return static_cast<int64_t>(static_cast<U128>(cycles) * 1000000000u / hz);
}
}  // namespace

TEST_CASE("TscClock: multiply-shift within 3 us a week of the exact division, monotonic", "[dp][clock]") {
  const uint64_t hz = GENERATE(uint64_t{250'000'000}, uint64_t{1'000'000'000}, uint64_t{2'095'078'000},
                               uint64_t{3'999'999'999}, uint64_t{5'200'000'000});
  const uint64_t start = 0xFFFF'FFFF'0000'0000ull;  // readings wrap the 64-bit counter
  const TscClock clock(hz, start);
  REQUIRE(clock.hz() == hz);
  CHECK(clock.now(start) == Instant{});
  const uint64_t week = 7ull * 24 * 3600 * hz;
  int64_t last = -1;
  for (uint64_t c : {uint64_t{1}, uint64_t{999}, hz / 1000, hz, hz * 61, hz * 3600 + 12345, week / 3, week}) {
    const int64_t got = clock.now(start + c).ns();
    const int64_t want = exact_ns(c, hz);
    INFO("hz " << hz << " cycles " << c << " got " << got << " want " << want);
    CHECK(got <= want);               // the truncated factor runs slow, never fast
    CHECK(want - got <= 3000);        // < 3 us after a week
    CHECK(got > last);
    last = got;
  }
  // Consecutive readings never go backwards.
  int64_t prev = clock.now(start).ns();
  for (uint64_t c = 1; c < 200'000; c += 7) {
    const int64_t t = clock.now(start + c).ns();
    CHECK(t >= prev);
    prev = t;
  }
}

TEST_CASE("TickGate opens once per timer tick, on tick boundaries, also after a stall", "[dp][clock]") {
  const int64_t tick = 1'000'000;  // 1 ms
  TickGate gate(tick);
  int opened = 0;
  // Readings every 37 us for 50 ms: one opening per tick, the first at 0.
  for (int64_t t = 0; t < 50 * tick; t += 37'000) {
    if (gate.due(Instant(t))) {
      ++opened;
      CHECK(t / tick == opened - 1);  // the first reading of tick opened-1
      CHECK(gate.next_ns() == (t / tick + 1) * tick);
    }
  }
  CHECK(opened == 50);
  // A stall of 7.5 ticks: one opening, then the next boundary again.
  const int64_t after = 50 * tick + 7 * tick + tick / 2;
  CHECK(gate.due(Instant(after)));
  CHECK(gate.next_ns() == 58 * tick);
  CHECK_FALSE(gate.due(Instant(58 * tick - 1)));
  CHECK(gate.due(Instant(58 * tick)));
  CHECK_FALSE(gate.due(Instant(58 * tick + tick / 2)));
}
