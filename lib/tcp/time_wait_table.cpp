#include "tcp/time_wait_table.hpp"

#include <algorithm>
#include <bit>

namespace synmill::tcp {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

}  // namespace

TimeWaitTable::TimeWaitTable(uint32_t capacity, Duration time_wait, uint64_t seed, Instant start,
                             uint32_t conn_capacity, const FourTuple* conn_tuples, size_t conn_stride)
    : capacity_(capacity),
      conn_capacity_(conn_capacity),
      // load <= 1 / 1.4375 (~0.70), and always one empty slot
      nidx_(capacity + capacity / 2 - capacity / 16 + conn_capacity + conn_capacity / 2 - conn_capacity / 16 + 1),
      conn_tuples_(conn_tuples),
      conn_stride_(conn_stride),
      time_wait_(time_wait),
      start_(start),
      hash_(seed),
      ring_(capacity),
      index_(nidx_, ZeroPages::Paging::kHashed),
      lip_cap_(std::clamp<uint32_t>(capacity / 64, 16, kMaxLocalIps)),
      lips_(lip_cap_),
      lip_refs_(lip_cap_) {
  assert(capacity <= kMaxCapacity && conn_capacity <= kMaxCapacity);
  assert(conn_capacity == 0 || (conn_tuples != nullptr && conn_stride >= sizeof(FourTuple)));
  assert(time_wait.count_ns() < (kStampMod / 2) * kNsPerMs);
}

size_t TimeWaitTable::bytes() const {
  // The connections' share of the index is theirs: 1.4375 slots each.
  const size_t conn_slots = size_t{conn_capacity_} + conn_capacity_ / 2 - conn_capacity_ / 16;
  return size_t{capacity_} * sizeof(Slot) + (size_t{nidx_} - conn_slots) * sizeof(uint32_t) +
         size_t{lip_cap_} * 2 * sizeof(uint32_t);
}

TimeWaitEntry TimeWaitTable::unpack(const Slot& s) const {
  TimeWaitEntry e;
  e.tuple = tuple_of(s);
  e.snd_nxt = s.snd_nxt;
  e.rcv_nxt = s.rcv_nxt;
  e.ts_recent = s.ts_recent;
  e.rcv_wnd = s.rcv_wnd;
  e.flags = (s.meta & 0x100) ? TimeWaitEntry::kFlagTimestamps : 0;
  return e;
}

TimeWaitEntry TimeWaitTable::get(Ref r) const {
  assert(r < capacity_ && ring_[r].live());
  return unpack(ring_[r]);
}

int64_t TimeWaitTable::now_ms(Instant now) const { return floor_div(now.ns() - start_.ns(), kNsPerMs); }

int64_t TimeWaitTable::expiry_ms(Instant now) const {
  const int64_t e = ceil_div(now.ns() - start_.ns() + time_wait_.count_ns(), kNsPerMs);
  // Keep the ring sorted even if `now` went backwards: never expire early.
  return used_ > 0 ? std::max(e, last_ms_) : e;
}

uint32_t TimeWaitTable::probe_length(const FourTuple& t) const {
  const uint64_t h = hash_(t);
  const uint32_t fp = fingerprint(h);
  uint32_t i = home(h);
  for (uint32_t n = 1; n <= kMaxProbe; ++n) {
    const uint32_t v = index_[i];
    if (v == 0 || ((v & 0xff) == tag(fp, n - 1) && key_of(v) == t)) return n;
    i = next(i);
  }
  return kMaxProbe;
}

uint32_t TimeWaitTable::find_kind(const FourTuple& t, uint32_t kind) const {
  const uint64_t h = hash_(t);
  const uint32_t fp = fingerprint(h);
  uint32_t i = home(h);
  for (uint32_t n = 0; n < kMaxProbe; ++n) {
    const uint32_t v = index_[i];
    if (v == 0) return kNone;
    if ((v & 0xff) == (tag(fp, n) | kind) && key_of(v) == t) return v >> 8;
    i = next(i);
  }
  return kNone;
}

uint32_t TimeWaitTable::find_conn(const FourTuple& t) const { return find_kind(t, kConnBit); }

