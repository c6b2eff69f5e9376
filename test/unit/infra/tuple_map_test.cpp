#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "infra_check.hpp"
#include "tcp/tuple_map.hpp"

using synmill::tcp::FourTuple;
using synmill::tcp::TupleMap;

namespace {

auto as_key(const FourTuple& t) { return std::tuple(t.local_ip, t.remote_ip, t.local_port, t.remote_port); }

FourTuple tuple_of(uint32_t remote_ip, uint16_t remote_port) {
  // Addresses from the benchmarking range 198.18.0.0/15.
  return FourTuple{0xC6120001u, remote_ip, 80, remote_port};
}

// Distinct tuples that vary in every field, including ones differing in one
// field only (the compare must look at all 12 bytes).
std::vector<FourTuple> make_domain(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>> seen;
  std::vector<FourTuple> out;
  while (out.size() < n) {
    FourTuple t{0xC6120000u | static_cast<uint32_t>(rng() % 4), 0xC6130000u | static_cast<uint32_t>(rng() % 64),
                static_cast<uint16_t>(80 + rng() % 3), static_cast<uint16_t>(rng() % 64)};
    if (seen.insert(as_key(t)).second) out.push_back(t);
  }
  return out;
}

}  // namespace

TEST_CASE("TupleMap basic insert/find/erase", "[infra]") {
  TupleMap m(8, 0x1234);
  REQUIRE(m.capacity() == 8);
  REQUIRE(m.table_size() == 16);
  REQUIRE(m.size() == 0);
  const FourTuple a = tuple_of(0xC6130001, 1000);
  const FourTuple b = tuple_of(0xC6130001, 1001);
  REQUIRE(m.find(a) == TupleMap::kNotFound);
  REQUIRE(m.insert(a, 7));
  REQUIRE_FALSE(m.insert(a, 8));  // key exists
  REQUIRE(m.find(a) == 7);
  REQUIRE(m.find(b) == TupleMap::kNotFound);
  REQUIRE(m.insert(b, 0));
  REQUIRE(m.find(b) == 0);
  REQUIRE(m.size() == 2);
  REQUIRE(m.erase(a));
  REQUIRE_FALSE(m.erase(a));
  REQUIRE(m.find(a) == TupleMap::kNotFound);
  REQUIRE(m.find(b) == 0);
  REQUIRE(m.erase(b));
  REQUIRE(m.size() == 0);
}

TEST_CASE("TupleMap refuses inserts when full and accepts again after erase", "[infra]") {
  TupleMap m(5, 99);
  REQUIRE(m.table_size() == 16);
  for (uint16_t p = 0; p < 5; ++p) REQUIRE(m.insert(tuple_of(1, p), p));
  REQUIRE_FALSE(m.insert(tuple_of(1, 5), 5));
  REQUIRE(m.size() == 5);
  REQUIRE(m.erase(tuple_of(1, 3)));
  REQUIRE(m.insert(tuple_of(1, 5), 5));
  for (uint16_t p = 0; p < 6; ++p) REQUIRE(m.find(tuple_of(1, p)) == (p == 3 ? TupleMap::kNotFound : p));
}

TEST_CASE("TupleMap capacity 0 and 1", "[infra]") {
  TupleMap z(0, 1);
  REQUIRE(z.find(tuple_of(1, 1)) == TupleMap::kNotFound);
  REQUIRE_FALSE(z.insert(tuple_of(1, 1), 1));
  REQUIRE_FALSE(z.erase(tuple_of(1, 1)));
  TupleMap one(1, 1);
  REQUIRE(one.insert(tuple_of(1, 1), 1));
  REQUIRE_FALSE(one.insert(tuple_of(1, 2), 2));
  REQUIRE(one.find(tuple_of(1, 1)) == 1);
}

