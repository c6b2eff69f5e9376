#pragma once
// Compact TIME_WAIT table (RFC 9293 §3.10.7.4 / Linux tcp_minisocks.c): what a
// closed connection still needs to answer segments during 2*MSL, in a 28-byte
// entry instead of a full connection.
//
// Layout: a flat array of entries, a slot free list (IndexPool), a TupleMap
// from tuple to slot, and an expiry FIFO. Every entry lives exactly time_wait
// after its insertion or its last restart, so ordering by (re)start time is
// ordering by expiry: the FIFO is an intrusive doubly linked list through a
// side array of {prev, next, expire} indexed by slot (16 bytes; the entry
// itself stays a plain 28-byte record the caller reads and writes).
//   insert:  append at the tail                                  O(1)
//   erase:   unlink from anywhere (RFC 6191 reuse by a new SYN,
//            RST under the RFC 1337 policy "close")               O(1)
//   restart: unlink and re-append at the tail (a retransmitted
//            FIN restarts the 2MSL timer, RFC 9293 §3.10.7.4)     O(1)
//   expire:  pop from the head while due                          O(1) per entry
// The FIFO stays sorted as long as `now` never goes backwards; if it does, the
// expiry is clamped to the tail's so entries are never removed early.
#include <cassert>
#include <cstdint>
#include <memory>

#include "tcp/index_pool.hpp"
#include "tcp/tuple_map.hpp"
#include "tcp/types.hpp"
#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

struct TimeWaitEntry {
  static constexpr uint8_t kFlagTimestamps = 0x01;

  FourTuple tuple;
  uint32_t snd_nxt = 0;
  uint32_t rcv_nxt = 0;
  uint32_t ts_recent = 0;  // TSval last received (0 if no timestamps)
  uint16_t rcv_wnd = 0;    // window field to advertise in ACKs (already scaled)
  uint8_t flags = 0;       // kFlagTimestamps: timestamps in use
  uint8_t reserved = 0;
};
static_assert(sizeof(TimeWaitEntry) <= 32);

class TimeWaitTable {
 public:
  // capacity <= 2^30; seed keys the tuple hash (see TupleMap).
  TimeWaitTable(uint32_t capacity, Duration time_wait, uint64_t seed, Instant start);

  // nullptr if full or the tuple exists; expires at now + time_wait.
  TimeWaitEntry* insert(const TimeWaitEntry& e, Instant now);
  TimeWaitEntry* find(const FourTuple& t) {
    const uint32_t idx = map_.find(t);
    return idx == TupleMap::kNotFound ? nullptr : &entries_[idx];
  }
  const TimeWaitEntry* find(const FourTuple& t) const {
    const uint32_t idx = map_.find(t);
    return idx == TupleMap::kNotFound ? nullptr : &entries_[idx];
  }
  void erase(TimeWaitEntry* e);
  // Expire at now + time_wait.
  void restart(TimeWaitEntry* e, Instant now);
  // Removes every entry due by now (expiry <= now), oldest first, calling
  // on_expire(const TimeWaitEntry&) before each removal. The callback must not
  // modify the table.
  template <class F>
  void expire(Instant now, F&& on_expire);

  // Visits up to `limit` live entries in slot order: f(entry, expiry). For
  // diagnostics; it walks the slot array (free slots have expire_ns == 0), never
  // the FIFO's links, so a reader racing the owner sees stale rows at worst.
  template <class F>
  void for_each(uint32_t limit, F&& f) const;

  // When `e` expires.
  Instant expiry(const TimeWaitEntry* e) const { return Instant(links_[index_of(e)].expire_ns); }

  uint32_t size() const { return map_.size(); }
  uint32_t capacity() const { return capacity_; }
  Duration time_wait() const { return time_wait_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Link {
    uint32_t prev = kNil;
    uint32_t next = kNil;
    int64_t expire_ns = 0;
  };
  static_assert(sizeof(Link) == 16);

  uint32_t index_of(const TimeWaitEntry* e) const {
    assert(e >= entries_.get() && e < entries_.get() + capacity_);
    return static_cast<uint32_t>(e - entries_.get());
  }
  void push_back(uint32_t idx, Instant now);
  void unlink(uint32_t idx);
  void remove(uint32_t idx);  // unlink, unmap, free

  uint32_t capacity_;
  Duration time_wait_;
  ZeroArray<TimeWaitEntry> entries_;  // zero pages: written as slots are first used
  ZeroArray<Link> links_;            // expire_ns 0: free
  IndexPool slots_;
  TupleMap map_;
  uint32_t head_ = kNil;  // earliest expiry
  uint32_t tail_ = kNil;  // latest expiry
};

template <class F>
void TimeWaitTable::expire(Instant now, F&& on_expire) {
  while (head_ != kNil && links_[head_].expire_ns <= now.ns()) {
    const uint32_t idx = head_;
    on_expire(static_cast<const TimeWaitEntry&>(entries_[idx]));
    remove(idx);
  }
}

template <class F>
void TimeWaitTable::for_each(uint32_t limit, F&& f) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < capacity_ && n < limit; ++i) {
    const int64_t at = links_[i].expire_ns;
    if (at == 0) continue;
    f(static_cast<const TimeWaitEntry&>(entries_[i]), Instant(at));
    ++n;
  }
}

}  // namespace synmill::tcp
