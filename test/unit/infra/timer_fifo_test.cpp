// TimerWheel's FIFO lists (timer_wheel.hpp): deadlines that are always now + a
// constant appended at a list's tail and expired from its head, beside the
// wheel for the others. Ordering, cancel, re-arm earlier and later (moving
// between a list and the wheel), firing and re-arming from the callback, and
// armed_count() back to zero; a randomized run against a model mixes both.
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

constexpr Instant kStart{2'000'000'011};

std::vector<uint32_t> advance_collect(TimerWheel& w, Instant now) {
  std::vector<uint32_t> fired;
  w.advance(now, [&](uint32_t id) { fired.push_back(id); });
  return fired;
}

}  // namespace

TEST_CASE("FIFO list: fires in arming order at the deadline itself, never before", "[infra][fifo]") {
  const Duration tick = Duration::ms(10);
  const Duration delay = Duration::ms(40);  // the list's constant
  TimerWheel w(8, tick, kStart, 2);
  // Armed at now + 40 ms as the clock moves by 3 ms (off the tick grid).
  for (uint32_t i = 0; i < 5; ++i) w.arm_fifo(i, 0, kStart + Duration::ms(3 * i) + delay);
  for (uint32_t i = 0; i < 5; ++i) {
    REQUIRE(w.on_fifo(i));
    REQUIRE(w.deadline(i) == kStart + Duration::ms(3 * i) + delay);
  }
  REQUIRE(w.armed_count() == 5);
  REQUIRE(advance_collect(w, kStart + delay - Duration::ns(1)).empty());
  // Exactly at its deadline: a list timer does not wait for the next tick.
  REQUIRE(advance_collect(w, kStart + delay) == std::vector<uint32_t>{0});
  REQUIRE_FALSE(w.armed(0));
  REQUIRE(advance_collect(w, kStart + delay + Duration::ms(5)) == std::vector<uint32_t>{1});
  REQUIRE(advance_collect(w, kStart + delay + Duration::ms(12)) == (std::vector<uint32_t>{2, 3, 4}));
  REQUIRE(w.armed_count() == 0);
  REQUIRE(advance_collect(w, kStart + Duration::s(10)).empty());
}

