// Issue 10's data-plane pieces that run without the EAL: the load-shedding
// policy, the unmap guard's wait, and synmill-gen's client-behaviour options.
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dp/load_shed.hpp"
#include "dp/unmap_guard.hpp"
#include "gen/gen_config.hpp"

using synmill::dp::LoadShed;
using synmill::dp::UnmapGuard;

namespace {
constexpr uint8_t kSyn = 0x02, kAck = 0x10, kSynAck = 0x12, kFinAck = 0x11, kRst = 0x04;
}

// A poll loop's clock for the policy: each full burst takes kStep.
struct Loop {
  LoadShed s;
  int64_t t = 1'000'000'000;
  static constexpr int64_t kStep = 20'000;  // 20 µs a burst
  bool burst(uint16_t n) {
    t += kStep;
    return s.on_burst(n, 32, t);
  }
  // Full bursts from now until `ns` later (the first and the last `ns` apart).
  void full_for(int64_t ns) {
    burst(32);
    for (const int64_t end = t + ns; t < end;) burst(32);
  }
  int shed_of(int syns) {
    s.begin_burst(true);
    int shed = 0;
    for (int i = 0; i < syns; ++i) shed += s.judge(kSyn) == LoadShed::Verdict::kShedOverload;
    return shed;
  }
};

TEST_CASE("LoadShed: overload after 8 full bursts in a row, over after one under half full", "[dp]") {
  Loop l;
  for (int i = 0; i < LoadShed::kEnterStreak - 1; ++i) CHECK_FALSE(l.burst(32));
  CHECK_FALSE(l.s.overloaded());
  CHECK(l.burst(32));
  CHECK(l.s.overloaded());
  CHECK_FALSE(l.burst(20));  // between half and full: no change
  CHECK(l.s.overloaded());
  CHECK(l.burst(15));
  CHECK_FALSE(l.s.overloaded());
  // A streak broken by a burst under half full starts again.
  for (int i = 0; i < 5; ++i) l.burst(32);
  l.burst(3);
  for (int i = 0; i < LoadShed::kEnterStreak - 1; ++i) l.burst(32);
  CHECK_FALSE(l.s.overloaded());
}

TEST_CASE("LoadShed: a backlog drained in under kSustainNs sheds no SYN (cookies answer them)", "[dp]") {
  Loop l;
  // Thousands of full bursts (far past kDropStreak), for just under 100 ms:
  // what a full ring takes to drain after a preemption.
  l.full_for(LoadShed::kSustainNs - 2 * Loop::kStep);
  REQUIRE(l.s.overloaded());
  CHECK(l.shed_of(32) == 0);
  l.burst(32);
  l.burst(32);  // 100 ms of full bursts: sustained
  CHECK(l.shed_of(32) == 32 - LoadShed::kSynsPerBurst);
  // A burst under half full ends it, and the clock starts again.
  l.burst(3);
  l.full_for(LoadShed::kSustainNs / 2);
  CHECK(l.s.overloaded());
  CHECK(l.shed_of(32) == 0);
}

TEST_CASE("LoadShed: fewer than kDropStreak full bursts shed no SYN, however long they took", "[dp]") {
  LoadShed s;
  int64_t t = 0;
  for (int i = 0; i < LoadShed::kDropStreak - 1; ++i) s.on_burst(32, 32, t += LoadShed::kSustainNs);
  REQUIRE(s.overloaded());
  s.begin_burst(true);
  for (int i = 0; i < 32; ++i) CHECK(s.judge(kSyn) == LoadShed::Verdict::kHandle);
  s.on_burst(32, 32, t += 1);  // the 64th: sustained
  s.begin_burst(true);
  int shed = 0;
  for (int i = 0; i < 32; ++i) shed += s.judge(kSyn) == LoadShed::Verdict::kShedOverload;
  CHECK(shed == 32 - LoadShed::kSynsPerBurst);
}

TEST_CASE("LoadShed: a mixed burst answers at most 8 new SYNs and every segment of existing flows", "[dp]") {
  Loop l;
  l.full_for(LoadShed::kSustainNs);
  REQUIRE(l.s.overloaded());
  LoadShed& s = l.s;
  s.begin_burst(true);
  int handled_syns = 0, shed = 0;
  for (int i = 0; i < 24; ++i) {
    const auto v = s.judge(kSyn);
    if (v == LoadShed::Verdict::kHandle) ++handled_syns;
    if (v == LoadShed::Verdict::kShedOverload) ++shed;
    // Existing flows are never shed, however many SYNs came before them.
    CHECK(s.judge(kAck) == LoadShed::Verdict::kHandle);
    CHECK(s.judge(kFinAck) == LoadShed::Verdict::kHandle);
    CHECK(s.judge(kSynAck) == LoadShed::Verdict::kHandle);
    CHECK(s.judge(kSyn | kRst) == LoadShed::Verdict::kHandle);
    CHECK(s.judge(0) == LoadShed::Verdict::kHandle);  // not TCP: the parser decides
  }
  CHECK(handled_syns == LoadShed::kSynsPerBurst);
  CHECK(shed == 24 - LoadShed::kSynsPerBurst);
}

