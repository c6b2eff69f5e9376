#include "tcp/time_wait_table.hpp"

#include <algorithm>

namespace synmill::tcp {

TimeWaitTable::TimeWaitTable(uint32_t capacity, Duration time_wait, uint64_t seed, Instant start)
    : capacity_(capacity),
      time_wait_(time_wait),
      entries_(capacity),
      links_(capacity),
      slots_(capacity),
      map_(capacity, seed) {
  (void)start;  // expiries are absolute instants; kept for symmetry with TimerWheel
}

TimeWaitEntry* TimeWaitTable::insert(const TimeWaitEntry& e, Instant now) {
  const uint32_t idx = slots_.acquire();
  if (idx == IndexPool::kNone) return nullptr;
  if (!map_.insert(e.tuple, idx)) {
    slots_.release(idx);
    return nullptr;
  }
  entries_[idx] = e;
  push_back(idx, now);
  return &entries_[idx];
}

void TimeWaitTable::erase(TimeWaitEntry* e) { remove(index_of(e)); }

void TimeWaitTable::restart(TimeWaitEntry* e, Instant now) {
  const uint32_t idx = index_of(e);
  unlink(idx);
  push_back(idx, now);
}

void TimeWaitTable::push_back(uint32_t idx, Instant now) {
  Link& l = links_[idx];
  l.expire_ns = std::max<int64_t>(1, (now + time_wait_).ns());  // 0 marks a free slot
  // Keep the FIFO sorted even if `now` went backwards: never expire early.
  if (tail_ != kNil && links_[tail_].expire_ns > l.expire_ns) l.expire_ns = links_[tail_].expire_ns;
  l.prev = tail_;
  l.next = kNil;
  if (tail_ != kNil) {
    links_[tail_].next = idx;
  } else {
    head_ = idx;
  }
  tail_ = idx;
}

void TimeWaitTable::unlink(uint32_t idx) {
  const Link& l = links_[idx];
  if (l.prev != kNil) {
    links_[l.prev].next = l.next;
  } else {
    head_ = l.next;
  }
  if (l.next != kNil) {
    links_[l.next].prev = l.prev;
  } else {
    tail_ = l.prev;
  }
}

void TimeWaitTable::remove(uint32_t idx) {
  unlink(idx);
  links_[idx].expire_ns = 0;  // free (see for_each)
  const bool erased = map_.erase(entries_[idx].tuple);
  assert(erased);
  (void)erased;
  slots_.release(idx);
}

}  // namespace synmill::tcp
