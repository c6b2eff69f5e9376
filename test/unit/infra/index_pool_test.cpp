#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <vector>

#include "infra_check.hpp"
#include "tcp/index_pool.hpp"

using synmill::tcp::IndexPool;

TEST_CASE("IndexPool hands out 0..capacity-1 and reports exhaustion", "[infra]") {
  IndexPool p(4);
  REQUIRE(p.capacity() == 4);
  REQUIRE(p.available() == 4);
  REQUIRE(p.in_use() == 0);
  for (uint32_t i = 0; i < 4; ++i) REQUIRE(p.acquire() == i);
  REQUIRE(p.acquire() == IndexPool::kNone);
  REQUIRE(p.in_use() == 4);
  REQUIRE(p.available() == 0);
  p.release(2);
  REQUIRE(p.is_free(2));
  REQUIRE(p.acquire() == 2);  // LIFO: the slot just released comes back first
  for (uint32_t i = 0; i < 4; ++i) p.release(i);
  REQUIRE(p.in_use() == 0);
  REQUIRE(p.available() == 4);
}

TEST_CASE("IndexPool with capacity 0", "[infra]") {
  IndexPool p(0);
  REQUIRE(p.acquire() == IndexPool::kNone);
  REQUIRE(p.in_use() == 0);
}

TEST_CASE("IndexPool randomized against std::set", "[infra]") {
  constexpr uint32_t kCap = 1000;
  IndexPool p(kCap);
  std::mt19937_64 rng(42);
  std::set<uint32_t> used;
  std::vector<uint32_t> used_vec;
  uint32_t hit_full = 0, hit_empty = 0;
  for (int op = 0; op < 1'000'000; ++op) {
    // Alternate phases biased towards filling and draining so both ends are hit.
    const bool filling = (op / 20'000) % 2 == 0;
    const bool do_acquire = (rng() % 100) < (filling ? 70u : 30u);
    if (do_acquire) {
      const uint32_t idx = p.acquire();
      if (used.size() == kCap) {
        INFRA_CHECK(idx == IndexPool::kNone);
        ++hit_full;
      } else {
        INFRA_CHECK(idx < kCap);
        INFRA_CHECK(used.insert(idx).second);
        used_vec.push_back(idx);
      }
    } else if (!used_vec.empty()) {
      const size_t k = rng() % used_vec.size();
      const uint32_t idx = used_vec[k];
      used_vec[k] = used_vec.back();
      used_vec.pop_back();
      used.erase(idx);
      p.release(idx);
      INFRA_CHECK(p.is_free(idx));
    } else {
      ++hit_empty;
    }
    INFRA_CHECK(p.in_use() == used.size());
    INFRA_CHECK(p.available() == kCap - used.size());
  }
  REQUIRE(hit_full > 0);
  REQUIRE(hit_empty > 0);
  for (uint32_t idx : used_vec) p.release(idx);
  REQUIRE(p.in_use() == 0);
  REQUIRE(p.available() == kCap);
}

// Threaded: the free list runs through the owner's records (index_pool.hpp);
// the same LIFO order as the stack, and the links live in the free records.
TEST_CASE("IndexPool threaded through records behaves as the stack", "[infra]") {
  struct Rec {
    uint32_t a, link, b;
  };
  constexpr uint32_t kCap = 64;
  std::vector<Rec> recs(kCap, Rec{0xaaaaaaaa, 0, 0xbbbbbbbb});
  IndexPool t(kCap);
  t.thread_through(&recs[0].link, sizeof(Rec));
  IndexPool s(kCap);
  REQUIRE(t.bytes_per_slot() == Approx(1.0 / 8));
  REQUIRE(s.bytes_per_slot() == Approx(4 + 1.0 / 8));
  std::mt19937_64 rng(7);
  std::vector<uint32_t> held;
  for (int op = 0; op < 100'000; ++op) {
    if (rng() % 2 == 0) {
      const uint32_t x = t.acquire();
      INFRA_CHECK(x == s.acquire());
      if (x != IndexPool::kNone) held.push_back(x);
    } else if (!held.empty()) {
      const size_t k = rng() % held.size();
      const uint32_t x = held[k];
      held[k] = held.back();
      held.pop_back();
      t.release(x);
      s.release(x);
    }
    INFRA_CHECK(t.in_use() == s.in_use());
  }
  for (const Rec& r : recs) {  // only the link word is the pool's
    INFRA_CHECK(r.a == 0xaaaaaaaa);
    INFRA_CHECK(r.b == 0xbbbbbbbb);
  }
}
