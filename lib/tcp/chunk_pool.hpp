#pragma once
// Per-core pool of fixed-size byte chunks backing the send queues (SendQueue).
// All memory is allocated once: num_chunks * chunk_size bytes (64-byte
// aligned), plus per chunk a next link (SendQueue chains its chunks in a ring
// through it) and a begin offset (where valid bytes start; only read for the
// chunk at the head of a queue). Chunk indices come from an IndexPool (LIFO, so
// a chunk just freed by one connection is reused while still warm).
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "tcp/index_pool.hpp"

namespace synmill::tcp {

class ChunkPool {
 public:
  static constexpr uint32_t kNone = IndexPool::kNone;

  // chunk_size > 0.
  ChunkPool(uint32_t num_chunks, uint32_t chunk_size);

  // A free chunk (its next and begin left as they were), or kNone when exhausted.
  uint32_t acquire() { return free_.acquire(); }
  void release(uint32_t c) { free_.release(c); }

  uint8_t* data(uint32_t c) {
    assert(c < capacity());
    return mem_.get() + static_cast<size_t>(c) * chunk_size_;
  }
  const uint8_t* data(uint32_t c) const {
    assert(c < capacity());
    return mem_.get() + static_cast<size_t>(c) * chunk_size_;
  }

  uint32_t next(uint32_t c) const { return next_[c]; }
  void set_next(uint32_t c, uint32_t n) { next_[c] = n; }
  uint32_t begin(uint32_t c) const { return begin_[c]; }
  void set_begin(uint32_t c, uint32_t off) { begin_[c] = off; }

  uint32_t in_use() const { return free_.in_use(); }
  uint32_t capacity() const { return free_.capacity(); }
  uint32_t available() const { return free_.available(); }
  uint32_t chunk_size() const { return chunk_size_; }

 private:
  static constexpr std::align_val_t kAlign{64};
  struct AlignedDelete {
    void operator()(uint8_t* p) const { ::operator delete[](p, kAlign); }
  };

  uint32_t chunk_size_;
  std::unique_ptr<uint8_t[], AlignedDelete> mem_;
  std::unique_ptr<uint32_t[]> next_;
  std::unique_ptr<uint32_t[]> begin_;
  IndexPool free_;
};

}  // namespace synmill::tcp