TEST_CASE("TupleMap hash depends on the seed", "[infra]") {
  TupleMap a(16, 1), b(16, 2);
  const auto dom = make_domain(64, 3);
  int same = 0;
  for (const auto& t : dom) same += a.hash(t) == b.hash(t) ? 1 : 0;
  REQUIRE(same == 0);
  // Same seed, same hash.
  TupleMap a2(16, 1);
  for (const auto& t : dom) REQUIRE(a.hash(t) == a2.hash(t));
}

TEST_CASE("TupleMap colliding cluster wrapping the table end, erased from the middle", "[infra]") {
  // capacity 8 -> 16 slots. Find tuples homed at slots 14 and 15 so the probe
  // cluster wraps round to slots 0.. and erase forces backward shifts across the wrap.
  TupleMap m(8, 0xfeed);
  std::vector<FourTuple> at14, at15, at0;
  for (uint16_t p = 0; at14.size() < 3 || at15.size() < 3 || at0.size() < 2; ++p) {
    const FourTuple t = tuple_of(0xC6130000u, p);
    const auto home = static_cast<uint32_t>(m.hash(t)) & (m.table_size() - 1);
    if (home == 14 && at14.size() < 3) at14.push_back(t);
    if (home == 15 && at15.size() < 3) at15.push_back(t);
    if (home == 0 && at0.size() < 2) at0.push_back(t);
  }
  std::vector<FourTuple> all;
  for (auto* v : {&at14, &at15, &at0}) all.insert(all.end(), v->begin(), v->end());
  REQUIRE(all.size() == 8);
  for (uint32_t i = 0; i < all.size(); ++i) REQUIRE(m.insert(all[i], i));
  // Erase in several orders and check everything else is still found.
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint32_t> order(all.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::set<uint32_t> present(order.begin(), order.end());
    for (uint32_t k : order) {
      REQUIRE(m.erase(all[k]));
      present.erase(k);
      for (uint32_t i = 0; i < all.size(); ++i) {
        REQUIRE(m.find(all[i]) == (present.count(i) ? i : TupleMap::kNotFound));
      }
    }
    REQUIRE(m.size() == 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (uint32_t k : order) REQUIRE(m.insert(all[k], k));
  }
}

TEST_CASE("TupleMap randomized against std::map", "[infra]") {
  constexpr uint32_t kCap = 1000;
  const auto dom = make_domain(2200, 11);
  TupleMap m(kCap, 0xdeadbeefcafef00dull);
  std::map<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>, uint32_t> model;
  std::mt19937_64 rng(7);
  uint32_t full_refusals = 0;
  for (int op = 0; op < 1'000'000; ++op) {
    const FourTuple& t = dom[rng() % dom.size()];
    const auto key = as_key(t);
    const bool filling = (op / 25'000) % 2 == 0;
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    if (r < (filling ? 60u : 25u)) {
      const auto value = static_cast<uint32_t>(rng() % 0xfffffff0u);
      const bool exists = model.count(key) != 0;
      const bool full = model.size() == kCap;
      const bool ok = m.insert(t, value);
      INFRA_CHECK(ok == (!exists && !full));
      if (ok) model[key] = value;
      if (!exists && full) ++full_refusals;
    } else if (r < 75) {
      const bool ok = m.erase(t);
      INFRA_CHECK(ok == (model.erase(key) == 1));
    } else {
      const auto it = model.find(key);
      INFRA_CHECK(m.find(t) == (it == model.end() ? TupleMap::kNotFound : it->second));
    }
    INFRA_CHECK(m.size() == model.size());
    if (op % 50'000 == 0) {
      for (const auto& u : dom) {
        const auto it = model.find(as_key(u));
        INFRA_CHECK(m.find(u) == (it == model.end() ? TupleMap::kNotFound : it->second));
      }
    }
  }
  REQUIRE(full_refusals > 0);
  for (const auto& u : dom) m.erase(u);
  REQUIRE(m.size() == 0);
  for (const auto& u : dom) REQUIRE(m.find(u) == TupleMap::kNotFound);
}
