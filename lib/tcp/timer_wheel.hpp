#pragma once
// Timers for a fixed set of ids 0..num_timers-1 (the caller maps ids to
// connections; a connection keeps its one id armed at or before its earliest
// deadline): a hierarchical timing wheel for deadlines of any length, and
// beside it up to kMaxFifos FIFO lists for deadlines that are always "now +
// a constant" (a SYN-ACK's first retransmission, the delayed ACK, FIN_WAIT_2,
// CLOSE_WAIT): one list per constant, so appending keeps it sorted. An id sits
// on one list at a time (a wheel slot or a FIFO, the same node and links), so
// the FIFOs cost no memory. arm(), arm_fifo() and cancel() are O(1);
// advance() is O(1) per expired timer plus O(1) per non-empty wheel slot it
// passes, so a jump of hours in one call costs no more than the work due.
//
// FIFO lists (as dperf's socket_timer.h): append at the tail, expire from the
// head while head.deadline <= now, no slot index, no cascade. arm_fifo()
// appends only when the deadline is not earlier than the tail's, so a list is
// always sorted whatever the caller passes; an earlier deadline (the clock
// stepped back, a deadline that is not now + the list's constant) goes to the
// wheel instead. A FIFO timer fires at the first advance() whose now >= its
// deadline: never early, and no later than the wheel would fire it.
//
// Time is counted in ticks since `start`. A deadline d maps to tick
// ceil((d - start) / tick) and a timer fires when advance() reaches that tick,
// so it never fires early (now >= d) and fires at the first advance() whose now
// is >= d + tick, i.e. at most one tick late.
//
// Four levels of 256 slots; level k slot s holds timers whose tick e satisfies
// (e >> 8k) & 255 == s and e - cur < 2^(8(k+1)) (cur = next tick to process).
// Level 0 slots are fired; level k >= 1 slots are "cascaded" (their timers
// re-placed one level down or more) when cur reaches a multiple of 2^(8k) whose
// index is s. Deadlines beyond 2^32 ticks are parked in the farthest level-3
// slot and re-placed when it cascades, so any deadline works.
//
// Timers whose tick has already passed when armed go to a "due" list fired at
// the start of the next advance(), together with the FIFOs' expired heads.
// Timers to fire are first moved onto a "firing" list and popped one by one,
// so the callback may arm or cancel any timer, including the one firing and
// its neighbours on the firing list. Re-arming inside the callback to a time
// that has already been processed (e.g. now: a wheel tick already fired, or
// any FIFO deadline <= now) fires on the next advance(), never in the same one.
//
// Storage: a 12-byte node per timer (Node: the intrusive doubly linked
// list's two 26-bit indices, the 12-bit number of the list holding the timer
// split over their top bits, and 32 bits of deadline). Ids below rec_count
// keep their node inside the caller's own records (issue 12: a connection's
// timer costs no array of its own, and arming it touches the record's cache
// lines only): node i at rec_base + i * rec_stride bytes, its deadline in
// microseconds since `start`, modulo 2^32 (deadline.hpp's Deadline), read
// relative to the `now` of the advance() in progress or last run. Such a
// deadline must therefore lie within 2^31 µs (35.8 min) of every advance()
// before it fires, as the stack keeps its deadlines (deadline.hpp). The other
// ids (the application and worker timers: any deadline, in ns) have 16-byte
// nodes of the wheel's own, the deadline's high 32 bits beside the node. The
// tick a wheel timer sits at is not stored: it is computed from the deadline
// when the timer is placed (arm, and each cascade). Ids are below 2^26 - 1
// (the stack's timers are at most 2 * 2^24 + 64). One head per list (and a
// tail per FIFO) and a 256-bit occupancy map per level for skipping empty
// slots. Nothing is allocated after construction; the wheel's own nodes are
// reserved as zero pages and backed as timers are first armed, and a
// record's node is all-zero bytes when unarmed.
#include <cassert>
#include <cstdint>
#include <memory>

#include "tcp/types.hpp"
#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

class TimerWheel {
 public:
  static constexpr uint32_t kLevels = 4;
  static constexpr uint32_t kSlotBits = 8;
  static constexpr uint32_t kSlots = 1u << kSlotBits;

  static constexpr uint32_t kMaxFifos = 8;

  // A timer's node: all-zero bytes is an unarmed timer; next and prev are
  // only read while the timer is on a list. list1 (the list holding the
  // timer, plus one; 0 = not armed) has 12 bits: its low 6 in the top bits
  // of next_w, its high 6 in those of prev_w. at: the deadline (see the
  // header comment for its two meanings).
  struct Node {
    uint32_t next_w;
    uint32_t prev_w;
    uint32_t at;
    static constexpr uint32_t kIdBits = 26;
    static constexpr uint32_t kIdMask = (uint32_t{1} << kIdBits) - 1;
    uint32_t next() const { return next_w & kIdMask; }
    uint32_t prev() const { return prev_w & kIdMask; }
    void set_next(uint32_t v) { next_w = (next_w & ~kIdMask) | v; }
    void set_prev(uint32_t v) { prev_w = (prev_w & ~kIdMask) | v; }
    bool armed() const { return ((next_w | prev_w) & ~kIdMask) != 0; }
    uint32_t list1() const { return (next_w >> kIdBits) | ((prev_w >> kIdBits) << (32 - kIdBits)); }
    void set_list1(uint32_t l) {
      next_w = (next_w & kIdMask) | (l << kIdBits);
      prev_w = (prev_w & kIdMask) | ((l >> (32 - kIdBits)) << kIdBits);
    }
  };
  static_assert(sizeof(Node) == 12);
  static constexpr size_t kOwnNodeBytes = 16;  // per id at or above rec_count (OwnNode, below)

