#pragma once
// Free list of slot indices 0..capacity-1 for per-core pools (connections,
// chunks, TIME_WAIT entries). A LIFO stack: the most recently released slot is
// handed out first, so its memory is likely still in cache. All storage is
// allocated once in the constructor; acquire() and release() are O(1).
//
// A one-bit-per-slot "free" map backs the double-release check in release();
// it costs capacity/8 bytes and one load, so it is kept in every build type
// while the assert itself follows NDEBUG.
#include <cassert>
#include <cstdint>
#include <memory>

namespace synmill::tcp {

class IndexPool {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // capacity < kNone (kNone is the "no slot" marker).
  explicit IndexPool(uint32_t capacity)
      : capacity_(capacity),
        free_count_(capacity),
        stack_(std::make_unique<uint32_t[]>(capacity)),
        free_bits_(std::make_unique<uint64_t[]>((static_cast<size_t>(capacity) + 63) / 64)) {
    assert(capacity < kNone);
    // Top of the stack is stack_[free_count_ - 1]; fill so acquire() yields 0, 1, 2, ...
    for (uint32_t i = 0; i < capacity; ++i) {
      stack_[i] = capacity - 1 - i;
      free_bits_[i / 64] |= uint64_t{1} << (i % 64);
    }
  }

  // Returns a free index, or kNone when exhausted.
  uint32_t acquire() {
    if (free_count_ == 0) return kNone;
    const uint32_t idx = stack_[--free_count_];
    free_bits_[idx / 64] &= ~(uint64_t{1} << (idx % 64));
    return idx;
  }

  // Returns idx (which must have been acquired and not yet released) to the pool.
  void release(uint32_t idx) {
    assert(idx < capacity_);
    assert(!is_free(idx) && "IndexPool: double release");
    assert(free_count_ < capacity_);
    free_bits_[idx / 64] |= uint64_t{1} << (idx % 64);
    stack_[free_count_++] = idx;
  }

  bool is_free(uint32_t idx) const { return ((free_bits_[idx / 64] >> (idx % 64)) & 1u) != 0; }

  uint32_t capacity() const { return capacity_; }
  uint32_t in_use() const { return capacity_ - free_count_; }
  uint32_t available() const { return free_count_; }

 private:
  uint32_t capacity_;
  uint32_t free_count_;
  std::unique_ptr<uint32_t[]> stack_;     // free indices, [0, free_count_)
  std::unique_ptr<uint64_t[]> free_bits_;  // bit i set <=> index i is free
};

}  // namespace synmill::tcp
