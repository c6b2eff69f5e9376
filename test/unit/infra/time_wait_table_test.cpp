#include <catch2/catch.hpp>

#include <algorithm>
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

constexpr TimeWaitTable::Ref kNone = TimeWaitTable::kNone;

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
  const TimeWaitTable::Ref a = t.insert(entry_for(1, 1), kStart);
  REQUIRE(a != kNone);
  REQUIRE(same(t.get(a), entry_for(1, 1)));
  REQUIRE(t.expiry(a) == kStart + kTw);
  REQUIRE(t.insert(entry_for(1, 2), kStart) == kNone);  // tuple exists
  REQUIRE(t.insert(entry_for(2), kStart) != kNone);
  REQUIRE(t.insert(entry_for(3), kStart) != kNone);
  REQUIRE(t.insert(entry_for(4), kStart) == kNone);  // full
  REQUIRE(t.size() == 3);
  REQUIRE(t.find(entry_for(1).tuple) == a);
  REQUIRE(t.find(entry_for(4).tuple) == kNone);
  const TimeWaitTable& ct = t;
  REQUIRE(ct.find(entry_for(1).tuple) == a);
  REQUIRE(ct.find(entry_for(4).tuple) == kNone);
  t.erase(t.find(entry_for(2).tuple));  // e.g. reused by a new SYN (RFC 6191)
  REQUIRE(t.find(entry_for(2).tuple) == kNone);
  REQUIRE(t.size() == 2);
  REQUIRE(t.insert(entry_for(4), kStart) != kNone);  // the dead slot was compacted away
  REQUIRE(same(t.get(t.find(entry_for(4).tuple)), entry_for(4)));
  REQUIRE(same(t.get(t.find(entry_for(1).tuple)), entry_for(1, 1)));
  REQUIRE(same(t.get(t.find(entry_for(3).tuple)), entry_for(3)));
}

TEST_CASE("TimeWaitTable expires in order, never early, restart pushes back", "[infra]") {
  TimeWaitTable t(8, kTw, 5, kStart);
  for (uint16_t p = 0; p < 4; ++p) REQUIRE(t.insert(entry_for(p), kStart + Duration::s(p)) != kNone);
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
  for (uint16_t p = 0; p < 4; ++p) REQUIRE(t.insert(entry_for(p), kStart + Duration::s(p)) != kNone);
  const auto at = [&t](uint16_t p) { return t.find(entry_for(p).tuple); };
  t.erase(at(0));                                   // head
  REQUIRE(t.ring_used() == 3);                      // dropped at once
  t.erase(at(3));                                   // tail
  REQUIRE(t.ring_used() == 2);
  REQUIRE(t.restart(at(1), kStart + Duration::s(5)));  // head becomes tail
  REQUIRE(t.ring_used() == 2);
  REQUIRE(t.restart(at(1), kStart + Duration::s(6)));  // tail restarted again, in place
  REQUIRE(t.expiry(at(1)) == kStart + Duration::s(6) + kTw);
  REQUIRE(t.expiry(at(2)) == kStart + Duration::s(2) + kTw);
  std::vector<uint16_t> expired;
  t.expire(kStart + Duration::s(1000), [&](const TimeWaitEntry& x) { expired.push_back(x.tuple.remote_port); });
  REQUIRE(expired == std::vector<uint16_t>{2, 1});
  REQUIRE(t.size() == 0);
  // Slots are reusable: fill again.
  for (uint16_t p = 10; p < 14; ++p) REQUIRE(t.insert(entry_for(p), kStart + Duration::s(1000)) != kNone);
  REQUIRE(t.insert(entry_for(20), kStart + Duration::s(1000)) == kNone);
}