  // tick > 0, a whole number of microseconds when rec_count > 0. Ticks are
  // counted from `start`. FIFO lists 0..num_fifos-1. Ids below rec_count
  // have their nodes in the caller's records (see the header comment).
  TimerWheel(uint32_t num_timers, Duration tick, Instant start, uint32_t num_fifos = 0, Node* rec_base = nullptr,
             size_t rec_stride = 0, uint32_t rec_count = 0);

  // On the wheel. Re-arming an armed timer moves it; a deadline already
  // passed fires on the next advance(). (Out of line, as arm_fifo(): the
  // callers' checks before them stay small.)
  [[gnu::noinline]] void arm(uint32_t id, Instant deadline);
  // At the tail of FIFO list `fifo` when `deadline` is not earlier than the
  // tail's, else on the wheel (see the header comment). Moves an armed timer.
  [[gnu::noinline]] void arm_fifo(uint32_t id, uint32_t fifo, Instant deadline);
  // The same for an id below rec_count, its deadline in whole microseconds
  // since `start` (the caller's clock in µs: no conversion per call). fifo
  // kWheel: on the wheel.
  static constexpr uint32_t kWheel = kMaxFifos;
  [[gnu::noinline]] void arm_rec(uint32_t id, uint32_t fifo, uint64_t deadline_us);
  // arm_rec() for an unarmed record timer, its common case inline: joining
  // FIFO `fifo` empty or at its tail behind a record due no later (a new
  // connection's first RTO); anything else goes out of line.
  void arm_rec_unarmed(uint32_t id, uint32_t fifo, uint64_t deadline_us) {
    Node& n = rec_node(id);
    assert(!n.armed());
    const auto at = static_cast<uint32_t>(deadline_us);
    if (fifo != kWheel) {
      const uint32_t tail = fifo_tail_[fifo];
      if (tail == kNil || (tail < rec_count_ && static_cast<int32_t>(rec_node(tail).at - at) <= 0)) {
        ++armed_count_;
        n.at = at;
        link_tail(id, n, fifo);
        return;
      }
    }
    arm_rec(id, fifo, deadline_us);
  }
  // No-op if not armed.
  void cancel(uint32_t id) {
    if (node(id).armed()) cancel_armed(id);
  }
  // cancel() for an id below rec_count.
  void cancel_rec(uint32_t id) {
    if (rec_node(id).armed()) cancel_armed(id);
  }

  bool armed(uint32_t id) const { return node(id).armed(); }
  // Armed and waiting on a FIFO list (not on the wheel, not firing).
  bool on_fifo(uint32_t id) const { return node(id).list1() > kFifoBase; }
  // The last deadline given to arm(id) (meaningful while armed; a record's
  // read relative to the last advance()).
  Instant deadline(uint32_t id) const { return Instant(deadline_ns(id)); }
  // A record timer's deadline as armed: µs since start, modulo 2^32.
  uint32_t deadline_us32(uint32_t id) const { return node(id).at; }

  // Calls on_expire(id) for every timer due by `now` (see the header comment).
  // The callback may arm/cancel any timer but must not call advance().
  template <class F>
  void advance(Instant now, F&& on_expire);

  uint32_t armed_count() const { return armed_count_; }
  uint32_t num_timers() const { return num_timers_; }
  Duration tick() const { return Duration(tick_ns_); }

 private:
  static constexpr uint32_t kIdBits = Node::kIdBits;
  static constexpr uint32_t kIdMask = Node::kIdMask;
  static constexpr uint32_t kNil = kIdMask;  // no timer (ids are below it)
  static constexpr uint32_t kWheelLists = kLevels * kSlots;
  static constexpr uint32_t kDueList = kWheelLists;
  static constexpr uint32_t kFiringList = kWheelLists + 1;
  static constexpr uint32_t kFifoBase = kWheelLists + 2;  // FIFO k is list kFifoBase + k
  static constexpr uint32_t kNumLists = kFifoBase + kMaxFifos;
  static constexpr uint32_t kNoList = 0;  // Node::list1 of an unarmed timer
  static constexpr uint64_t kNoEvent = UINT64_MAX;
  static constexpr uint32_t kOccWords = kSlots / 64;