TEST_CASE("FIFO list: equal deadlines keep arming order; lists are independent", "[infra][fifo]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(10, tick, kStart, 3);
  const Instant d = kStart + Duration::ms(7);
  w.arm_fifo(4, 2, d);
  w.arm_fifo(1, 0, d);
  w.arm_fifo(3, 2, d);
  w.arm_fifo(0, 0, d);
  w.arm_fifo(2, 1, d + Duration::ms(1));
  // Lists fire in list order, each in arming order.
  REQUIRE(advance_collect(w, d) == (std::vector<uint32_t>{1, 0, 4, 3}));
  REQUIRE(w.armed_count() == 1);
  REQUIRE(advance_collect(w, d + Duration::ms(1)) == std::vector<uint32_t>{2});
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("FIFO list: a deadline earlier than the tail's goes to the wheel", "[infra][fifo]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(4, tick, kStart, 1);
  w.arm_fifo(0, 0, kStart + Duration::ms(10));
  w.arm_fifo(1, 0, kStart + Duration::ms(5));  // out of order: the wheel keeps the list sorted
  REQUIRE(w.on_fifo(0));
  REQUIRE_FALSE(w.on_fifo(1));
  REQUIRE(w.armed(1));
  REQUIRE(w.deadline(1) == kStart + Duration::ms(5));
  w.arm_fifo(2, 0, kStart + Duration::ms(10));  // equal to the tail's: appended
  REQUIRE(w.on_fifo(2));
  REQUIRE(w.armed_count() == 3);
  REQUIRE(advance_collect(w, kStart + Duration::ms(5) - Duration::ns(1)).empty());
  REQUIRE(advance_collect(w, kStart + Duration::ms(5)) == std::vector<uint32_t>{1});
  REQUIRE(advance_collect(w, kStart + Duration::ms(10)) == (std::vector<uint32_t>{0, 2}));
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("FIFO list: cancel at the head, in the middle and at the tail", "[infra][fifo]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(8, tick, kStart, 1);
  for (uint32_t i = 0; i < 6; ++i) w.arm_fifo(i, 0, kStart + Duration::ms(10 + i));
  w.cancel(0);  // head
  w.cancel(3);  // middle
  w.cancel(5);  // tail: the next append links after 4
  w.cancel(5);  // not armed any more: no-op
  REQUIRE(w.armed_count() == 3);
  w.arm_fifo(6, 0, kStart + Duration::ms(14));  // equal to the new tail's (4)
  REQUIRE(w.on_fifo(6));
  SECTION("the rest fire in order") {
    REQUIRE(advance_collect(w, kStart + Duration::ms(20)) == (std::vector<uint32_t>{1, 2, 4, 6}));
  }
  SECTION("emptied by cancels, the list takes any deadline again") {
    for (uint32_t id : {1u, 2u, 4u, 6u}) w.cancel(id);
    REQUIRE(w.armed_count() == 0);
    w.arm_fifo(7, 0, kStart + Duration::ms(1));  // earlier than every deadline it held
    REQUIRE(w.on_fifo(7));
    REQUIRE(advance_collect(w, kStart + Duration::ms(20)) == std::vector<uint32_t>{7});
  }
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("FIFO list: re-arm earlier and later, between a list and the wheel", "[infra][fifo]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(4, tick, kStart, 2);
  w.arm_fifo(0, 0, kStart + Duration::ms(10));
  w.arm_fifo(1, 0, kStart + Duration::ms(20));
  SECTION("the tail re-armed later stays on the list") {
    w.arm_fifo(1, 0, kStart + Duration::ms(30));
    REQUIRE(w.on_fifo(1));
    REQUIRE(w.armed_count() == 2);
    REQUIRE(advance_collect(w, kStart + Duration::ms(29)) == std::vector<uint32_t>{0});
    REQUIRE(advance_collect(w, kStart + Duration::ms(30)) == std::vector<uint32_t>{1});
  }
  SECTION("the head re-armed later goes behind the tail") {
    w.arm_fifo(0, 0, kStart + Duration::ms(25));
    REQUIRE(w.on_fifo(0));
    REQUIRE(advance_collect(w, kStart + Duration::ms(25)) == (std::vector<uint32_t>{1, 0}));
  }
  SECTION("the tail re-armed earlier than the head goes to the wheel") {
    w.arm_fifo(1, 0, kStart + Duration::ms(5));
    REQUIRE_FALSE(w.on_fifo(1));
    REQUIRE(advance_collect(w, kStart + Duration::ms(5)) == std::vector<uint32_t>{1});
    REQUIRE(advance_collect(w, kStart + Duration::ms(10)) == std::vector<uint32_t>{0});
  }
  SECTION("moved to the wheel, to another list, and back") {
    w.arm(0, kStart + Duration::ms(15));
    REQUIRE_FALSE(w.on_fifo(0));
    w.arm_fifo(1, 1, kStart + Duration::ms(12));
    REQUIRE(w.on_fifo(1));
    w.arm_fifo(0, 0, kStart + Duration::ms(3));  // list 0 is empty now
    REQUIRE(w.on_fifo(0));
    REQUIRE(w.armed_count() == 2);
    REQUIRE(advance_collect(w, kStart + Duration::ms(3)) == std::vector<uint32_t>{0});
    REQUIRE(advance_collect(w, kStart + Duration::ms(15)) == std::vector<uint32_t>{1});
  }
  REQUIRE(w.armed_count() == 0);
}

TEST_CASE("FIFO list: the callback re-arms, cancels and arms", "[infra][fifo]") {
  const Duration tick = Duration::ms(1);
  TimerWheel w(8, tick, kStart, 2);
  SECTION("re-armed to now: fires on the next advance, not in a loop") {
    w.arm_fifo(0, 0, kStart + Duration::ms(5));
    int count = 0;
    const Instant now = kStart + Duration::ms(5);
    w.advance(now, [&](uint32_t id) {
      ++count;
      REQUIRE_FALSE(w.armed(id));
      w.arm_fifo(id, 0, now);
    });
    REQUIRE(count == 1);
    REQUIRE(w.on_fifo(0));
    w.advance(now, [&](uint32_t) { ++count; });
    REQUIRE(count == 2);
  }
  SECTION("periodic through the list: re-armed at its deadline + period") {
    w.arm_fifo(0, 0, kStart + Duration::ms(4));
    std::vector<Instant> seen;
    Instant now = kStart;
    for (int step = 0; step < 50; ++step) {
      now = now + Duration::ms(1);
      w.advance(now, [&](uint32_t id) {
        seen.push_back(now);
        w.arm_fifo(id, 0, now + Duration::ms(4));
      });
    }
    REQUIRE(seen.size() == 12);  // at 4, 8, ... 48 ms
    for (size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == kStart + Duration::ms(4 * (i + 1)));
    w.cancel(0);
  }
  SECTION("the first of a batch cancels one neighbour and moves another to the wheel") {
    for (uint32_t i = 0; i < 4; ++i) w.arm_fifo(i, 0, kStart + Duration::ms(5));
    w.arm(4, kStart + Duration::ms(2));  // due in the same advance, from the wheel
    std::vector<uint32_t> fired;
    w.advance(kStart + Duration::ms(6), [&](uint32_t id) {
      fired.push_back(id);
      if (id == 0) {
        w.cancel(2);
        w.arm(3, kStart + Duration::ms(9));
      }
    });
    REQUIRE(fired == (std::vector<uint32_t>{0, 1, 4}));
    REQUIRE(w.armed_count() == 1);
    REQUIRE(advance_collect(w, kStart + Duration::ms(9)) == std::vector<uint32_t>{3});
  }
  SECTION("a wheel callback arms a list timer at now: the next advance fires it") {
    w.arm(0, kStart + Duration::ms(3));
    const Instant now = kStart + Duration::ms(3);
    std::vector<uint32_t> fired;
    w.advance(now, [&](uint32_t id) {
      fired.push_back(id);
      if (id == 0) w.arm_fifo(1, 1, now);
    });
    REQUIRE(fired == std::vector<uint32_t>{0});
    REQUIRE(advance_collect(w, now) == std::vector<uint32_t>{1});
  }
  REQUIRE(w.armed_count() == 0);
}

namespace {

// Ids below rec_count keep their nodes in records of the caller's (as the
// stack's connections do: timer_wheel.hpp), µs deadlines read relative to
// each advance(); the rest in the wheel's own array.
struct Rec {
  uint32_t before[5];  // what else a record holds
  TimerWheel::Node node;
};

void run_model(uint32_t rec_count) {
  const Duration tick = Duration::us(100);
  constexpr uint32_t kN = 400;
  constexpr uint32_t kFifos = 3;
  const Duration fifo_delay[kFifos] = {Duration::ms(40), Duration::ms(1), Duration::s(60)};
  std::vector<Rec> recs(rec_count, Rec{});
  TimerWheel w(kN, tick, kStart, kFifos, rec_count ? &recs[0].node : nullptr, sizeof(Rec), rec_count);
  struct Model {
    Instant deadline;
    bool fifo = false;              // armed through arm_fifo
    bool armed_in_callback = false;  // during the current advance
  };
  std::map<uint32_t, Model> model;
  std::mt19937_64 rng(77);
  Instant now = kStart;
  uint64_t fired = 0, on_list = 0, to_wheel = 0;

  auto arm = [&](uint32_t id, bool in_cb) {
    const uint32_t r = static_cast<uint32_t>(rng() % 10);
    if (r < 7) {  // a list timer at now + its constant (sometimes a stray deadline)
      const uint32_t f = static_cast<uint32_t>(rng() % kFifos);
      Instant d = now + fifo_delay[f];
      if (r == 6) d = now + Duration::us(static_cast<int64_t>(rng() % 80'000)) - Duration::ms(10);
      w.arm_fifo(id, f, d);
      if (id < rec_count && d < kStart) d = kStart;  // a record holds µs from the start on
      if (w.on_fifo(id))
        ++on_list;
      else
        ++to_wheel;
      model[id] = Model{d, true, in_cb};
    } else {
      const Instant d = now + Duration::us(static_cast<int64_t>(rng() % 5'000'000));
      w.arm(id, d);
      model[id] = Model{d, false, in_cb};
    }
  };

  for (int op = 0; op < 300'000; ++op) {
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    if (r < 45) {
      arm(static_cast<uint32_t>(rng() % kN), false);
    } else if (r < 60) {
      const uint32_t id = static_cast<uint32_t>(rng() % kN);
      w.cancel(id);
      model.erase(id);
    } else {
      switch (rng() % 4) {
        case 0: now = now + Duration::us(static_cast<int64_t>(rng() % 300)); break;
        case 1: now = now + Duration::ms(static_cast<int64_t>(rng() % 50)); break;
        case 2: now = now + tick; break;
        default: if (rng() % 100 == 0) now = now + Duration::s(static_cast<int64_t>(rng() % 120)); break;
      }
      for (auto& [id, m] : model) m.armed_in_callback = false;
      w.advance(now, [&](uint32_t id) {
        auto it = model.find(id);
        INFRA_CHECK(it != model.end());
        INFRA_CHECK(it->second.deadline <= now);  // never early
        INFRA_CHECK(!w.armed(id));
        model.erase(it);
        ++fired;
        const uint32_t a = static_cast<uint32_t>(rng() % 100);
        if (a < 25) arm(id, true);  // re-arm the firing timer
        if (a >= 20 && a < 35) {    // cancel another (maybe a neighbour in this batch)
          const uint32_t other = (id + 53) % kN;
          w.cancel(other);
          model.erase(other);
        }
        if (a >= 30 && a < 40) arm(static_cast<uint32_t>(rng() % kN), true);
      });
      // Everything due by now fired: a list timer at its deadline, a wheel
      // timer within its tick (armed from callbacks: the next advance).
      const auto now_tick = static_cast<uint64_t>((now - kStart).count_ns() / tick.count_ns());
      for (const auto& [id, m] : model) {
        if (m.armed_in_callback) continue;
        if (w.on_fifo(id)) {
          INFRA_CHECK(m.deadline > now);
        } else {
          const int64_t diff = (m.deadline - kStart).count_ns();
          const auto t = diff <= 0 ? 0 : static_cast<uint64_t>((diff + tick.count_ns() - 1) / tick.count_ns());
          INFRA_CHECK(t > now_tick);
        }
      }
    }
    INFRA_CHECK(w.armed_count() == model.size());
    if (op % 5'000 == 0) {
      for (uint32_t id = 0; id < kN; ++id) {
        const auto it = model.find(id);
        INFRA_CHECK(w.armed(id) == (it != model.end()));
        if (it != model.end()) {
          INFRA_CHECK(w.deadline(id) == it->second.deadline);
          if (!it->second.fifo) INFRA_CHECK(!w.on_fifo(id));  // arm() never puts it on a list
        }
      }
    }
  }
  REQUIRE(fired > 50'000);
  REQUIRE(on_list > 50'000);
  REQUIRE(to_wheel > 1'000);
  // A record's deadline is read relative to the advance (within 35.8 min):
  // half an hour on, everything has fired.
  now = now + Duration::s(1800);
  w.advance(now, [&](uint32_t id) { INFRA_CHECK(model.erase(id) == 1); });
  w.advance(now, [&](uint32_t id) { INFRA_CHECK(model.erase(id) == 1); });
  REQUIRE(model.empty());
  REQUIRE(w.armed_count() == 0);
  for (const Rec& r : recs) REQUIRE_FALSE(r.node.armed());
}

}  // namespace

TEST_CASE("FIFO lists and the wheel randomized against a model", "[infra][fifo]") { run_model(0); }

TEST_CASE("FIFO lists and the wheel randomized against a model, half the nodes in records", "[infra][fifo]") {
  run_model(200);
}