TEST_CASE("TimeWaitTable clamps expiry when now goes backwards", "[infra]") {
  TimeWaitTable t(4, kTw, 5, kStart);
  t.insert(entry_for(1), kStart + Duration::s(10));
  const TimeWaitTable::Ref b = t.insert(entry_for(2), kStart + Duration::s(5));  // earlier now
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
  // Expiry stamps are whole milliseconds from the start, rounded up.
  const auto expiry_of = [&](Instant now) {
    const int64_t ns = (now - kStart).count_ns() + tw.count_ns();
    return kStart + Duration::ms((ns + 999'999) / 1'000'000);
  };
  std::map<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>, Model> model;
  std::mt19937_64 rng(31337);
  Instant now = kStart;
  uint64_t expired_total = 0, full_refusals = 0, ring_refusals = 0, restarts_refused = 0;
  for (int op = 0; op < 1'000'000; ++op) {
    const auto port = static_cast<uint16_t>(rng() % 1200);
    const auto seed = static_cast<uint32_t>(rng());
    const TimeWaitEntry proto = entry_for(port, seed);
    const auto key = as_key(proto.tuple);
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    if (r < 40) {
      const bool ring_full = t.ring_used() == kCap;
      const TimeWaitTable::Ref p = t.insert(proto, now);
      const bool exists = model.count(key) != 0;
      const bool full = model.size() == kCap;
      if (p == kNone && !exists && !full) {
        // Refused short of capacity only while the ring is full of live and
        // (fewer than 1/16) dead slots.
        INFRA_CHECK(ring_full);
        ++ring_refusals;
      } else {
        INFRA_CHECK((p != kNone) == (!exists && !full));
      }
      if (p != kNone) {
        INFRA_CHECK(same(t.get(p), proto));
        model[key] = Model{proto, expiry_of(now)};
      }
      if (!exists && full) ++full_refusals;
    } else if (r < 55) {
      const TimeWaitTable::Ref p = t.find(proto.tuple);
      const auto it = model.find(key);
      INFRA_CHECK((p != kNone) == (it != model.end()));
      if (p != kNone) {
        INFRA_CHECK(same(t.get(p), it->second.e));
        INFRA_CHECK(t.expiry(p) == it->second.expire);
      }
    } else if (r < 63) {
      if (const TimeWaitTable::Ref p = t.find(proto.tuple); p != kNone) {
        t.erase(p);
        model.erase(key);
      }
    } else if (r < 73) {
      if (const TimeWaitTable::Ref p = t.find(proto.tuple); p != kNone) {
        const bool ring_full = t.ring_used() == kCap;
        if (t.restart(p, now)) {
          model[key].expire = expiry_of(now);
        } else {
          INFRA_CHECK(ring_full);
          ++restarts_refused;
        }
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
  REQUIRE(full_refusals + ring_refusals > 0);
  WARN("refused short of capacity (ring full): " << ring_refusals << " inserts, " << restarts_refused
                                                  << " restarts");
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
  REQUIRE(t.insert(entry_for(1), kStart) != kNone);
  REQUIRE(t.insert(entry_for(2), kStart + Duration::s(1)) != kNone);
  REQUIRE(t.insert(entry_for(3), kStart + Duration::s(2)) != kNone);
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

// ---- the compact layout (issue 12: <= 32 bytes per capacity slot) ---------------

namespace {

FourTuple flood_tuple(uint32_t i) {
  // A server's view: one local address and port, many remote ones.
  return FourTuple{0xC6120001u, 0xC6130000u + (i >> 14), 443, static_cast<uint16_t>(1024 + (i & 0x3fff))};
}

TimeWaitEntry flood_entry(uint32_t i) {
  TimeWaitEntry e;
  e.tuple = flood_tuple(i);
  e.snd_nxt = i * 3;
  e.rcv_nxt = i * 5;
  e.ts_recent = i * 7;
  e.rcv_wnd = static_cast<uint16_t>(i);
  e.flags = static_cast<uint8_t>(i & 1);
  return e;
}

}  // namespace

TEST_CASE("TimeWaitTable: at most 32 bytes per capacity slot", "[infra][time_wait]") {
  for (uint32_t cap : {4096u, 65536u, 1u << 20, 1u << 24}) {
    const TimeWaitTable t(cap, kTw, 1, kStart);
    const double per_slot = static_cast<double>(t.bytes()) / cap;
    INFO("capacity " << cap << ": " << t.bytes() << " bytes, " << per_slot << " per slot");
    CHECK(per_slot <= 32.0);
    CHECK(t.index_slots() > cap);  // load <= 0.7: always an empty index slot
  }
}

TEST_CASE("TimeWaitTable: filled to capacity, then a flood of closes; probes stay bounded",
          "[infra][time_wait]") {
  constexpr uint32_t kCap = 65536;
  TimeWaitTable t(kCap, kTw, 0x1234, kStart);
  Instant now = kStart;
  // Fill: every one of kCap entries fits (the probe bound never refuses one).
  for (uint32_t i = 0; i < kCap; ++i) {
    if (t.insert(flood_entry(i), now) == TimeWaitTable::kNone)
      FAIL("refused entry " << i << " of " << kCap << ": probe " << t.probe_length(flood_tuple(i)));
  }
  REQUIRE(t.size() == kCap);
  REQUIRE(t.insert(flood_entry(kCap), now) == TimeWaitTable::kNone);  // full
  const auto probe_stats = [&t](uint32_t from, uint32_t to) {
    uint64_t sum = 0;
    uint32_t max = 0;
    for (uint32_t i = from; i < to; ++i) {
      const uint32_t n = t.probe_length(flood_tuple(i));
      sum += n;
      max = std::max(max, n);
    }
    return std::pair<double, uint32_t>(static_cast<double>(sum) / (to - from), max);
  };
  auto [hit_mean, hit_max] = probe_stats(0, kCap);
  auto [miss_mean, miss_max] = probe_stats(kCap, 2 * kCap);
  WARN("full table: hits probe " << hit_mean << " slots on average (max " << hit_max << "), misses " << miss_mean
                                 << " (max " << miss_max << "); bound " << TimeWaitTable::kMaxProbe);
  CHECK(hit_max <= TimeWaitTable::kMaxProbe);
  CHECK(miss_max <= TimeWaitTable::kMaxProbe);
  CHECK(hit_mean < 3);
  CHECK(miss_mean < 8);
  // A flood of closes: 20 rounds of kCap new tuples each, entering as the
  // oldest expire (a full table at every moment), some restarted, some erased.
  uint32_t next = kCap;
  for (int round = 0; round < 20; ++round) {
    now = now + kTw;
    uint32_t expired = 0;
    t.expire(now, [&expired](const TimeWaitEntry&) { ++expired; });
    INFRA_CHECK(t.size() == 0);
    INFRA_CHECK(expired > 0);
    for (uint32_t k = 0; k < kCap; ++k) {
      INFRA_CHECK(t.insert(flood_entry(next + k), now) != TimeWaitTable::kNone);
      if (k % 7 == 0) {
        const TimeWaitTable::Ref r = t.find(flood_tuple(next + k / 2));
        if (r != TimeWaitTable::kNone) t.restart(r, now);  // (refused when the ring is full)
      }
      if (k % 11 == 0) t.erase(t.find(flood_tuple(next + k)));
    }
    next += kCap;
  }
  const uint32_t last = next - kCap;
  std::tie(hit_mean, hit_max) = probe_stats(last, next);
  std::tie(miss_mean, miss_max) = probe_stats(0, kCap);
  WARN("after 20 rounds of closes: hits " << hit_mean << " (max " << hit_max << "), misses " << miss_mean
                                          << " (max " << miss_max << ")");
  CHECK(hit_max <= TimeWaitTable::kMaxProbe);
  CHECK(miss_max <= TimeWaitTable::kMaxProbe);
  CHECK(hit_mean < 4);
  CHECK(miss_mean < 10);
  // Everything still there is what was put there.
  uint32_t live = 0;
  for (uint32_t i = last; i < next; ++i) {
    const TimeWaitTable::Ref r = t.find(flood_tuple(i));
    if (r == TimeWaitTable::kNone) continue;
    ++live;
    INFRA_CHECK(same(t.get(r), flood_entry(i)));
  }
  CHECK(live == t.size());
}

TEST_CASE("TimeWaitTable: a restart into a full ring compacts once 1/16 is dead, else keeps the expiry",
          "[infra][time_wait]") {
  constexpr uint32_t kCap = 64;
  TimeWaitTable t(kCap, kTw, 9, kStart);
  for (uint32_t i = 0; i < kCap; ++i) REQUIRE(t.insert(flood_entry(i), kStart + Duration::ms(i)) != TimeWaitTable::kNone);
  REQUIRE(t.ring_used() == kCap);
  const Instant later = kStart + Duration::s(1);
  // Full of live entries: a restart has nowhere to go and keeps its expiry.
  REQUIRE_FALSE(t.restart(t.find(flood_tuple(10)), later));
  REQUIRE(t.expiry(t.find(flood_tuple(10))) == kStart + Duration::ms(10) + kTw);
  // Three dead slots inside (less than 64 / 16 = 4): still no room.
  for (uint32_t i : {20u, 30u, 40u}) t.erase(t.find(flood_tuple(i)));
  REQUIRE(t.ring_used() == kCap);
  REQUIRE_FALSE(t.restart(t.find(flood_tuple(10)), later));
  REQUIRE(t.insert(flood_entry(1000), later) == TimeWaitTable::kNone);  // refused short of capacity
  // A fourth: compaction, and the restart moves the entry to the tail.
  t.erase(t.find(flood_tuple(50)));
  REQUIRE(t.restart(t.find(flood_tuple(10)), later));
  REQUIRE(t.ring_used() == kCap - 3);
  REQUIRE(t.expiry(t.find(flood_tuple(10))) == later + kTw);
  REQUIRE(t.size() == kCap - 4);
  for (uint32_t i = 0; i < kCap; ++i) {
    const bool gone = i == 20 || i == 30 || i == 40 || i == 50;
    const TimeWaitTable::Ref r = t.find(flood_tuple(i));
    REQUIRE((r == TimeWaitTable::kNone) == gone);
    if (!gone) REQUIRE(same(t.get(r), flood_entry(i)));
  }
  // Expiry order survives: 0..63 by their stamps, 10 last.
  std::vector<uint32_t> order;
  t.expire(later + kTw, [&order](const TimeWaitEntry& e) { order.push_back(e.snd_nxt / 3); });
  REQUIRE(order.size() == kCap - 4);
  REQUIRE(order.back() == 10);
  REQUIRE(std::is_sorted(order.begin(), order.end() - 1));
  REQUIRE(t.size() == 0);
  REQUIRE(t.ring_used() == 0);
}

TEST_CASE("TimeWaitTable: up to 255 local addresses at once", "[infra][time_wait]") {
  TimeWaitTable t(16384, kTw, 3, kStart);  // 16384 / 64 = 256: the most, 255
  const auto entry_at = [](uint32_t local_ip, uint16_t port) {
    TimeWaitEntry e = entry_for(port);
    e.tuple.local_ip = local_ip;
    return e;
  };
  for (uint32_t a = 0; a < TimeWaitTable::kMaxLocalIps; ++a)
    REQUIRE(t.insert(entry_at(0xC6120000u + a, 1), kStart) != TimeWaitTable::kNone);
  for (uint32_t a = 0; a < TimeWaitTable::kMaxLocalIps; ++a)
    REQUIRE(t.insert(entry_at(0xC6120000u + a, 2), kStart + Duration::ms(1)) != TimeWaitTable::kNone);
  REQUIRE(t.insert(entry_at(0xC6130000u, 1), kStart + Duration::ms(2)) == TimeWaitTable::kNone);  // a 256th
  for (uint32_t a = 0; a < TimeWaitTable::kMaxLocalIps; ++a) {
    const TimeWaitTable::Ref r = t.find(entry_at(0xC6120000u + a, 2).tuple);
    REQUIRE(r != TimeWaitTable::kNone);
    REQUIRE(t.get(r).tuple == entry_at(0xC6120000u + a, 2).tuple);
  }
  // The first round expires: every address still has one entry, no room yet.
  t.expire(kStart + kTw, [](const TimeWaitEntry&) {});
  REQUIRE(t.size() == TimeWaitTable::kMaxLocalIps);
  REQUIRE(t.insert(entry_at(0xC6130000u, 1), kStart + kTw) == TimeWaitTable::kNone);
  // An address whose last entry goes frees its place.
  t.erase(t.find(entry_at(0xC6120007u, 2).tuple));
  REQUIRE(t.insert(entry_at(0xC6130000u, 1), kStart + kTw) != TimeWaitTable::kNone);
  REQUIRE(t.find(entry_at(0xC6130000u, 1).tuple) != TimeWaitTable::kNone);
  REQUIRE(t.find(entry_at(0xC6120007u, 2).tuple) == TimeWaitTable::kNone);
}

TEST_CASE("TimeWaitTable: an entry overdue beyond the stamps' range goes at the next insert",
          "[infra][time_wait]") {
  TimeWaitTable t(16, kTw, 4, kStart);
  REQUIRE(t.insert(entry_for(1), kStart) != TimeWaitTable::kNone);
  // expire() not called for three hours (beyond 2^23 ms): the old entry must
  // neither come back to life nor block the ring.
  const Instant late = kStart + Duration::s(3 * 3600);
  REQUIRE(t.insert(entry_for(2), late) != TimeWaitTable::kNone);
  REQUIRE(t.find(entry_for(1).tuple) == TimeWaitTable::kNone);
  REQUIRE(t.size() == 1);
  REQUIRE(t.expiry(t.find(entry_for(2).tuple)) == late + kTw);
  std::vector<uint16_t> expired;
  t.expire(late + kTw, [&](const TimeWaitEntry& e) { expired.push_back(e.tuple.remote_port); });
  REQUIRE(expired == std::vector<uint16_t>{2});
}

// ---- one index for connections and TIME_WAIT (issue 12: one probe per packet) ----

TEST_CASE("TimeWaitTable: connections share the index; find_flow tells which", "[infra][time_wait]") {
  struct alignas(64) Conn {  // the stack's ConnHot: the tuple first, then whatever (a power-of-two size)
    FourTuple tuple;
    uint64_t other[3];
  };
  static_assert(sizeof(Conn) == 64);
  constexpr uint32_t kConns = 512;
  constexpr uint32_t kTwCap = 256;
  std::vector<Conn> conns(kConns);
  TimeWaitTable t(kTwCap, Duration::ms(500), 0x77, kStart, kConns, &conns[0].tuple, sizeof(Conn));
  CHECK(t.index_slots() > kConns + kTwCap);
  const auto tuple_of = [](uint32_t i) { return FourTuple{0xC6120001u, 0xC6130002u, 80, static_cast<uint16_t>(i)}; };
  std::map<uint16_t, uint32_t> conn_model;  // remote port -> slot
  std::map<uint16_t, Instant> tw_model;      // remote port -> expiry
  std::vector<uint32_t> free_slots;
  for (uint32_t i = 0; i < kConns; ++i) free_slots.push_back(i);
  std::mt19937_64 rng(99);
  Instant now = kStart;
  uint32_t tw_entered = 0;
  for (int op = 0; op < 300'000; ++op) {
    const auto port = static_cast<uint16_t>(rng() % 2000);
    const FourTuple tu = tuple_of(port);
    const uint32_t r = static_cast<uint32_t>(rng() % 100);
    const bool is_conn = conn_model.count(port) != 0;
    const bool is_tw = tw_model.count(port) != 0;
    if (r < 25) {  // a connection opens (the stack refuses a tuple in use)
      if (!is_conn && !is_tw && !free_slots.empty()) {
        const uint32_t slot = free_slots.back();
        free_slots.pop_back();
        conns[slot].tuple = tu;
        INFRA_CHECK(t.insert_conn(tu, slot));
        INFRA_CHECK(!t.insert_conn(tu, slot));  // indexed already
        conn_model[port] = slot;
      }
    } else if (r < 45) {  // a connection ends: into TIME_WAIT (both for a moment) or gone
      if (is_conn) {
        const uint32_t slot = conn_model[port];
        TimeWaitEntry e = entry_for(port);
        e.tuple = tu;
        if (rng() % 2 == 0 && t.insert(e, now) != TimeWaitTable::kNone) {
          tw_model[port] = now + Duration::ms(500);
          ++tw_entered;
          INFRA_CHECK(t.find(tu) != TimeWaitTable::kNone);
          INFRA_CHECK(t.find_conn(tu) == slot);
        }
        t.erase_conn(tu, slot);
        conns[slot].tuple = FourTuple{};
        free_slots.push_back(slot);
        conn_model.erase(port);
      }
    } else if (r < 55) {
      if (is_tw) {
        t.erase(t.find(tu));
        tw_model.erase(port);
      }
    } else if (r < 65) {
      if (is_tw && t.restart(t.find(tu), now)) tw_model[port] = now + Duration::ms(500);
    } else if (r < 75) {
      now = now + Duration::ms(static_cast<int64_t>(rng() % 50));
      t.expire(now, [&](const TimeWaitEntry& e) {
        INFRA_CHECK(tw_model.count(e.tuple.remote_port) == 1);
        INFRA_CHECK(tw_model[e.tuple.remote_port] <= now);
        tw_model.erase(e.tuple.remote_port);
      });
    } else {
      const TimeWaitTable::Flow f = t.find_flow(tu);
      INFRA_CHECK(f.found() == (is_conn || is_tw));
      if (f.found()) INFRA_CHECK(f.conn ? conn_model[port] == f.pos : t.get(f.pos).tuple == tu);
      INFRA_CHECK(t.find_conn(tu) == (is_conn ? conn_model[port] : TimeWaitTable::kNone));
      INFRA_CHECK((t.find(tu) != TimeWaitTable::kNone) == is_tw);
      INFRA_CHECK(t.probe_length(tu) <= TimeWaitTable::kMaxProbe);
      // The burst prefetch reads the slot a lookup starts at, and what it names.
      const uint32_t home = t.prefetch_home(tu);
      INFRA_CHECK(home < t.index_slots());
      t.prefetch_entry(home);
    }
    INFRA_CHECK(t.size() == tw_model.size());
  }
  for (const auto& [port, slot] : conn_model) INFRA_CHECK(t.find_conn(tuple_of(port)) == slot);
  REQUIRE(conn_model.size() > 100);
  REQUIRE(tw_entered > 5'000);
}
