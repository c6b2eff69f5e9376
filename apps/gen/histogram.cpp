#include "gen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace synmill::gen {

unsigned Histogram::index_of(uint64_t v) {
  if (v < kSub) return static_cast<unsigned>(v);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBits
  const unsigned shift = msb - kSubBits;
  const auto sub = static_cast<unsigned>((v >> shift) & (kSub - 1));
  return (shift + 1) * kSub + sub;
}

uint64_t Histogram::upper_bound_of(unsigned index) {
  if (index < kSub) return index;
  const unsigned shift = index / kSub - 1;
  const uint64_t sub = index % kSub;
  const uint64_t low = (uint64_t{kSub} + sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void Histogram::merge(const Histogram& o) {
  for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (unsigned i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_bound_of(i), max_);
  }
  return max_;
}

}  // namespace synmill::gen
