#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "infra_check.hpp"
#include "tcp/timer_wheel.hpp"

using synmill::tcp::Duration;
using synmill::tcp::Instant;
using synmill::tcp::TimerWheel;

namespace {

constexpr Instant kStart{1'000'000'007};

struct ModelTimer {
  Instant deadline;
  bool armed_in_callback = false;  // armed from a callback during the current advance
};

uint64_t ceil_tick(Instant d, Duration tick) {
  if (d <= kStart) return 0;
  const auto diff = static_cast<uint64_t>((d - kStart).count_ns());
  const auto t = static_cast<uint64_t>(tick.count_ns());
  return diff / t + (diff % t ? 1 : 0);
}

uint64_t floor_tick(Instant now, Duration tick) {
  return static_cast<uint64_t>((now - kStart).count_ns()) / static_cast<uint64_t>(tick.count_ns());
}

std::vector<uint32_t> advance_collect(TimerWheel& w, Instant now) {
  std::vector<uint32_t> fired;
  w.advance(now, [&](uint32_t id) { fired.push_back(id); });
  return fired;
}

}  // namespace

TEST_CASE("TimerWheel fires at the deadline, never before", "[infra]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(4, tick, kStart);
  REQUIRE(w.armed_count() == 0);
  w.arm(0, kStart + tick * 5);                      // on a tick boundary
  w.arm(1, kStart + tick * 5 + Duration::ns(1));  // just after it
  REQUIRE(w.armed(0));
  REQUIRE(w.deadline(1) == kStart + tick * 5 + Duration::ns(1));
  REQUIRE(w.armed_count() == 2);
  REQUIRE(advance_collect(w, kStart + tick * 5 - Duration::ns(1)).empty());
  REQUIRE(advance_collect(w, kStart + tick * 5) == std::vector<uint32_t>{0});
  REQUIRE_FALSE(w.armed(0));
  REQUIRE(advance_collect(w, kStart + tick * 5 + Duration::ns(500)).empty());  // not yet a tick later
  REQUIRE(advance_collect(w, kStart + tick * 6) == std::vector<uint32_t>{1});
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel: past deadlines fire on the next advance", "[infra]") {
  const Duration tick = Duration::us(10);
  TimerWheel w(3, tick, kStart);
  REQUIRE(advance_collect(w, kStart + Duration::ms(10)).empty());
  w.arm(0, kStart);                        // long past
  w.arm(1, kStart - Duration::s(5));      // before start
  w.arm(2, kStart + Duration::ms(10));    // exactly the last now
  auto f = advance_collect(w, kStart + Duration::ms(10));  // same now again
  std::sort(f.begin(), f.end());
  REQUIRE(f == std::vector<uint32_t>{0, 1, 2});
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel cancel and re-arm", "[infra]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(4, tick, kStart);
  w.cancel(0);  // not armed: no-op
  REQUIRE(w.armed_count() == 0);
  w.arm(0, kStart + tick * 10);
  w.arm(1, kStart + tick * 10);
  w.arm(2, kStart + tick * 10);
  w.cancel(1);
  REQUIRE_FALSE(w.armed(1));
  REQUIRE(w.armed_count() == 2);
  w.arm(2, kStart + tick * 100000);  // moves it from level 0 to level 2
  w.arm(0, kStart + tick * 3);        // moves it earlier
  REQUIRE(w.armed_count() == 2);
  REQUIRE(advance_collect(w, kStart + tick * 3) == std::vector<uint32_t>{0});
  REQUIRE(advance_collect(w, kStart + tick * 99999).empty());
  REQUIRE(advance_collect(w, kStart + tick * 100000) == std::vector<uint32_t>{2});
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel deadlines across level boundaries, stepping and jumping", "[infra]") {
  const Duration tick = Duration::ns(1000);
  const std::vector<uint64_t> ticks = {0,          1,          2,          254,         255,         256,
                                       257,        511,        512,        65535,       65536,       65537,
                                       65536 * 3,  (1u << 24) - 1, 1u << 24, (1u << 24) + 1, (1ull << 32) - 1,
                                       1ull << 32, (1ull << 32) + 1, (1ull << 32) * 3 + 12345, 1ull << 40};
  SECTION("one timer at a time, advancing just before then at the deadline") {
    for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{200}, uint64_t{65500}, uint64_t{(1u << 24) - 3}}) {
      for (uint64_t t : ticks) {
        TimerWheel w(1, tick, kStart);
        const Instant base = kStart + tick * static_cast<int64_t>(offset);
        REQUIRE(advance_collect(w, base).empty());
        const Instant d = base + tick * static_cast<int64_t>(t);
        w.arm(0, d);
        if (t > 0) {
          // Several intermediate advances so cascades happen on the way.
          for (int i = 1; i <= 7; ++i) {
            const Instant mid = base + Duration(static_cast<int64_t>(tick.count_ns() * static_cast<int64_t>(t) * i / 8));
            REQUIRE(advance_collect(w, mid).empty());
          }
          REQUIRE(advance_collect(w, d - Duration::ns(1)).empty());
        }
        REQUIRE(advance_collect(w, d) == std::vector<uint32_t>{0});
        REQUIRE(w.armed_count() == 0);
      }
    }
  }
  SECTION("all at once, one jump far past the last") {
    TimerWheel w(static_cast<uint32_t>(ticks.size()), tick, kStart);
    for (uint32_t i = 0; i < ticks.size(); ++i) w.arm(i, kStart + tick * static_cast<int64_t>(ticks[i]));
    auto f = advance_collect(w, kStart + tick * static_cast<int64_t>((1ull << 41)));
    REQUIRE(f.size() == ticks.size());
    REQUIRE(w.armed_count() == 0);
  }
  SECTION("all at once, fired in deadline order when advancing through them") {
    TimerWheel w(static_cast<uint32_t>(ticks.size()), tick, kStart);
    for (uint32_t i = 0; i < ticks.size(); ++i) w.arm(i, kStart + tick * static_cast<int64_t>(ticks[i]));
    std::vector<uint32_t> fired;
    Instant now = kStart;
    for (uint32_t i = 0; i < ticks.size(); ++i) {
      now = kStart + tick * static_cast<int64_t>(ticks[i]);
      w.advance(now, [&](uint32_t id) {
        INFRA_CHECK(kStart + tick * static_cast<int64_t>(ticks[id]) <= now);
        fired.push_back(id);
      });
      REQUIRE(fired.size() == i + 1);
      REQUIRE(fired.back() == i);
    }
  }
}

