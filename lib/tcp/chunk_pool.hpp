#pragma once
// Per-core pool of fixed-size byte chunks backing the send queues (SendQueue).
// All memory is reserved once: num_chunks * chunk_size bytes (page aligned),
// plus per chunk a next link (SendQueue chains its chunks in a ring
// through it) and a begin offset (where valid bytes start; only read for the
// chunk at the head of a queue) and an external pointer (zero-copy send:
// the chunk's bytes are the application's). Chunk indices come from an IndexPool (LIFO, so
// a chunk just freed by one connection is reused while still warm).
//
// Lazy (ZeroPages): nothing is written at construction, so a 128 MiB pool
// costs memory only for the chunks handed out so far; the IndexPool hands
// out never-used chunks in index order, so the backed part grows from the
// front. The price is one page fault the first time each 4 KiB is written
// (4 KiB pages whatever the pool's size: ZeroPages::Paging::kSmall).
#include <cassert>
#include <cstddef>
#include <cstdint>

#include "tcp/index_pool.hpp"
#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

class ChunkPool {
 public:
  static constexpr uint32_t kNone = IndexPool::kNone;

  // chunk_size > 0.
  ChunkPool(uint32_t num_chunks, uint32_t chunk_size);

  // A free chunk (its next and begin left as they were), or kNone when exhausted.
  uint32_t acquire() { return free_.acquire(); }
  void release(uint32_t c) {
    ext_[c] = nullptr;
    free_.release(c);
  }

  // The chunk's own memory (to write into; never an external chunk's).
  uint8_t* data(uint32_t c) {
    assert(c < capacity() && ext_[c] == nullptr);
    return bytes() + static_cast<size_t>(c) * chunk_size_;
  }
  // Its bytes: its own memory, or the application's for an external chunk.
  const uint8_t* data(uint32_t c) const {
    assert(c < capacity());
    const uint8_t* e = ext_[c];
    return e != nullptr ? e : bytes() + static_cast<size_t>(c) * chunk_size_;
  }
  // Zero-copy send (SendQueue::append_ref): chunk `c` stands for chunk_size
  // bytes at `bytes`, which the application keeps valid and unchanged; the
  // link is dropped when the chunk is released.
  void set_external(uint32_t c, const uint8_t* bytes) { ext_[c] = bytes; }
  bool external(uint32_t c) const { return ext_[c] != nullptr; }

  uint32_t next(uint32_t c) const { return next_[c]; }
  void set_next(uint32_t c, uint32_t n) { next_[c] = n; }
  uint32_t begin(uint32_t c) const { return begin_[c]; }
  void set_begin(uint32_t c, uint32_t off) { begin_[c] = off; }

  uint32_t in_use() const { return free_.in_use(); }
  uint32_t capacity() const { return free_.capacity(); }
  uint32_t available() const { return free_.available(); }
  uint32_t chunk_size() const { return chunk_size_; }

 private:
  uint8_t* bytes() const { return static_cast<uint8_t*>(mem_.get()); }

  uint32_t chunk_size_;
  ZeroPages mem_;
  ZeroArray<uint32_t> next_;
  ZeroArray<uint32_t> begin_;
  ZeroArray<const uint8_t*> ext_;  // nullptr: the chunk's own memory
  IndexPool free_;
};

}  // namespace synmill::tcp
