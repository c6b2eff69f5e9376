#pragma once
// A stack of connection slot numbers with a fixed capacity (the stack's work
// lists: slots to reap, output to flush, extensions to check at the end of an
// entry point). Each slot is on a list at most once (a flag in its record says
// so), so `capacity` = max_conns never overflows. push() is a store and an
// increment, inline (std::vector::push_back's growth path kept an out-of-line
// call on every packet: about 13 instructions, issue 12). The storage is zero
// pages (zero_pages.hpp): backed only as deep as the list ever grows.
#include <cassert>
#include <cstdint>

#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

class SlotStack {
 public:
  SlotStack() = default;
  explicit SlotStack(uint32_t capacity) : v_(capacity), cap_(capacity) {}

  void push(uint32_t slot) {
    assert(n_ < cap_);
    v_[n_++] = slot;
  }
  bool empty() const { return n_ == 0; }
  uint32_t size() const { return n_; }
  uint32_t operator[](uint32_t k) const { return v_[k]; }
  void clear() { n_ = 0; }
  const uint32_t* begin() const { return v_.get(); }
  const uint32_t* end() const { return v_.get() + n_; }
  // Takes the last occurrence of `slot` off, keeping the others' order;
  // false when it is not there.
  bool remove_last(uint32_t slot) {
    for (uint32_t k = n_; k-- > 0;) {
      if (v_[k] != slot) continue;
      for (uint32_t j = k + 1; j < n_; ++j) v_[j - 1] = v_[j];
      --n_;
      return true;
    }
    return false;
  }

 private:
  ZeroArray<uint32_t> v_;
  uint32_t n_ = 0;
  uint32_t cap_ = 0;
};

}  // namespace synmill::tcp
