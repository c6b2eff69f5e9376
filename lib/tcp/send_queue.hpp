#pragma once
// Per-connection send queue: the bytes the application sent that the peer has
// not acknowledged yet (unacknowledged + unsent), as a FIFO of chunks from the
// core's ChunkPool. The emitter reads segment payloads out with copy_to().
//
// The object is 24 bytes, of which 8 are the PayloadSource vtable pointer:
//   pool_  the ChunkPool, remembered on append (copy_to has no pool argument)
//   tail_  last chunk, kNone when empty; the chunks form a ring through the
//          pool's next links (tail -> head -> ... -> tail), so head = next(tail)
//          and no head index is stored
//   size_  bytes queued
// The head's start offset lives in the pool (ChunkPool::begin(head)). Every
// chunk but the tail is full from its begin to chunk_size, so the tail's fill
// level follows from size_ and needs no field either.
// An empty queue owns no chunk (an idle connection holds no buffer memory).
//
// Costs: append and consume O(1 + chunks touched); copy_to walks
// offset / chunk_size links to reach its first byte, so choose chunk_size so
// that a send window spans tens of chunks, not thousands.
//
// Not copyable: a copy would alias the chunks. The destructor frees nothing;
// call clear() before dropping a non-empty queue.
#include <cstdint>
#include <span>

#include "tcp/chunk_pool.hpp"
#include "tcp/segment.hpp"

namespace synmill::tcp {

class SendQueue final : public PayloadSource {
 public:
  SendQueue() = default;
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;
  ~SendQueue() = default;

  // Bytes queued (unacknowledged + unsent).
  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Appends as much of `data` as fits under max_size (cap on size()) and the
  // pool's free chunks; returns the number of bytes taken. All appends of a
  // queue's lifetime (until it is empty again) must use the same pool.
  uint32_t append(ChunkPool& pool, std::span<const uint8_t> data, uint32_t max_size);
  // The same, by reference where it can (zero-copy): whole chunk_size pieces
  // of `data` become external chunks that point into it; only the bytes that
  // top up a partly filled tail and a last piece shorter than a chunk are
  // copied (at most 2 * chunk_size per call), so every chunk but the tail
  // stays full and the tail is never external and partial. `data` must stay
  // valid and unchanged until the queue no longer holds it (consumed, i.e.
  // acknowledged, or cleared).
  uint32_t append_ref(ChunkPool& pool, std::span<const uint8_t> data, uint32_t max_size);
  // Drops n <= size() bytes from the front (acknowledged); frees emptied chunks.
  void consume(ChunkPool& pool, uint32_t n);
  // Frees all chunks.
  void clear(ChunkPool& pool);
  // Copies bytes [offset, offset + len) from the front; offset + len <= size().
  void copy_to(uint32_t offset, uint32_t len, uint8_t* dst) const override;

 private:
  const ChunkPool* pool_ = nullptr;
  uint32_t tail_ = ChunkPool::kNone;
  uint32_t size_ = 0;
};
static_assert(sizeof(void*) != 8 || sizeof(SendQueue) == 24);

}  // namespace synmill::tcp