TimeWaitTable::Flow TimeWaitTable::find_flow_rest(const FourTuple& t, uint64_t h, uint32_t i) const {
  uint32_t want = fingerprint(h);  // tag(fp, n): the distance grows with each slot passed
  for (uint32_t n = 0; n < kMaxProbe; ++n) {
    const uint32_t v = index_[i];
    if (v == 0) return Flow{};
    if ((v & kTagMask) == want) {  // only an entry with our home and fingerprint
      if (v & kConnBit) {
        if (same_tuple(conn_tuple(v >> 8), t)) return Flow{v >> 8, true};
      } else if (matches(ring_[v >> 8], t)) {
        return Flow{v >> 8, false};
      }
    }
    want = step(want);
    i = next(i);
  }
  return Flow{};
}

uint32_t TimeWaitTable::index_of(uint32_t v_wanted, const FourTuple& t) const {
  uint32_t i = home(hash_(t));
  for (;;) {  // the entry is there, within kMaxProbe
    const uint32_t v = index_[i];
    assert(v != 0);
    if ((v & ~kTagMask) == v_wanted) return i;
    i = next(i);
  }
}

bool TimeWaitTable::insert_conn(const FourTuple& t, uint32_t slot, uint64_t h) {
  assert(slot < conn_capacity_ && conn_tuple(slot) == t && h == hash_(t));
  uint32_t want = fingerprint(h) | kConnBit;  // tag(fp, 0): the distance grows with each slot passed
  uint32_t i = home(h);
  for (uint32_t n = 0; n < kMaxProbe; ++n) {
    const uint32_t v = index_[i];
    if (v == 0) {
      index_[i] = (slot << 8) | want;
      return true;
    }
    if ((v & 0xff) == want && conn_tuple(v >> 8) == t) return false;  // exists
    want = step(want);
    i = next(i);
  }
  return false;
}

void TimeWaitTable::erase_conn(const FourTuple& t, uint32_t slot) {
  index_erase(index_of((slot << 8) | kConnBit, t));
}

void TimeWaitTable::index_erase(uint32_t i) {
  // Backward-shift deletion: an entry at j whose home h lies cyclically at or
  // before the hole i (dist(h, j) >= dist(i, j)) moves into the hole, which
  // then moves to j. Entries only move towards their home. Its distance
  // from home is in the slot unless it is kDistMax or more (then its tuple is read).
  uint32_t j = i;
  for (;;) {
    j = next(j);
    const uint32_t v = index_[j];
    if (v == 0) break;
    const uint32_t kept = (v & kDistMask) >> kDistShift;
    const uint32_t d = kept < kDistMax ? kept : dist(home(hash_(key_of(v))), j);
    const uint32_t back = dist(i, j);
    if (d >= back) {
      index_[i] = (v & ~kDistMask) | tag(0, d - back);
      i = j;
    }
  }
  index_[i] = 0;
}

uint32_t TimeWaitTable::lip_acquire(uint32_t ip) {
  uint32_t free_slot = lip_cap_;
  for (uint32_t k = 0; k < nlips_; ++k) {
    if (lip_refs_[k] == 0) {
      if (free_slot == lip_cap_) free_slot = k;
    } else if (lips_[k] == ip) {
      ++lip_refs_[k];
      return k + 1;
    }
  }
  if (free_slot == lip_cap_) {
    if (nlips_ == lip_cap_) return 0;
    free_slot = nlips_++;
  }
  lips_[free_slot] = ip;
  lip_refs_[free_slot] = 1;
  return free_slot + 1;
}

void TimeWaitTable::kill(uint32_t pos) {
  Slot& s = ring_[pos];
  assert(s.live());
  index_erase(index_of(pos));
  --lip_refs_[s.lip1() - 1];
  s.meta = 0;
  --live_;
  ++dead_;
}

void TimeWaitTable::pop_head() {
  assert(used_ > 0 && !ring_[head_].live());
  --dead_;
  --used_;
  head_ = used_ == 0 ? 0 : (head_ + 1 == capacity_ ? 0 : head_ + 1);
}

void TimeWaitTable::drop_dead_ends() {
  while (used_ > 0 && !ring_[head_].live()) pop_head();
  while (used_ > 0 && !ring_[ring_at(used_ - 1)].live()) {
    --dead_;
    --used_;
  }
  if (used_ == 0) head_ = 0;
}

