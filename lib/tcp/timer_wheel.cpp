#include "tcp/timer_wheel.hpp"

#include <bit>

namespace synmill::tcp {
namespace {

// Distance (0..255) from `start` to the first set bit of a 256-bit map, going
// round; 256 when the map is empty.
uint32_t scan_from(const uint64_t* words, uint32_t start) {
  uint32_t w = start >> 6;
  uint64_t bits = words[w] & (~uint64_t{0} << (start & 63));
  // Five steps: the start word's high part, the three other words, then the
  // start word again in full (its bits below `start` are the wrapped tail).
  for (int i = 0; i < 5; ++i) {
    if (bits != 0) {
      const uint32_t pos = w * 64 + static_cast<uint32_t>(std::countr_zero(bits));
      return (pos - start) & (TimerWheel::kSlots - 1);
    }
    w = (w + 1) & 3;
    bits = words[w];
  }
  return TimerWheel::kSlots;
}

}  // namespace

TimerWheel::TimerWheel(uint32_t num_timers, Duration tick, Instant start, uint32_t num_fifos, Node* rec_base,
                       size_t rec_stride, uint32_t rec_count)
    : num_timers_(num_timers),
      num_fifos_(num_fifos),
      rec_count_(rec_count),
      rec_base_(reinterpret_cast<char*>(rec_base)),
      rec_stride_(rec_stride),
      tick_ns_(tick.count_ns()),
      start_(start),
      own_(num_timers - rec_count),  // zero pages: every timer unarmed, nothing written
      heads_(std::make_unique<uint32_t[]>(kNumLists)) {
  assert(tick_ns_ > 0);
  assert(rec_count <= num_timers);
  assert(rec_count == 0 || (rec_base != nullptr && tick_ns_ % 1000 == 0));
  assert(num_timers < kNil);  // 26-bit ids (timer_wheel.hpp)
  assert(num_fifos <= kMaxFifos);
  for (uint32_t i = 0; i < kNumLists; ++i) heads_[i] = kNil;
  for (uint32_t& t : fifo_tail_) t = kNil;
}

uint64_t TimerWheel::tick_of_rel(int64_t rel_ns) const {
  if (rel_ns <= 0) return 0;
  const auto diff = static_cast<uint64_t>(rel_ns);
  const uint64_t tick = static_cast<uint64_t>(tick_ns_);
  return diff / tick + (diff % tick != 0 ? 1 : 0);
}

void TimerWheel::link(uint32_t id, Node& n, uint32_t list) {
  const uint32_t next = heads_[list];
  n.next_w = next | ((list + 1) << kIdBits);
  n.prev_w = kNil | (((list + 1) >> (32 - kIdBits)) << kIdBits);
  if (next != kNil) node(next).set_prev(id);
  heads_[list] = id;
  if (list < kWheelLists) {
    occ_[list / kSlots][(list % kSlots) / 64] |= uint64_t{1} << (list % 64);
  }
}

void TimerWheel::unlink(uint32_t /*id*/, Node& n) {
  const uint32_t list = n.list1() - 1;
  const uint32_t next = n.next(), prev = n.prev();
  if (next == kNil && list >= kFifoBase) fifo_tail_[list - kFifoBase] = prev;
  if (prev != kNil) {
    node(prev).set_next(next);
  } else {
    heads_[list] = next;
    if (next == kNil && list < kWheelLists) {
      occ_[list / kSlots][(list % kSlots) / 64] &= ~(uint64_t{1} << (list % 64));
    }
  }
  if (next != kNil) node(next).set_prev(prev);
  n.next_w = next;  // kNoList
  n.prev_w = prev;
}

void TimerWheel::place(uint32_t id, Node& n, uint64_t e) {
  if (e < cur_) {
    link(id, n, kDueList);
    return;
  }
  const uint64_t delta = e - cur_;
  uint32_t level = 0;
  while (level + 1 < kLevels && delta >= (uint64_t{1} << (kSlotBits * (level + 1)))) ++level;
  if (level == kLevels - 1 && delta >= (uint64_t{1} << (kSlotBits * kLevels))) {
    // Beyond the wheel's span: park in the farthest top-level slot; it is
    // re-placed (with the true tick) when that slot cascades.
    e = cur_ + (uint64_t{1} << (kSlotBits * kLevels)) - 1;
  }
  const uint32_t slot = static_cast<uint32_t>(e >> (kSlotBits * level)) & (kSlots - 1);
  link(id, n, level * kSlots + slot);
}

uint64_t TimerWheel::next_event() const {
  uint64_t best = kNoEvent;
  const uint32_t d0 = scan_from(occ_[0], static_cast<uint32_t>(cur_) & (kSlots - 1));
  if (d0 < kSlots) best = cur_ + d0;
  for (uint32_t k = 1; k < kLevels; ++k) {
    const uint32_t shift = kSlotBits * k;
    const uint64_t step = uint64_t{1} << shift;
    const uint64_t first = (cur_ + step - 1) & ~(step - 1);  // first cascade tick >= cur_
    const uint32_t d = scan_from(occ_[k], static_cast<uint32_t>(first >> shift) & (kSlots - 1));
    if (d < kSlots) {
      const uint64_t t = first + d * step;
      if (t < best) best = t;
    }
  }
  return best;
}

void TimerWheel::cascade(uint64_t t) {
  // Highest level first: a timer leaving level k lands below k, never in the
  // level-j slot (j < k) that is cascaded next, because that slot only holds
  // ticks within 2^(8j) of t, and such timers go below j.
  for (uint32_t k = kLevels - 1; k >= 1; --k) {
    const uint32_t shift = kSlotBits * k;
    if ((t & ((uint64_t{1} << shift) - 1)) != 0) continue;
    const uint32_t list = k * kSlots + (static_cast<uint32_t>(t >> shift) & (kSlots - 1));
    uint32_t id = heads_[list];
    if (id == kNil) continue;
    heads_[list] = kNil;
    occ_[k][(list % kSlots) / 64] &= ~(uint64_t{1} << (list % 64));
    while (id != kNil) {
      const uint32_t next = node(id).next();
      place(id, node(id), tick_of_rel(rel_ns(id)));
      id = next;
    }
  }
}

void TimerWheel::move_to_firing(uint32_t list) {
  assert(heads_[kFiringList] == kNil);
  const uint32_t first = heads_[list];
  heads_[list] = kNil;
  if (list < kWheelLists) occ_[list / kSlots][(list % kSlots) / 64] &= ~(uint64_t{1} << (list % 64));
  heads_[kFiringList] = first;
  for (uint32_t id = first; id != kNil; id = node(id).next()) node(id).set_list1(kFiringList + 1);
}

bool TimerWheel::collect_due(int64_t now_ns) {
  assert(heads_[kFiringList] == kNil);
  uint32_t tail = kNil;  // the firing list's last node
  if (heads_[kDueList] != kNil) {
    move_to_firing(kDueList);
    for (tail = heads_[kFiringList]; node(tail).next() != kNil; tail = node(tail).next()) {
    }
  }
  for (uint32_t f = 0; f < num_fifos_; ++f) {
    const uint32_t list = kFifoBase + f;
    const uint32_t first = heads_[list];
    if (first == kNil || deadline_ns(first) > now_ns) continue;
    // The sorted list's expired prefix first..last moves in one splice.
    uint32_t last = first;
    for (;;) {
      node(last).set_list1(kFiringList + 1);
      const uint32_t next = node(last).next();
      if (next == kNil || deadline_ns(next) > now_ns) break;
      last = next;
    }
    const uint32_t rest = node(last).next();
    heads_[list] = rest;
    if (rest != kNil)
      node(rest).set_prev(kNil);
    else
      fifo_tail_[f] = kNil;
    node(last).set_next(kNil);
    node(first).set_prev(tail);
    if (tail != kNil)
      node(tail).set_next(first);
    else
      heads_[kFiringList] = first;
    tail = last;
  }
  return tail != kNil;
}

uint32_t TimerWheel::pop_firing() {
  const uint32_t id = heads_[kFiringList];
  if (id == kNil) return kNil;
  unlink(id, node(id));
  --armed_count_;
  return id;
}

void TimerWheel::take(uint32_t id, Node& n) {
  assert(id < num_timers_);
  if (n.armed()) {
    unlink(id, n);
  } else {
    ++armed_count_;
  }
}

// A deadline given as an Instant, for a record's node: the first whole
// microsecond at or after it (never early).
static uint64_t ceil_us(Instant d, Instant start) {
  const int64_t rel = d.ns() - start.ns();
  return rel <= 0 ? 0 : (static_cast<uint64_t>(rel) + 999) / 1000;
}

void TimerWheel::arm(uint32_t id, Instant deadline) {
  if (id < rec_count_) {
    arm_rec(id, kWheel, ceil_us(deadline, start_));
    return;
  }
  Node& n = node(id);
  take(id, n);
  const int64_t rel = deadline.ns() - start_.ns();
  set_rel_ns(id, rel);
  place(id, n, tick_of_rel(rel));
}

void TimerWheel::arm_fifo(uint32_t id, uint32_t fifo, Instant deadline) {
  if (id < rec_count_) {
    arm_rec(id, fifo, ceil_us(deadline, start_));
    return;
  }
  assert(fifo < num_fifos_);
  Node& n = node(id);
  take(id, n);
  const int64_t rel = deadline.ns() - start_.ns();
  set_rel_ns(id, rel);
  finish_fifo(id, n, fifo, rel);
}

void TimerWheel::arm_rec(uint32_t id, uint32_t fifo, uint64_t deadline_us) {
  Node& n = rec_node(id);
  take(id, n);
  n.at = static_cast<uint32_t>(deadline_us);
  const auto rel = static_cast<int64_t>(deadline_us * 1000);
  if (fifo != kWheel) {
    assert(fifo < num_fifos_);
    // finish_fifo() for a record's node: the common tail is a record too.
    const uint32_t tail = fifo_tail_[fifo];
    if (tail == kNil ||
        (tail < rec_count_ ? static_cast<int32_t>(rec_node(tail).at - n.at) <= 0 : rel_ns(tail) <= rel)) {
      link_tail(id, n, fifo);
      return;
    }
  }
  place(id, n, tick_of_rel(rel));
}

void TimerWheel::finish_fifo(uint32_t id, Node& n, uint32_t fifo, int64_t rel) {
  const uint32_t tail = fifo_tail_[fifo];
  // Not earlier than the tail's: two records' deadlines compare in serial
  // arithmetic (both lie near now), anything else by value.
  const bool in_order =
      tail == kNil ||
      (tail < rec_count_ && id < rec_count_ ? static_cast<int32_t>(node(tail).at - n.at) <= 0
                                            : rel_ns(tail) <= rel);
  if (in_order) {
    link_tail(id, n, fifo);
    return;
  }
  place(id, n, tick_of_rel(rel));  // out of the list's order: the wheel takes it
}

void TimerWheel::cancel_armed(uint32_t id) {
  assert(id < num_timers_);
  unlink(id, node(id));
  --armed_count_;
}

}  // namespace synmill::tcp
