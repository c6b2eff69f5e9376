#include "tcp/send_queue.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace synmill::tcp {

uint32_t SendQueue::append(ChunkPool& pool, std::span<const uint8_t> data, uint32_t max_size) {
  assert(pool_ == nullptr || pool_ == &pool);
  if (size_ >= max_size || data.empty()) return 0;
  const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(data.size(), max_size - size_));
  const uint32_t cs = pool.chunk_size();
  const uint8_t* src = data.data();

  if (tail_ == ChunkPool::kNone && want <= cs) {
    // The common append (a response to an empty queue): one chunk, a ring
    // of one, linked before its bytes are copied in (the copy goes last).
    const uint32_t c = pool.acquire();
    if (c == ChunkPool::kNone) return 0;
    pool.set_next(c, c);
    pool.set_begin(c, 0);
    pool_ = &pool;
    tail_ = c;
    size_ += want;
    std::memcpy(pool.data(c), src, want);
    return want;
  }
  // The general case, out of line (a lambda: this function keeps no
  // registers to save for it): the tail topped up, then whole chunks.
  return [&]() __attribute__((noinline)) -> uint32_t {
    uint32_t taken = 0;
    if (tail_ != ChunkPool::kNone) {
      // Fill the tail first. Bytes from the head's begin to the queue's end span
      // full chunks and then the tail, which holds 1..cs bytes.
      const uint64_t end = uint64_t{pool.begin(pool.next(tail_))} + size_;
      const uint32_t fill = static_cast<uint32_t>((end - 1) % cs) + 1;
      const uint32_t n = std::min(cs - fill, want);
      if (n > 0) std::memcpy(pool.data(tail_) + fill, src, n);  // (a full tail may be external)
      taken = n;
    }
    while (taken < want) {
      const uint32_t c = pool.acquire();
      if (c == ChunkPool::kNone) break;
      const uint32_t n = std::min(cs, want - taken);
      std::memcpy(pool.data(c), src + taken, n);
      if (tail_ == ChunkPool::kNone) {
        pool.set_next(c, c);  // a ring of one
        pool.set_begin(c, 0);
        pool_ = &pool;
      } else {
        pool.set_next(c, pool.next(tail_));  // new tail -> head
        pool.set_next(tail_, c);
      }
      tail_ = c;
      taken += n;
    }
    size_ += taken;
    return taken;
  }();
}

uint32_t SendQueue::append_ref(ChunkPool& pool, std::span<const uint8_t> data, uint32_t max_size) {
  assert(pool_ == nullptr || pool_ == &pool);
  if (size_ >= max_size || data.empty()) return 0;
  const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(data.size(), max_size - size_));
  const uint32_t cs = pool.chunk_size();
  uint32_t taken = 0;
  if (tail_ != ChunkPool::kNone) {  // top up the tail by copy: chunks before the tail stay full
    const uint64_t end = uint64_t{pool.begin(pool.next(tail_))} + size_;
    const uint32_t fill = static_cast<uint32_t>((end - 1) % cs) + 1;
    if (fill < cs) taken = append(pool, data.first(std::min(cs - fill, want)), max_size);
  }
  while (want - taken >= cs) {  // whole chunks by reference
    const uint32_t c = pool.acquire();
    if (c == ChunkPool::kNone) return taken;
    pool.set_external(c, data.data() + taken);
    if (tail_ == ChunkPool::kNone) {
      pool.set_next(c, c);
      pool.set_begin(c, 0);
      pool_ = &pool;
    } else {
      pool.set_next(c, pool.next(tail_));
      pool.set_next(tail_, c);
    }
    tail_ = c;
    size_ += cs;
    taken += cs;
  }
  if (taken < want) taken += append(pool, data.subspan(taken, want - taken), max_size);  // the short rest
  return taken;
}

void SendQueue::consume(ChunkPool& pool, uint32_t n) {
  assert(n <= size_);
  assert(n == 0 || pool_ == &pool);
  if (n == 0) return;
  if (n >= size_) {
    clear(pool);
    return;
  }
  // n < size_, so the tail chunk always survives.
  const uint32_t cs = pool.chunk_size();
  uint32_t head = pool.next(tail_);
  for (;;) {
    const uint32_t begin = pool.begin(head);
    const uint32_t in_head = cs - begin;  // head != tail here or n < size_ stops us
    if (n < in_head) {
      pool.set_begin(head, begin + n);
      size_ -= n;
      return;
    }
    const uint32_t next = pool.next(head);
    pool.set_next(tail_, next);
    pool.release(head);
    size_ -= in_head;
    n -= in_head;
    head = next;
    pool.set_begin(head, 0);
    if (n == 0) return;
  }
}

void SendQueue::clear(ChunkPool& pool) {
  if (tail_ != ChunkPool::kNone) {
    assert(pool_ == &pool);
    uint32_t c = pool.next(tail_);
    for (;;) {
      const uint32_t next = pool.next(c);
      const bool last = c == tail_;
      pool.release(c);
      if (last) break;
      c = next;
    }
  }
  tail_ = ChunkPool::kNone;
  size_ = 0;
  pool_ = nullptr;
}

namespace {

// copy_to() over several chunks: from byte `pos` of chunk `c` (pos may lie
// in a later chunk).
[[gnu::noinline]] void copy_chunks(const ChunkPool& pool, uint32_t c, uint64_t pos, uint32_t len, uint8_t* dst) {
  const uint32_t cs = pool.chunk_size();
  while (pos >= cs) {
    pos -= cs;
    c = pool.next(c);
  }
  auto at = static_cast<uint32_t>(pos);
  for (;;) {
    const uint32_t n = std::min(cs - at, len);
    std::memcpy(dst, pool.data(c) + at, n);
    len -= n;
    if (len == 0) return;
    dst += n;
    at = 0;
    c = pool.next(c);
  }
}

}  // namespace

void SendQueue::copy_to(uint32_t offset, uint32_t len, uint8_t* dst) const {
  assert(uint64_t{offset} + len <= size_);
  if (len == 0) return;
  const ChunkPool& pool = *pool_;
  const uint32_t c = pool.next(tail_);
  const uint64_t pos = uint64_t{pool.begin(c)} + offset;
  // The common segment (a response within the head chunk): one copy, with
  // no register saves for the walk over chunks.
  if (pos + len <= pool.chunk_size()) {
    std::memcpy(dst, pool.data(c) + pos, len);
    return;
  }
  copy_chunks(pool, c, pos, len, dst);
}

}  // namespace synmill::tcp
