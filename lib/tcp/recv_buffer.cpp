#include "tcp/recv_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace synmill::tcp {

bool RecvBuffer::store(ChunkPool& pool, Slots s, uint32_t cap, Seq seq,
                       std::span<const uint8_t> data) {
  if (data.empty()) return true;
  const auto len = static_cast<uint32_t>(data.size());
  if (seq < read_ || static_cast<uint64_t>(seq - read_) + len > cap) return false;
  const uint32_t cs = pool.chunk_size();
  // Count the chunks to acquire first: all or nothing.
  const uint32_t first = static_cast<uint32_t>(seq - head_seq_) / cs;
  const uint32_t last = static_cast<uint32_t>(seq + (len - 1) - head_seq_) / cs;
  uint32_t need = 0;
  for (uint32_t k = first; k <= last; ++k)
    if (s.slot[(head_slot_ + k) % s.n] == kNoChunk) ++need;
  if (need > pool.available()) return false;
  uint32_t off = static_cast<uint32_t>(seq - head_seq_);
  const uint8_t* src = data.data();
  uint32_t left = len;
  while (left > 0) {
    uint32_t& c = s.slot[(head_slot_ + off / cs) % s.n];
    if (c == kNoChunk) {
      c = pool.acquire() + 1;
      ++chunks_;
    }
    const uint32_t at = off % cs;
    const uint32_t n = std::min(cs - at, left);
    std::memcpy(pool.data(c - 1) + at, src, n);
    src += n;
    off += n;
    left -= n;
  }
  return true;
}

bool RecvBuffer::can_add_block(Seq seq, uint32_t len) const {
  const Seq l = seq, r = seq + len;
  uint32_t touched = 0;
  for (uint32_t i = 0; i < nblocks_; ++i)
    if (!(blocks_[i].right < l || r < blocks_[i].left)) ++touched;
  return touched > 0 || nblocks_ < kMaxBlocks;
}

bool RecvBuffer::add_block(Seq seq, uint32_t len) {
  if (len == 0) return true;
  if (!can_add_block(seq, len)) return false;
  Seq l = seq, r = seq + len;
  // Absorb every block that overlaps or touches [l, r), keep the rest sorted.
  Block out[kMaxBlocks];
  uint32_t n = 0;
  bool placed = false;
  for (uint32_t i = 0; i < nblocks_; ++i) {
    const Block& b = blocks_[i];
    if (b.right < l) {
      out[n++] = b;
    } else if (r < b.left) {
      if (!placed) {
        out[n++] = Block{l, r, ++stamp_};
        placed = true;
      }
      out[n++] = b;
    } else {
      l = seq_min(l, b.left);
      r = seq_max(r, b.right);
    }
  }
  if (!placed) out[n++] = Block{l, r, ++stamp_};
  assert(n <= kMaxBlocks);
  std::copy(out, out + n, blocks_);
  nblocks_ = static_cast<uint8_t>(n);
  return true;
}

bool RecvBuffer::holds(Seq seq, uint32_t len) const {
  for (uint32_t i = 0; i < nblocks_; ++i)
    if (blocks_[i].left <= seq && seq + len <= blocks_[i].right) return true;
  return false;
}

bool RecvBuffer::held_overlap(Seq seq, uint32_t len, Seq* l, Seq* r) const {
  const Seq end = seq + len;
  for (uint32_t i = 0; i < nblocks_; ++i) {  // sorted: the first hit is the lowest
    if (blocks_[i].right <= seq || end <= blocks_[i].left) continue;
    *l = seq_max(seq, blocks_[i].left);
    *r = seq_min(end, blocks_[i].right);
    return true;
  }
  return false;
}

bool RecvBuffer::cut_from(Seq end) {
  uint32_t n = 0;
  bool cut = false;
  for (uint32_t i = 0; i < nblocks_; ++i) {
    Block b = blocks_[i];
    if (end <= b.left) {
      cut = true;
      continue;
    }
    if (end < b.right) {
      b.right = end;
      cut = true;
    }
    blocks_[n++] = b;
  }
  nblocks_ = static_cast<uint8_t>(n);
  return cut;
}

Seq RecvBuffer::merge(Seq rcv_nxt) {
  uint32_t k = 0;
  while (k < nblocks_ && blocks_[k].left <= rcv_nxt) {
    rcv_nxt = seq_max(rcv_nxt, blocks_[k].right);
    ++k;
  }
  if (k > 0) {
    std::copy(blocks_ + k, blocks_ + nblocks_, blocks_);
    nblocks_ = static_cast<uint8_t>(nblocks_ - k);
  }
  return rcv_nxt;
}

std::span<const uint8_t> RecvBuffer::peek(const ChunkPool& pool, Slots s, Seq limit) const {
  if (limit <= read_) return {};
  const uint32_t cs = pool.chunk_size();
  const uint32_t off = static_cast<uint32_t>(read_ - head_seq_);
  const uint32_t c = s.slot[slot_of(s, cs, read_)];
  assert(c != kNoChunk);
  const uint32_t at = off % cs;
  const uint32_t n = std::min(cs - at, static_cast<uint32_t>(limit - read_));
  return std::span<const uint8_t>(pool.data(c - 1) + at, n);
}

void RecvBuffer::consume_chunks(ChunkPool& pool, Slots s) {
  const uint32_t cs = pool.chunk_size();
  while (static_cast<uint32_t>(read_ - head_seq_) >= cs) {
    uint32_t& c = s.slot[head_slot_];
    if (c != kNoChunk) {
      pool.release(c - 1);
      c = kNoChunk;
      --chunks_;
    }
    head_slot_ = (head_slot_ + 1) % s.n;
    head_seq_ += cs;
  }
  if (chunks_ == 0) {
    head_seq_ = read_;
    head_slot_ = 0;
  }
}

void RecvBuffer::clear(ChunkPool& pool, Slots s) {
  if (chunks_ == 0 && nblocks_ == 0) return;
  if (chunks_ > 0) {
    for (uint32_t i = 0; i < s.n; ++i) {
      if (s.slot[i] == kNoChunk) continue;
      pool.release(s.slot[i] - 1);
      s.slot[i] = kNoChunk;
    }
  }
  chunks_ = 0;
  nblocks_ = 0;
  head_seq_ = read_;
  head_slot_ = 0;
}

void RecvBuffer::fill_sack(wire::TcpOptions& o, bool include_dsack) {
  uint32_t n = 0;
  if (include_dsack && dsack_) o.sack[n++] = wire::SackBlock{dsack_l_.raw(), dsack_r_.raw()};
  // Most recent first: selection by stamp over at most kMaxBlocks entries.
  uint32_t used = 0;  // bit per block already reported
  while (n < static_cast<uint32_t>(wire::kMaxSackBlocks)) {
    int best = -1;
    for (uint32_t i = 0; i < nblocks_; ++i)
      if (!(used & (1u << i)) && (best < 0 || blocks_[i].stamp > blocks_[best].stamp))
        best = static_cast<int>(i);
    if (best < 0) break;
    used |= 1u << best;
    o.sack[n++] = wire::SackBlock{blocks_[best].left.raw(), blocks_[best].right.raw()};
  }
  o.sack_count = static_cast<uint8_t>(n);
}

}  // namespace synmill::tcp