  // A node of the wheel's own (ids from rec_count on): the deadline in ns
  // since start, split over Node::at (low) and hi.
  struct OwnNode {
    Node n;
    uint32_t hi;
  };
  static_assert(sizeof(OwnNode) == kOwnNodeBytes);

  Node& rec_node(uint32_t id) const {  // id < rec_count_
    assert(id < rec_count_);
    return *reinterpret_cast<Node*>(rec_base_ + size_t{id} * rec_stride_);
  }
  Node& node(uint32_t id) const {
    return id < rec_count_ ? *reinterpret_cast<Node*>(rec_base_ + size_t{id} * rec_stride_) : own_[id - rec_count_].n;
  }
  // The deadline in ns since start: a record's microseconds read relative to ref_us_.
  int64_t rel_ns(uint32_t id) const {
    if (id < rec_count_) {
      const uint32_t at = node(id).at;
      return (static_cast<int64_t>(ref_us_) + static_cast<int32_t>(at - static_cast<uint32_t>(ref_us_))) * 1000;
    }
    const OwnNode& o = own_[id - rec_count_];
    return static_cast<int64_t>((uint64_t{o.hi} << 32) | o.n.at);
  }
  int64_t deadline_ns(uint32_t id) const { return start_.ns() + rel_ns(id); }
  void set_rel_ns(uint32_t id, int64_t rel) {  // own nodes
    OwnNode& o = own_[id - rec_count_];
    o.n.at = static_cast<uint32_t>(rel);
    o.hi = static_cast<uint32_t>(static_cast<uint64_t>(rel) >> 32);
  }
  void take(uint32_t id, Node& n);  // unlinks an armed timer, or counts a new one
  void finish_fifo(uint32_t id, Node& n, uint32_t fifo, int64_t rel);  // tail of fifo, or the wheel
  static_assert(kNumLists + 1 <= (uint32_t{1} << 2 * (32 - kIdBits)), "list1 fits its 12 bits");

  uint64_t tick_of_rel(int64_t rel_ns) const;
  // n is node(id) throughout.
  void link(uint32_t id, Node& n, uint32_t list);       // at the head (wheel, due)
  void link_tail(uint32_t id, Node& n, uint32_t fifo) {  // at the tail of a FIFO
    const uint32_t tail = fifo_tail_[fifo];
    const uint32_t list1 = kFifoBase + fifo + 1;
    n.next_w = kNil | (list1 << kIdBits);
    n.prev_w = tail | ((list1 >> (32 - kIdBits)) << kIdBits);
    if (tail != kNil)
      node(tail).set_next(id);
    else
      heads_[kFifoBase + fifo] = id;
    fifo_tail_[fifo] = id;
  }
  void unlink(uint32_t id, Node& n);
  [[gnu::noinline]] void cancel_armed(uint32_t id);
  void place(uint32_t id, Node& n, uint64_t tick);  // by the timer's tick relative to cur_
  uint64_t next_event() const;            // first tick >= cur_ with work, or kNoEvent
  void cascade(uint64_t t);               // re-place level-k slots due at tick t
  void move_to_firing(uint32_t list);
  // The due list, then every FIFO's prefix with deadline <= now, onto the
  // firing list in that order; false when nothing is due.
  bool collect_due(int64_t now_ns);
  uint32_t pop_firing();                  // kNil when the firing list is empty

  template <class F>
  void fire_all(F& on_expire) {
    for (uint32_t id = pop_firing(); id != kNil; id = pop_firing()) on_expire(id);
  }

  uint32_t num_timers_;
  uint32_t num_fifos_;
  uint32_t rec_count_;
  char* rec_base_;
  size_t rec_stride_;
  uint64_t ref_us_ = 0;  // µs since start of the advance() in progress or last run
  uint32_t armed_count_ = 0;
  int64_t tick_ns_;
  Instant start_;
  uint64_t cur_ = 0;  // next tick to process: ticks < cur_ are done (cascaded and fired)
  ZeroArray<OwnNode> own_;
  std::unique_ptr<uint32_t[]> heads_;
  uint32_t fifo_tail_[kMaxFifos];
  uint64_t occ_[kLevels][kOccWords] = {};
};

template <class F>
void TimerWheel::advance(Instant now, F&& on_expire) {
  if (now >= start_) ref_us_ = static_cast<uint64_t>(now.ns() - start_.ns()) / 1000;
  if (collect_due(now.ns())) fire_all(on_expire);
  if (now < start_) return;
  const uint64_t target = static_cast<uint64_t>(now.ns() - start_.ns()) / static_cast<uint64_t>(tick_ns_);
  while (cur_ <= target) {
    const uint64_t t = next_event();
    if (t > target) {
      cur_ = target + 1;
      break;
    }
    cur_ = t;
    cascade(t);
    const uint32_t slot = static_cast<uint32_t>(t) & (kSlots - 1);
    // Timers armed from the callbacks for tick t (or earlier) go to the due list.
    cur_ = t + 1;
    if (heads_[slot] != kNil) {
      move_to_firing(slot);
      fire_all(on_expire);
    }
  }
}

}  // namespace synmill::tcp
