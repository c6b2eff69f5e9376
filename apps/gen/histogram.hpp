#pragma once
// Latency histogram with bounded relative error and fixed memory: values
// below 2^kSubBits land in exact buckets; above, each power of two is split
// into 2^kSubBits linear buckets (about 3% relative error), the layout of
// HdrHistogram with one significant figure and a half. Recording is O(1) with
// no allocation, so it runs in the poll loop; merge() adds one core's
// histogram into another's after the run.
#include <array>
#include <cstdint>

namespace synmill::gen {

class Histogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr unsigned kSub = 1u << kSubBits;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSub;

  void record(uint64_t v) {
    ++counts_[index_of(v)];
    ++count_;
    if (v > max_) max_ = v;
  }
  void merge(const Histogram& o);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The smallest recorded-bucket upper bound at or above fraction q (0..1) of
  // the values (q = 0.5: median); 0 if empty. Never above max().
  uint64_t quantile(double q) const;

  static unsigned index_of(uint64_t v);
  static uint64_t upper_bound_of(unsigned index);  // largest value in the bucket

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace synmill::gen
