#include "tcp/sack_board.hpp"

#include <algorithm>

namespace synmill::tcp {

void SackBoard::recount() {
  sacked_ = 0;
  for (uint32_t i = 0; i < n_; ++i) sacked_ += static_cast<uint32_t>(right_[i] - left_[i]);
}

bool SackBoard::update(const wire::TcpOptions& o, Seq una, Seq max) {
  const uint32_t before = sacked_;
  for (uint32_t k = 0; k < o.sack_count && k < static_cast<uint32_t>(wire::kMaxSackBlocks); ++k) {
    Seq l{o.sack[k].left}, r{o.sack[k].right};
    if (!(l < r)) continue;          // empty or inverted: ignore
    if (r <= una || l > max) continue;  // D-SACK below SND.UNA, or nonsense beyond SND.MAX
    l = seq_max(l, una);
    r = seq_min(r, max);
    if (!(l < r)) continue;
    // Merge [l, r) into the sorted list.
    Seq nl[kMaxBlocks + 1], nr[kMaxBlocks + 1];
    uint32_t n = 0;
    bool placed = false;
    for (uint32_t i = 0; i < n_; ++i) {
      if (right_[i] < l) {
        nl[n] = left_[i];
        nr[n++] = right_[i];
      } else if (r < left_[i]) {
        if (!placed) {
          nl[n] = l;
          nr[n++] = r;
          placed = true;
        }
        nl[n] = left_[i];
        nr[n++] = right_[i];
      } else {
        l = seq_min(l, left_[i]);
        r = seq_max(r, right_[i]);
      }
    }
    if (!placed) {
      nl[n] = l;
      nr[n++] = r;
    }
    // Too many: forget the highest block (keeps the holes near SND.UNA exact).
    n_ = std::min(n, kMaxBlocks);
    std::copy(nl, nl + n_, left_);
    std::copy(nr, nr + n_, right_);
    recount();
  }
  return sacked_ > before;
}

void SackBoard::advance(Seq una) {
  uint32_t k = 0;
  while (k < n_ && right_[k] <= una) ++k;
  if (k > 0) {
    std::copy(left_ + k, left_ + n_, left_);
    std::copy(right_ + k, right_ + n_, right_);
    n_ -= k;
  }
  if (n_ > 0 && left_[0] < una) left_[0] = una;
  recount();
}

Seq SackBoard::skip(Seq s) const {
  for (uint32_t i = 0; i < n_; ++i)
    if (left_[i] <= s && s < right_[i]) return right_[i];
  return s;
}

bool SackBoard::lost_below(Seq hole_end, uint32_t smss) const {
  uint32_t bytes = 0, blocks = 0;
  for (uint32_t i = 0; i < n_; ++i) {
    if (left_[i] < hole_end) continue;
    bytes += static_cast<uint32_t>(right_[i] - left_[i]);
    ++blocks;
  }
  return blocks >= kDupThresh || bytes > (kDupThresh - 1) * smss;
}

bool SackBoard::next_lost(Seq una, Seq from, uint32_t smss, Seq* l, Seq* r) const {
  // Holes: [una, left_0), [right_0, left_1), ... ; the range above the last
  // block is never lost by this rule (nothing SACKed above it).
  Seq start = una;
  for (uint32_t i = 0; i < n_; ++i) {
    const Seq hl = seq_max(start, from), hr = left_[i];
    if (hl < hr && lost_below(hr, smss)) {
      *l = hl;
      *r = hr;
      return true;
    }
    start = right_[i];
  }
  return false;
}

bool SackBoard::top_hole(Seq una, Seq max, Seq* l, Seq* r) const {
  Seq hi = max;
  uint32_t i = n_;
  if (i > 0 && !(right_[i - 1] < max)) hi = left_[--i];  // the top is SACKed: the hole below it
  const Seq lo = i > 0 ? seq_max(una, right_[i - 1]) : una;
  if (!(lo < hi)) return false;
  *l = lo;
  *r = hi;
  return true;
}

uint32_t SackBoard::pipe(Seq una, Seq max, Seq high_rxt, uint32_t smss) const {
  uint64_t p = 0;
  Seq start = una;
  for (uint32_t i = 0; i <= n_; ++i) {
    const Seq hr = i < n_ ? left_[i] : max;
    if (start < hr) {
      const bool lost = i < n_ && lost_below(hr, smss);
      if (!lost) p += static_cast<uint32_t>(hr - start);
      // Retransmitted bytes (at or below HighRxt) are in flight again.
      const Seq rx_end = seq_min(hr, high_rxt);
      if (start < rx_end) p += static_cast<uint32_t>(rx_end - start);
    }
    if (i < n_) start = right_[i];
  }
  return static_cast<uint32_t>(std::min<uint64_t>(p, UINT32_MAX));
}

}  // namespace synmill::tcp