void TimeWaitTable::make_room_for(int64_t exp) {
  // Every stamp in the ring must decode within 2^22 ms below the tail's. An
  // entry that old is overdue (time_wait < 2^22 ms): expire() was not called
  // for that long; it goes now.
  while (used_ > 0 && decode(ring_[head_].stamp()) < exp - kStampMod / 2) {
    if (ring_[head_].live()) kill(head_);
    pop_head();
  }
}

uint32_t TimeWaitTable::compact(uint32_t track) {
  uint32_t w = head_;
  for (uint32_t k = 0; k < used_; ++k) {
    const uint32_t p = ring_at(k);
    if (!ring_[p].live()) continue;
    if (p != w) {
      const uint32_t i = index_of(p);
      index_[i] = (w << 8) | (index_[i] & 0xff);  // (a ring slot: kind bit clear)
      ring_[w] = ring_[p];
      ring_[p].meta = 0;
      if (p == track) track = w;
    }
    w = w + 1 == capacity_ ? 0 : w + 1;
  }
  used_ = live_;
  dead_ = 0;
  return track;
}

TimeWaitTable::Ref TimeWaitTable::insert(const TimeWaitEntry& e, Instant now) {
  if (live_ >= capacity_) return kNone;
  const int64_t exp = expiry_ms(now);
  if (used_ == capacity_) {
    if (dead_ < std::max<uint32_t>(1, capacity_ / 16)) return kNone;
    compact(kNone);
  }
  // Before the probe: removing an entry shifts index slots.
  make_room_for(exp);
  const uint64_t h = hash_(e.tuple);
  const uint32_t fp = fingerprint(h);
  uint32_t i = home(h);
  uint32_t n = 0;
  uint32_t want = fp;  // tag(fp, n): the distance grows with each slot passed
  for (; n < kMaxProbe; ++n) {
    const uint32_t v = index_[i];
    if (v == 0) break;
    if ((v & 0xff) == want && matches(ring_[v >> 8], e.tuple)) return kNone;  // exists (as TIME_WAIT)
    want = step(want);
    i = next(i);
  }
  if (n == kMaxProbe) return kNone;  // no index slot within the probe bound
  const uint32_t lip1 = lip_acquire(e.tuple.local_ip);
  if (lip1 == 0) return kNone;
  const uint32_t pos = ring_at(used_);
  Slot& s = ring_[pos];
  s.remote_ip = e.tuple.remote_ip;
  s.local_port = e.tuple.local_port;
  s.remote_port = e.tuple.remote_port;
  s.snd_nxt = e.snd_nxt;
  s.rcv_nxt = e.rcv_nxt;
  s.ts_recent = e.ts_recent;
  s.rcv_wnd = e.rcv_wnd;
  s.meta = lip1 | ((e.flags & TimeWaitEntry::kFlagTimestamps) ? 0x100u : 0u) |
           (static_cast<uint32_t>(exp & (kStampMod - 1)) << 9);
  ++used_;
  ++live_;
  last_ms_ = exp;
  index_[i] = (pos << 8) | want;
  return pos;
}

void TimeWaitTable::erase(Ref r) {
  kill(r);
  drop_dead_ends();
}

bool TimeWaitTable::restart(Ref r, Instant now) {
  assert(r < capacity_ && ring_[r].live());
  const int64_t exp = expiry_ms(now);
  const uint32_t stamp = static_cast<uint32_t>(exp & (kStampMod - 1)) << 9;
  if (r == ring_at(used_ - 1)) {  // the tail already: restamp in place
    ring_[r].meta = (ring_[r].meta & 0x1ff) | stamp;
    last_ms_ = exp;
    return true;
  }
  if (used_ == capacity_) {
    if (dead_ < std::max<uint32_t>(1, capacity_ / 16)) return false;
    r = compact(r);
  }
  make_room_for(exp);
  if (!ring_[r].live()) return true;  // it was overdue and has gone (expire() not called for long)
  const uint32_t pos = ring_at(used_);
  const uint32_t i = index_of(r);
  ring_[pos] = ring_[r];
  ring_[pos].meta = (ring_[pos].meta & 0x1ff) | stamp;
  index_[i] = (pos << 8) | (index_[i] & 0xff);
  ring_[r].meta = 0;
  ++dead_;
  ++used_;
  last_ms_ = exp;
  drop_dead_ends();
  return true;
}

}  // namespace synmill::tcp
