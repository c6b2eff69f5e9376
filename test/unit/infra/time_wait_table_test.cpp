#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "infra_check.hpp"
#include "tcp/time_wait_table.hpp"

using synmill::tcp::Duration;
using synmill::tcp::FourTuple;
using synmill::tcp::Instant;
using synmill::tcp::TimeWaitEntry;
using synmill::tcp::TimeWaitTable;

static_assert(sizeof(TimeWaitEntry) <= 32);

namespace {

constexpr Instant kStart{5'000'000'000};
constexpr Duration kTw = Duration::s(60);

TimeWaitEntry entry_for(uint16_t remote_port, uint32_t seed = 0) {
  TimeWaitEntry e;
  e.tuple = FourTuple{0xC6120001u, 0xC6130002u, 443, remote_port};
  e.snd_nxt = 1000 + seed;
  e.rcv_nxt = 2000 + seed;
  e.ts_recent = 3000 + seed;
  e.rcv_wnd = static_cast<uint16_t>(seed);
  e.flags = static_cast<uint8_t>(seed & TimeWaitEntry::kFlagTimestamps);
  return e;
}

bool same(const TimeWaitEntry& a, const TimeWaitEntry& b) {
  return a.tuple == b.tuple && a.snd_nxt == b.snd_nxt && a.rcv_nxt == b.rcv_nxt && a.ts_recent == b.ts_recent &&
         a.rcv_wnd == b.rcv_wnd && a.flags == b.flags;
}

auto as_key(const FourTuple& t) { return std::tuple(t.local_ip, t.remote_ip, t.local_port, t.remote_port); }

}  // namespace

TEST_CASE("TimeWaitTable insert, find, erase, full, duplicate", "[infra]") {
  TimeWaitTable t(3, kTw, 77, kStart);
  REQUIRE(t.capacity() == 3);
  REQUIRE(t.time_wait() == kTw);
  TimeWaitEntry* a = t.insert(entry_for(1, 1), kStart);
  REQUIRE(a != nullptr);
  REQUIRE(same(*a, entry_for(1, 1)));
  REQUIRE(t.expiry(a) == kStart + kTw);
  REQUIRE(t.insert(entry_for(1, 2), kStart) == nullptr);  // tuple exists
  REQUIRE(t.insert(entry_for(2), kStart) != nullptr);
  REQUIRE(t.insert(entry_for(3), kStart) != nullptr);
  REQUIRE(t.insert(entry_for(4), kStart) == nullptr);  // full
  REQUIRE(t.size() == 3);
  REQUIRE(t.find(entry_for(1).tuple) == a);
  REQUIRE(t.find(entry_for(4).tuple) == nullptr);
  const TimeWaitTable& ct = t;
  REQUIRE(ct.find(entry_for(1).tuple) == a);
  REQUIRE(ct.find(entry_for(4).tuple) == nullptr);
  t.erase(t.find(entry_for(2).tuple));  // e.g. reused by a new SYN (RFC 6191)
  REQUIRE(t.find(entry_for(2).tuple) == nullptr);
  REQUIRE(t.size() == 2);
  REQUIRE(t.insert(entry_for(4), kStart) != nullptr);
  // Entries are mutable in place (e.g. ts_recent update).
  t.find(entry_for(4).tuple)->ts_recent = 99;
  REQUIRE(t.find(entry_for(4).tuple)->ts_recent == 99);
}

TEST_CASE("TimeWaitTable expires in order, never early, restart pushes back", "[infra]") {
  TimeWaitTable t(8, kTw, 5, kStart);
  for (uint16_t p = 0; p < 4; ++p) REQUIRE(t.insert(entry_for(p), kStart + Duration::s(p)) != nullptr);
  // A retransmitted FIN restarts entry 0's 2MSL (RFC 9293 §3.10.7.4).
  t.restart(t.find(entry_for(0).tuple), kStart + Duration::s(10));
  std::vector<uint16_t> expired;
  auto collect = [&](const TimeWaitEntry& e) { expired.push_back(e.tuple.remote_port); };
  t.expire(kStart + kTw - Duration::ns(1), collect);
  REQUIRE(expired.empty());
  t.expire(kStart + kTw + Duration::s(2), collect);
  REQUIRE(expired == std::vector<uint16_t>{1, 2});
  t.expire(kStart + kTw + Duration::s(9), collect);
  REQUIRE(expired == std::vector<uint16_t>{1, 2, 3});
  REQUIRE(t.size() == 1);
  t.expire(kStart + kTw + Duration::s(10), collect);
  REQUIRE(expired == std::vector<uint16_t>{1, 2, 3, 0});
  REQUIRE(t.size() == 0);
  t.expire(kStart + Duration::s(1000), collect);  // empty: nothing happens
  REQUIRE(expired.size() == 4);
}

TEST_CASE("TimeWaitTable erase/restart of head, tail and middle", "[infra]") {
  TimeWaitTable t(4, kTw, 5, kStart);
  std::vector<TimeWaitEntry*> e;
  for (uint16_t p = 0; p < 4; ++p) e.push_back(t.insert(entry_for(p), kStart + Duration::s(p)));
  t.erase(e[0]);                               // head
  t.erase(e[3]);                               // tail
  t.restart(e[1], kStart + Duration::s(5));   // head becomes tail
  t.restart(e[1], kStart + Duration::s(6));   // tail restarted again
  std::vector<uint16_t> expired;
  t.expire(kStart + Duration::s(1000), [&](const TimeWaitEntry& x) { expired.push_back(x.tuple.remote_port); });
  REQUIRE(expired == std::vector<uint16_t>{2, 1});
  REQUIRE(t.size() == 0);
  // Slots are reusable: fill again.
  for (uint16_t p = 10; p < 14; ++p) REQUIRE(t.insert(entry_for(p), kStart + Duration::s(1000)) != nullptr);
  REQUIRE(t.insert(entry_for(20), kStart + Duration::s(1000)) == nullptr);
}

TEST_CASE("TimeWaitTable clamps expiry when now goes backwards", "[infra]") {
  TimeWaitTable t(4, kTw, 5, kStart);
  t.insert(entry_for(1), kStart + Duration::s(10));
  TimeWaitEntry* b = t.insert(entry_for(2), kStart + Duration::s(5));  // earlier now
  REQUIRE(t.expiry(b) == kStart + Duration::s(10) + kTw);  // never earlier than what precedes it
  std::vector<uint16_t> expired;
  t.expire(kStart + Duration::s(5) + kTw, [&](const TimeWaitEntry& x) { expired.push_back(x.tuple.remote_port); });
  REQUIRE(expired.empty());
}

TEST_CASE("TimeWaitTable randomized against std::map", "[infra]") {
  constexpr uint32_t kCap = 500;
  const Duration tw = Duration::ms(500);
  TimeWaitTable t(kCap, tw, 0xabcdef, kStart);
  struct Model {
    TimeWaitEntry e;
    Instant expire;
  };
  std::map<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>, Model> model;
  std::mt19937_64 rng(31337);
  Instant now = kStart;
  uint64_t expired_total = 0, full_refusals = 0;
  for (int op = 0; op < 1'000'000; ++op) {
    const auto port = static_cast<uint16_t>(rng() % 1200);
    const auto seed = static_cast<uint32_t>(rng());
    const TimeWaitEntry proto = entry_for(port, seed);
    const auto key = as_key(proto.tuple);
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    if (r < 40) {
      TimeWaitEntry* p = t.insert(proto, now);
      const bool exists = model.count(key) != 0;
      const bool full = model.size() == kCap;
      INFRA_CHECK((p != nullptr) == (!exists && !full));
      if (p != nullptr) {
        INFRA_CHECK(same(*p, proto));
        model[key] = Model{proto, now + tw};
      }
      if (!exists && full) ++full_refusals;
    } else if (r < 55) {
      TimeWaitEntry* p = t.find(proto.tuple);
      const auto it = model.find(key);
      INFRA_CHECK((p != nullptr) == (it != model.end()));
      if (p != nullptr) {
        INFRA_CHECK(same(*p, it->second.e));
        INFRA_CHECK(t.expiry(p) == it->second.expire);
      }
    } else if (r < 63) {
      if (TimeWaitEntry* p = t.find(proto.tuple)) {
        t.erase(p);
        model.erase(key);
      }
    } else if (r < 73) {
      if (TimeWaitEntry* p = t.find(proto.tuple)) {
        t.restart(p, now);
        model[key].expire = now + tw;
      }
    } else {
      // Alternate slow phases (the table fills up) and fast ones (it drains).
      const uint64_t max_step = (op / 50'000) % 2 == 0 ? 100'000 : 20'000'000;
      now = now + Duration::ns(static_cast<int64_t>(rng() % max_step));
      if (rng() % 200 == 0) now = now + Duration::s(3);
      t.expire(now, [&](const TimeWaitEntry& x) {
        const auto it = model.find(as_key(x.tuple));
        INFRA_CHECK(it != model.end());
        INFRA_CHECK(it->second.expire <= now);
        INFRA_CHECK(same(x, it->second.e));
        model.erase(it);
        ++expired_total;
      });
      for (const auto& [k, m] : model) INFRA_CHECK(m.expire > now);
    }
    INFRA_CHECK(t.size() == model.size());
  }
  REQUIRE(expired_total > 10'000);
  REQUIRE(full_refusals > 0);
  t.expire(now + tw, [&](const TimeWaitEntry& x) { INFRA_CHECK(model.erase(as_key(x.tuple)) == 1); });
  REQUIRE(model.empty());
  REQUIRE(t.size() == 0);
}

TEST_CASE("TimeWaitTable for_each visits live entries only, up to a limit", "[infra]") {
  TimeWaitTable t(4, kTw, 78, kStart);
  const auto collect = [&t](uint32_t limit) {
    std::map<uint16_t, int64_t> seen;
    t.for_each(limit, [&seen](const TimeWaitEntry& e, Instant at) { seen[e.tuple.remote_port] = at.ns(); });
    return seen;
  };
  REQUIRE(collect(10).empty());
  REQUIRE(t.insert(entry_for(1), kStart) != nullptr);
  REQUIRE(t.insert(entry_for(2), kStart + Duration::s(1)) != nullptr);
  REQUIRE(t.insert(entry_for(3), kStart + Duration::s(2)) != nullptr);
  t.erase(t.find(entry_for(2).tuple));
  auto seen = collect(10);
  REQUIRE(seen.size() == 2);
  REQUIRE(seen.at(1) == (kStart + kTw).ns());
  REQUIRE(seen.at(3) == (kStart + Duration::s(2) + kTw).ns());
  REQUIRE(collect(1).size() == 1);
  t.expire(kStart + kTw, [](const TimeWaitEntry&) {});
  seen = collect(10);
  REQUIRE(seen.size() == 1);
  REQUIRE(seen.count(3) == 1);
}
