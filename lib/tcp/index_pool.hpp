#pragma once
// Free list of slot indices 0..capacity-1 for per-core pools (connections,
// chunks, TIME_WAIT entries). A LIFO stack: the most recently released slot is
// handed out first, so its memory is likely still in cache. acquire() and
// release() are O(1).
//
// Lazy: indices never handed out are not on the stack. They come from a bump
// index (`fresh_`) once the stack of released ones is empty, so the order is
// the same as a stack pre-filled with 0, 1, 2, ... but nothing is written at
// construction and the stack's memory (ZeroPages) is backed only as deep as
// releases have pushed it. high_water() tells an owner how many slots have
// ever been handed out, so it can initialise a slot's own memory on first
// use and bound scans to the slots that ever held anything.
//
// Threaded (thread_through()): an owner whose slots are records of its own
// lends the pool four bytes of each free record instead, and the free stack
// becomes a list linked through them (the most recently released record at
// its head, as above): no array of its own, and a release writes only the
// record it frees. Those four bytes are the pool's only while the slot is
// free; the owner rewrites them when it hands the slot out.
//
// A one-bit-per-slot "in use" map backs the double-release check in release()
// (a zero bit, the untouched state, means free). It is written only where
// that assert is compiled (no NDEBUG: the test builds); in the shipped
// binaries and the bench it stays reserved and unbacked, and acquire() /
// release() skip its read-modify-write (about 6 instructions each, and a
// cache line at random under a large table: issue 12).
#include <cassert>
#include <cstdint>

#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

class IndexPool {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Memory reserved per slot: the free stack's entry and the in-use bit
  // (threaded: the in-use bit alone).
  static constexpr double kBytesPerSlot = sizeof(uint32_t) + 1.0 / 8;
  static constexpr double kBytesPerSlotThreaded = 1.0 / 8;

  // capacity < kNone (kNone is the "no slot" marker).
  explicit IndexPool(uint32_t capacity)
      : capacity_(capacity),
        stack_(capacity),
        used_bits_((static_cast<size_t>(capacity) + 63) / 64) {
    assert(capacity < kNone);
  }

  // Threads the free list through the owner's records: slot i's link is the
  // uint32_t at base + i * stride. Before any acquire(). (A second
  // constructor argument would need the records before the owner builds them.)
  void thread_through(void* base, size_t stride) {
    assert(fresh_ == 0 && depth_ == 0);
    link_base_ = static_cast<char*>(base);
    link_stride_ = stride;
    stack_ = ZeroArray<uint32_t>();  // the free stack's reservation goes
  }
  double bytes_per_slot() const { return link_base_ != nullptr ? kBytesPerSlotThreaded : kBytesPerSlot; }

  // Returns a free index, or kNone when exhausted.
  uint32_t acquire() {
    uint32_t idx;
    if (depth_ > 0) {
      --depth_;
      if (link_base_ != nullptr) {
        idx = head_;
        head_ = link(idx);
      } else {
        idx = stack_[depth_];
      }
    } else if (fresh_ < capacity_) {
      idx = fresh_++;
    } else {
      return kNone;
    }
#ifndef NDEBUG
    used_bits_[idx / 64] |= uint64_t{1} << (idx % 64);
#endif
    ++in_use_;
    return idx;
  }

  // Returns idx (which must have been acquired and not yet released) to the pool.
  void release(uint32_t idx) {
    assert(idx < capacity_);
    assert(!is_free(idx) && "IndexPool: double release");
    assert(in_use_ > 0);
#ifndef NDEBUG
    used_bits_[idx / 64] &= ~(uint64_t{1} << (idx % 64));
#endif
    if (link_base_ != nullptr) {
      link(idx) = head_;
      head_ = idx;
    } else {
      stack_[depth_] = idx;
    }
    ++depth_;
    --in_use_;
  }

#ifndef NDEBUG
  bool is_free(uint32_t idx) const { return ((used_bits_[idx / 64] >> (idx % 64)) & 1u) == 0; }
#endif

  uint32_t capacity() const { return capacity_; }
  uint32_t in_use() const { return in_use_; }
  uint32_t available() const { return capacity_ - in_use_; }
  // Indices [0, high_water()) have been handed out at least once; the rest never.
  uint32_t high_water() const { return fresh_; }

 private:
  uint32_t& link(uint32_t idx) { return *reinterpret_cast<uint32_t*>(link_base_ + size_t{idx} * link_stride_); }

  uint32_t capacity_;
  uint32_t in_use_ = 0;
  uint32_t depth_ = 0;  // released indices on the stack: stack_[0, depth_)
  uint32_t fresh_ = 0;  // next never-used index
  uint32_t head_ = kNone;  // threaded: the free list's first index (depth_ of them)
  char* link_base_ = nullptr;
  size_t link_stride_ = 0;
  ZeroArray<uint32_t> stack_;
  // Bit i set <=> index i is in use: the double-release check of the test
  // builds. Builds with NDEBUG (the shipped binaries and the bench) never
  // write it, so its zero pages stay unbacked (kept, so both builds have one
  // layout).
  ZeroArray<uint64_t> used_bits_;
};

}  // namespace synmill::tcp