TEST_CASE("LoadShed: a burst of nothing but SYNs is answered in full (cookies)", "[dp]") {
  Loop l;
  l.full_for(LoadShed::kSustainNs);
  l.s.begin_burst(false);
  for (int i = 0; i < 32; ++i) CHECK(l.s.judge(kSyn) == LoadShed::Verdict::kHandle);
}

TEST_CASE("LoadShed: not overloaded, SYNs pass; TX refusing frames sheds new SYNs only", "[dp]") {
  Loop l;
  LoadShed& s = l.s;
  l.burst(32);
  s.begin_burst(true);
  for (int i = 0; i < 32; ++i) CHECK(s.judge(kSyn) == LoadShed::Verdict::kHandle);
  CHECK_FALSE(s.active());
  s.on_tx(true);
  CHECK(s.active());
  CHECK(s.judge(kSyn) == LoadShed::Verdict::kShedTxFull);
  CHECK(s.judge(kAck) == LoadShed::Verdict::kHandle);
  s.on_tx(false);
  CHECK(s.judge(kSyn) == LoadShed::Verdict::kHandle);
}

TEST_CASE("LoadShed: active() exactly when judge() may shed (the worker skips looking at other bursts)", "[dp]") {
  Loop l;
  LoadShed& s = l.s;
  const uint8_t kinds[] = {kSyn, kAck, kSynAck, kFinAck, kRst, kSyn | kRst, 0};
  const auto all_handled = [&](bool mixed) {
    s.begin_burst(mixed);
    bool all = true;
    for (int i = 0; i < 40; ++i) {
      for (const uint8_t f : kinds) all = all && s.judge(f) == LoadShed::Verdict::kHandle;
    }
    return all;
  };
  CHECK_FALSE(s.active());
  CHECK(all_handled(true));
  // Overloaded (cookies) but not sustained: nothing is shed, nothing to look at.
  l.full_for(LoadShed::kSustainNs - 2 * Loop::kStep);
  REQUIRE(s.overloaded());
  CHECK_FALSE(s.active());
  CHECK(all_handled(true));
  // Sustained: mixed bursts shed SYNs beyond kSynsPerBurst.
  l.burst(32);
  l.burst(32);
  CHECK(s.active());
  CHECK_FALSE(all_handled(true));
  // Over (a burst under half full): inactive again; TX refusing makes it active.
  l.burst(3);
  CHECK_FALSE(s.overloaded());
  CHECK_FALSE(s.active());
  s.on_tx(true);
  CHECK(s.active());
  CHECK_FALSE(all_handled(false));
  s.on_tx(false);
  CHECK_FALSE(s.active());
}

TEST_CASE("UnmapGuard: munmap from another thread waits while a worker is inside a pass", "[dp]") {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  std::atomic<int> stage{0};
  std::atomic<bool> unmapped{false};
  std::thread worker([&] {
    UnmapGuard::Mark* m = UnmapGuard::attach();
    REQUIRE(m != nullptr);
    UnmapGuard::enter(m);
    stage.store(1);
    // Inside the pass: the memory stays readable however long this takes.
    for (int i = 0; i < 50; ++i) {
      CHECK_FALSE(unmapped.load());
      CHECK(static_cast<volatile uint8_t*>(p)[0] == 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    UnmapGuard::leave(m);
    UnmapGuard::detach(m);
  });
  while (stage.load() == 0) std::this_thread::yield();
  const uint64_t waits = UnmapGuard::waits();
  REQUIRE(munmap(p, 4096) == 0);  // the PMD's call: lands in UnmapGuard first
  unmapped.store(true);
  worker.join();
  CHECK(UnmapGuard::waits() == waits + 1);
  CHECK(UnmapGuard::gave_up() == 0);
}

TEST_CASE("synmill-gen: the client behaviours and --flap parse", "[gen]") {
  const std::vector<std::string> base{"--mode", "connect", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> a = base;
    a.insert(a.end(), more.begin(), more.end());
    return synmill::gen::parse_gen_args(a);
  };
  auto r = with({"--no-time-wait", "--drop-final-acks", "0.25", "--ignore-fin-rtx", "--rto", "200", "--retries", "2",
                 "--http", "mix", "--flap", "20", "--flap-down", "0.1", "--then-rate", "500", "--then-duration", "3"});
  REQUIRE(r.index() == 0);
  const auto& c = std::get<0>(r);
  CHECK(c.no_time_wait);
  CHECK(c.drop_final_acks == 0.25);
  CHECK(c.ignore_fin_retransmits);
  CHECK(c.fixed_rto.count_ms() == 200);
  CHECK(c.retries == 2);
  CHECK(c.http == synmill::gen::HttpRequest::kMix);
  CHECK(c.flaps == 20);
  CHECK(c.flap_down.count_ms() == 100);
  CHECK(c.then_rate == 500);
  CHECK(c.then_duration.count_ms() == 3000);
  CHECK(std::get<0>(with({"--drop-fin-acks", "1"})).drop_fin_acks == 1.0);
  CHECK(with({"--drop-final-acks", "1.5"}).index() == 1);
  CHECK(with({"--drop-final-acks", "x"}).index() == 1);
  CHECK(with({"--http", "maybe"}).index() == 1);
  CHECK(with({"--no-time-wait=1"}).index() == 1);
}