TEST_CASE("TimerWheel time jump of hours with many timers", "[infra]") {
  const Duration tick = Duration::ms(1);
  constexpr uint32_t kN = 20000;
  TimerWheel w(kN, tick, kStart);
  std::mt19937_64 rng(3);
  std::vector<Instant> dl(kN);
  for (uint32_t i = 0; i < kN; ++i) {
    dl[i] = kStart + Duration::ns(static_cast<int64_t>(rng() % (3ull * 3600 * 1'000'000'000)));  // up to 3 hours
    w.arm(i, dl[i]);
  }
  // 2 hours in one call: exactly the timers due by then fire.
  const Instant t1 = kStart + Duration::s(2 * 3600);
  std::vector<bool> fired(kN, false);
  Instant last{0};
  w.advance(t1, [&](uint32_t id) {
    INFRA_CHECK(dl[id] <= t1);
    INFRA_CHECK(!fired[id]);
    INFRA_CHECK(dl[id] + tick > last);  // tick order: never far behind the previous one
    if (dl[id] > last) last = dl[id];
    fired[id] = true;
  });
  for (uint32_t i = 0; i < kN; ++i) INFRA_CHECK(fired[i] == (ceil_tick(dl[i], tick) <= floor_tick(t1, tick)));
  for (uint32_t i = 0; i < kN; ++i) INFRA_CHECK(w.armed(i) == !fired[i]);
  // 5 more hours: the rest.
  w.advance(t1 + Duration::s(5 * 3600), [&](uint32_t id) {
    INFRA_CHECK(!fired[id]);
    fired[id] = true;
  });
  for (uint32_t i = 0; i < kN; ++i) INFRA_CHECK(fired[i]);
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel callback re-arms the firing timer", "[infra]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(2, tick, kStart);
  SECTION("periodic: re-armed into the future fires again within the same advance") {
    w.arm(0, kStart + tick * 10);
    int count = 0;
    w.advance(kStart + tick * 1000, [&](uint32_t id) {
      ++count;
      REQUIRE_FALSE(w.armed(id));
      w.arm(id, w.deadline(id) + tick * 10);
    });
    REQUIRE(count == 100);
    REQUIRE(w.armed(0));
    REQUIRE(w.deadline(0) == kStart + tick * 1010);
  }
  SECTION("re-armed to a tick already processed: fires on the next advance, not in a loop") {
    w.arm(0, kStart + tick * 10);
    int count = 0;
    const Instant now = kStart + tick * 20;
    w.advance(now, [&](uint32_t id) {
      ++count;
      w.arm(id, w.deadline(id));  // the tick being fired
    });
    REQUIRE(count == 1);
    REQUIRE(w.armed(0));
    w.advance(now, [&](uint32_t) { ++count; });
    REQUIRE(count == 2);
    REQUIRE(w.armed_count() == 0);
  }
  SECTION("always re-armed to now: fires at most twice per advance (its tick, then now's tick)") {
    w.arm(0, kStart + tick * 10);
    int count = 0;
    Instant now = kStart + tick * 20;
    auto rearm_now = [&](uint32_t id) {
      ++count;
      w.arm(id, now);
    };
    w.advance(now, rearm_now);  // fires at tick 10, re-armed into tick 20, fires again
    REQUIRE(count == 2);
    REQUIRE(w.armed(0));        // re-armed at tick 20 after it was processed: due
    w.advance(now, rearm_now);  // the due one fires and is re-armed into the past again
    REQUIRE(count == 3);
    now = now + tick;
    w.advance(now, rearm_now);  // due one (count 4), re-armed into tick 21, fires (count 5)
    REQUIRE(count == 5);
    w.cancel(0);
    REQUIRE(w.armed_count() == 0);
  }
  SECTION("re-armed to exactly 256 ticks later (same level-0 slot) does not fire early") {
    w.arm(0, kStart + tick * 10);
    std::vector<Instant> seen;
    const Instant now = kStart + tick * 10;
    w.advance(now, [&](uint32_t id) {
      seen.push_back(now);
      w.arm(id, now + tick * 256);
    });
    REQUIRE(seen.size() == 1);
    REQUIRE(advance_collect(w, now + tick * 255).empty());
    REQUIRE(advance_collect(w, now + tick * 256) == std::vector<uint32_t>{0});
  }
}

TEST_CASE("TimerWheel callback cancels and moves its neighbours", "[infra]") {
  const Duration tick = Duration::ms(1);
  constexpr uint32_t kN = 10;
  TimerWheel w(kN, tick, kStart);
  for (uint32_t i = 0; i < kN; ++i) w.arm(i, kStart + tick * 7);  // all in one slot
  std::vector<uint32_t> fired;
  w.advance(kStart + tick * 7, [&](uint32_t id) {
    fired.push_back(id);
    if (fired.size() == 1) {
      // Cancel every other timer of the firing batch, move two of them later.
      for (uint32_t j = 0; j < kN; ++j) {
        if (j == id) continue;
        if (j % 3 == 0) {
          w.cancel(j);
        } else if (j % 3 == 1) {
          w.arm(j, kStart + tick * 9);
        }
      }
    }
  });
  const uint32_t first = fired.front();
  std::set<uint32_t> expect_now{first};
  std::set<uint32_t> expect_later;
  for (uint32_t j = 0; j < kN; ++j) {
    if (j == first) continue;
    if (j % 3 == 2) expect_now.insert(j);
    if (j % 3 == 1) expect_later.insert(j);
  }
  REQUIRE(std::set<uint32_t>(fired.begin(), fired.end()) == expect_now);
  REQUIRE(fired.size() == expect_now.size());
  REQUIRE(w.armed_count() == expect_later.size());
  auto later = advance_collect(w, kStart + tick * 9);
  REQUIRE(std::set<uint32_t>(later.begin(), later.end()) == expect_later);
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel stepping one tick at a time across several level-1 wraps", "[infra]") {
  const Duration tick = Duration::us(100);
  constexpr uint32_t kN = 300;
  TimerWheel w(kN, tick, kStart);
  std::mt19937_64 rng(9);
  std::vector<uint64_t> due(kN);
  for (uint32_t i = 0; i < kN; ++i) {
    due[i] = 1 + rng() % 200'000;
    w.arm(i, kStart + tick * static_cast<int64_t>(due[i]));
  }
  uint32_t fired = 0;
  for (uint64_t t = 1; t <= 200'000; ++t) {
    w.advance(kStart + tick * static_cast<int64_t>(t), [&](uint32_t id) {
      INFRA_CHECK(due[id] == t);
      ++fired;
    });
  }
  REQUIRE(fired == kN);
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("TimerWheel randomized against std::map", "[infra]") {
  const Duration tick = Duration::us(50);
  constexpr uint32_t kN = 512;
  TimerWheel w(kN, tick, kStart);
  std::map<uint32_t, ModelTimer> model;
  std::mt19937_64 rng(2024);
  Instant now = kStart;
  uint64_t fired_total = 0, rearmed_in_cb = 0, cancelled_in_cb = 0;

  auto random_delay = [&]() -> Duration {
    switch (rng() % 8) {
      case 0: return Duration::ns(static_cast<int64_t>(rng() % 200'000)) - Duration::ns(100'000);  // +-2 ticks, past too
      case 1: return tick * static_cast<int64_t>(rng() % 4);
      case 2: return Duration::ns(static_cast<int64_t>(rng() % (300 * 50'000)));        // level 0/1
      case 3: return Duration::ns(static_cast<int64_t>(rng() % (70'000ll * 50'000)));    // level 1/2
      case 4: return Duration::ns(static_cast<int64_t>(rng() % (20'000'000ll * 50'000))); // level 2/3
      case 5: return Duration::s(static_cast<int64_t>(rng() % (3 * 24 * 3600)));           // beyond 2^32 ticks too
      case 6: return tick * 256 * static_cast<int64_t>(1 + rng() % 3);                      // exact boundaries
      default: return Duration::ms(static_cast<int64_t>(rng() % 1000));
    }
  };
  auto random_step = [&]() -> Duration {
    switch (rng() % 10) {
      case 0: return Duration::ns(0);
      case 1: return Duration::ns(static_cast<int64_t>(rng() % 50'000));
      case 2: return tick * static_cast<int64_t>(1 + rng() % 3);
      case 3: return tick * static_cast<int64_t>(rng() % 1000);
      case 4: return tick * static_cast<int64_t>(rng() % 100'000);
      case 5:
        if (rng() % 50 == 0) return Duration::s(static_cast<int64_t>(1 + rng() % (8 * 3600)));  // hours
        return tick;
      default: return Duration::ns(static_cast<int64_t>(rng() % 300'000));
    }
  };

  for (int op = 0; op < 1'000'000; ++op) {
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    if (r < 45) {
      const uint32_t id = static_cast<uint32_t>(rng() % kN);
      const Instant d = now + random_delay();
      w.arm(id, d);
      model[id] = ModelTimer{d, false};
    } else if (r < 60) {
      const uint32_t id = static_cast<uint32_t>(rng() % kN);
      w.cancel(id);
      model.erase(id);
    } else if (r < 65) {
      // Many timers on one deadline, to get firing batches with neighbours.
      const Instant d = now + random_delay();
      const uint32_t base = static_cast<uint32_t>(rng() % kN);
      for (uint32_t k = 0; k < 8; ++k) {
        const uint32_t id = (base + k * 37) % kN;
        w.arm(id, d);
        model[id] = ModelTimer{d, false};
      }
    } else {
      now = now + random_step();
      for (auto& [id, m] : model) m.armed_in_callback = false;
      w.advance(now, [&](uint32_t id) {
        auto it = model.find(id);
        INFRA_CHECK(it != model.end());
        INFRA_CHECK(it->second.deadline <= now);  // never early
        INFRA_CHECK(!w.armed(id));
        model.erase(it);
        ++fired_total;
        const uint32_t a = static_cast<uint32_t>(rng() % 100);
        if (a < 20) {  // re-arm the firing timer
          const Instant d = now + random_delay();
          w.arm(id, d);
          model[id] = ModelTimer{d, true};
          ++rearmed_in_cb;
        }
        if (a >= 10 && a < 30) {  // cancel some other timer (possibly a neighbour in this batch)
          const uint32_t other = (id + 37) % kN;
          w.cancel(other);
          model.erase(other);
          ++cancelled_in_cb;
        }
        if (a >= 25 && a < 35) {  // arm some other timer
          const uint32_t other = static_cast<uint32_t>(rng() % kN);
          const Instant d = now + random_delay();
          w.arm(other, d);
          model[other] = ModelTimer{d, true};
        }
      });
      // Everything due by now fired (timers armed from callbacks into ticks
      // already processed wait for the next advance).
      const uint64_t now_tick = floor_tick(now, tick);
      for (const auto& [id, m] : model) {
        if (!m.armed_in_callback) INFRA_CHECK(ceil_tick(m.deadline, tick) > now_tick);
      }
    }
    INFRA_CHECK(w.armed_count() == model.size());
    if (op % 10'000 == 0) {
      for (uint32_t id = 0; id < kN; ++id) {
        const auto it = model.find(id);
        INFRA_CHECK(w.armed(id) == (it != model.end()));
        if (it != model.end()) INFRA_CHECK(w.deadline(id) == it->second.deadline);
      }
    }
  }
  REQUIRE(fired_total > 100'000);
  REQUIRE(rearmed_in_cb > 1000);
  REQUIRE(cancelled_in_cb > 1000);
  // Drain: everything left fires, counts return to zero.
  now = now + Duration::s(10 * 24 * 3600);
  w.advance(now, [&](uint32_t id) { INFRA_CHECK(model.erase(id) == 1); });
  w.advance(now, [&](uint32_t id) { INFRA_CHECK(model.erase(id) == 1); });
  REQUIRE(model.empty());
  REQUIRE(w.armed_count() == 0);
}
