#pragma once
// Per-connection receive buffer: bytes the stack acknowledged that the
// application has not taken yet, and out-of-order bytes beyond RCV.NXT waiting
// for the hole before them (RFC 9293 §3.10.7.4 "seventh": segments beyond
// RCV.NXT may be held for later processing; RFC 5681 §4.2).
//
// Sequence layout, left to right:
//   read_       first byte the application has not taken
//   RCV.NXT     (kept in ConnHot) first byte not yet received in order
//   blocks_     out-of-order ranges beyond RCV.NXT, sorted, disjoint, not
//               adjacent; at most kMaxBlocks (a segment that would make one
//               more is dropped and counted)
// Every byte lies in [read_, read_ + cap); the window we advertise keeps the
// peer inside it, and store() refuses anything outside.
//
// Storage: chunks from the core's ChunkPool (the one the send queues use),
// mapped through a per-connection ring of `nslots` chunk indices that the
// Stack owns (a slice of one array sized at start-up): the byte at sequence s
// lives in slot (head_slot_ + (s - head_seq_) / cs) % nslots at offset
// (s - head_seq_) % cs. A chunk is acquired when the first byte lands in its
// slot and released once read_ passes its end; an empty buffer holds none.
// nslots = ceil(cap / cs) + 2 covers a window that starts anywhere in a chunk.
//
// RFC 2018 §4: the SACK blocks we report are the out-of-order ranges, the one
// holding the most recently received segment first, then the others most
// recent first. RFC 2883: a duplicate segment is reported once as a D-SACK
// block ahead of them.
#include <cstdint>
#include <span>

#include "tcp/chunk_pool.hpp"
#include "tcp/types.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::tcp {

class RecvBuffer {
 public:
  static constexpr uint32_t kMaxBlocks = 8;

  // A ring slot holds chunk index + 1; kNoChunk (0) when it holds none, so
  // an all-zero ring (fresh zero pages) is empty.
  static constexpr uint32_t kNoChunk = 0;
  struct Slots {  // this connection's slice of the stack's slot array
    uint32_t* slot;
    uint32_t n;
  };

  // Starts an empty buffer whose next byte to read is `read`.
  void reset(Seq read) {
    read_ = read;
    head_seq_ = read;
    head_slot_ = 0;
    chunks_ = 0;
    nblocks_ = 0;
    stamp_ = 0;
    dsack_ = false;
    fin_ = false;
  }

  Seq read_seq() const { return read_; }
  // Bytes in [read_, rcv_nxt): acknowledged, not yet taken.
  uint32_t in_order(Seq rcv_nxt) const { return static_cast<uint32_t>(rcv_nxt - read_); }
  uint32_t chunks() const { return chunks_; }
  uint32_t blocks() const { return nblocks_; }
  bool has_ooo() const { return nblocks_ > 0; }

  // Copies `data` to sequence `seq`; all or nothing. False when a chunk is
  // needed and the pool is empty, or when the bytes leave [read_, read_ + cap).
  bool store(ChunkPool& pool, Slots s, uint32_t cap, Seq seq, std::span<const uint8_t> data);
  // Records [seq, seq + len) beyond RCV.NXT as received. False (nothing
  // recorded) when it would need more than kMaxBlocks blocks.
  bool add_block(Seq seq, uint32_t len);
  bool can_add_block(Seq seq, uint32_t len) const;
  // True when every byte of [seq, seq + len) is already held out of order.
  bool holds(Seq seq, uint32_t len) const;
  // The lowest part of [seq, seq + len) already held out of order, as
  // [*l, *r) (what an RFC 2883 D-SACK block reports); false when none is.
  bool held_overlap(Seq seq, uint32_t len, Seq* l, Seq* r) const;
  // Forgets the out-of-order bytes at or beyond `end` (past the peer's FIN);
  // true when there were any. Their chunks go when the buffer drains.
  bool cut_from(Seq end);
  // Advances RCV.NXT over the blocks it now reaches; returns the new RCV.NXT.
  Seq merge(Seq rcv_nxt);
  // The contiguous bytes from read_ up to `limit` within one chunk.
  std::span<const uint8_t> peek(const ChunkPool& pool, Slots s, Seq limit) const;
  // The application took n bytes from read_: release chunks left behind.
  // Inline when no chunk is held (most calls: bytes taken straight from the
  // segment); consume_chunks() otherwise.
  void consume(ChunkPool& pool, Slots s, uint32_t n) {
    read_ += n;
    if (chunks_ == 0) {
      head_seq_ = read_;
      head_slot_ = 0;
      return;
    }
    consume_chunks(pool, s);
  }
  void consume_chunks(ChunkPool& pool, Slots s);
  // Releases every chunk once nothing is held (read_ == rcv_nxt, no blocks):
  // an idle connection keeps no buffer memory.
  void trim(ChunkPool& pool, Slots s, Seq rcv_nxt) {
    if (chunks_ > 0 && nblocks_ == 0 && read_ == rcv_nxt) clear(pool, s);
  }
  // Releases every chunk and forgets the out-of-order blocks (a remembered
  // FIN and D-SACK stay).
  void clear(ChunkPool& pool, Slots s);

  // The peer's FIN, remembered until every byte before it has arrived and
  // been taken (it may arrive out of order).
  void set_fin(Seq fin_seq) {
    fin_ = true;
    fin_seq_ = fin_seq;
  }
  bool fin_at(Seq s) const { return fin_ && fin_seq_ == s; }
  bool has_fin() const { return fin_; }
  Seq fin_seq() const { return fin_seq_; }  // valid while has_fin()

  // RFC 2883 D-SACK: report [left, right) once in the next ACK.
  void set_dsack(Seq left, Seq right) {
    dsack_ = true;
    dsack_l_ = left;
    dsack_r_ = right;
  }
  // Writes the SACK blocks for an ACK at rcv_nxt into `o` (RFC 2018 §4).
  void fill_sack(wire::TcpOptions& o, bool include_dsack);
  void clear_dsack() { dsack_ = false; }
  bool has_dsack() const { return dsack_; }

 private:
  struct Block {
    Seq left, right;
    uint32_t stamp;  // higher = more recently extended
  };
  uint32_t slot_of(Slots s, uint32_t cs, Seq seq) const {
    return (head_slot_ + static_cast<uint32_t>(seq - head_seq_) / cs) % s.n;
  }

  Seq read_;
  uint32_t chunks_ = 0;
  Seq head_seq_;
  uint32_t head_slot_ = 0;
  uint32_t stamp_ = 0;
  uint8_t nblocks_ = 0;
  bool dsack_ = false;
  bool fin_ = false;
  Seq fin_seq_;
  Seq dsack_l_, dsack_r_;
  Block blocks_[kMaxBlocks];
};

}  // namespace synmill::tcp
