#pragma once
// Sender-side SACK scoreboard (RFC 6675 §3, §4): which ranges above SND.UNA the
// peer reported as received, as at most kMaxBlocks sorted, disjoint ranges
// inside (SND.UNA, SND.MAX]. Blocks that do not fit (a peer reporting more
// scattered ranges than that) are forgotten, which only makes us retransmit
// more than needed, never less.
//
// IsLost (RFC 6675 §4): a byte is taken as lost when more than
// (DupThresh - 1) * SMSS bytes above it were SACKed, or DupThresh
// discontiguous blocks lie above it (DupThresh = 3).
#include <cstdint>

#include "tcp/types.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::tcp {

class SackBoard {
 public:
  static constexpr uint32_t kMaxBlocks = 8;
  static constexpr uint32_t kDupThresh = 3;

  void clear() {
    n_ = 0;
    sacked_ = 0;
  }
  uint32_t blocks() const { return n_; }
  uint32_t sacked_bytes() const { return sacked_; }
  bool empty() const { return n_ == 0; }
  // Highest SACKed sequence + 1, or `una` when nothing is SACKed.
  Seq high(Seq una) const { return n_ ? right_[n_ - 1] : una; }

  // Adds the blocks of one ACK (RFC 2018 §3), keeping only what lies in
  // (una, max]; D-SACK blocks (RFC 2883, below una or inside another block)
  // add nothing. Returns true when a block added newly SACKed bytes.
  bool update(const wire::TcpOptions& o, Seq una, Seq max);
  // Drops what the cumulative ACK now covers.
  void advance(Seq una);
  // If `s` lies in a SACKed block, the block's right edge, else `s`.
  Seq skip(Seq s) const;
  // RFC 6675 §4 IsLost for every byte of a hole ending at `hole_end`.
  bool lost_below(Seq hole_end, uint32_t smss) const;
  // The first unSACKed range [*l, *r) with l >= from that is lost (an
  // RFC 6675 NextSeg() rule 1 candidate); false when there is none.
  bool next_lost(Seq una, Seq from, uint32_t smss, Seq* l, Seq* r) const;
  // The highest range of [una, max) not SACKed, as [*l, *r); false when
  // everything outstanding was SACKed (RFC 6675 NextSeg() rule 4).
  bool top_hole(Seq una, Seq max, Seq* l, Seq* r) const;
  // RFC 6675 SetPipe(): bytes in flight, given HighRxt and SND.MAX.
  uint32_t pipe(Seq una, Seq max, Seq high_rxt, uint32_t smss) const;

 private:
  Seq left_[kMaxBlocks], right_[kMaxBlocks];
  uint32_t n_ = 0;
  uint32_t sacked_ = 0;
  void recount();
};

}  // namespace synmill::tcp
