#include "tcp/addr_table6.hpp"

#include <bit>
#include <cassert>
#include <cstring>

namespace synmill::tcp {

AddrTable6::AddrTable6(uint32_t capacity, uint64_t seed)
    : capacity_(capacity),
      mask_(std::bit_ceil(2 * capacity) - 1),
      hasher_(seed),
      slots_(capacity),
      entries_(capacity),
      buckets_(static_cast<size_t>(mask_) + 1) {
  assert(capacity > 0 && capacity < (1u << 31));
}

uint32_t AddrTable6::hash_of(const Ip6& a) const {
  uint64_t w0, w1;
  std::memcpy(&w0, a.b.data(), 8);
  std::memcpy(&w1, a.b.data() + 8, 8);
  return static_cast<uint32_t>(hasher_.words(w0, w1));
}

uint32_t AddrTable6::probe(const Ip6& a, uint32_t h, uint32_t* bucket) const {
  // Load <= 0.5 keeps an empty bucket within reach: the loop ends.
  for (uint32_t b = h & mask_;; b = (b + 1) & mask_) {
    const Bucket& k = buckets_[b];
    if (k.entry_plus1 == 0) {
      *bucket = b;
      return kNone;
    }
    if (k.hash == h && entries_[k.entry_plus1 - 1].addr == a) {
      *bucket = b;
      return k.entry_plus1 - 1;
    }
  }
}

uint32_t AddrTable6::find(const Ip6& a) const {
  uint32_t b;
  return probe(a, hash_of(a), &b);
}

uint32_t AddrTable6::acquire(const Ip6& a) {
  const uint32_t h = hash_of(a);
  uint32_t b;
  uint32_t i = probe(a, h, &b);
  if (i == kNone) {
    i = slots_.acquire();
    if (i == IndexPool::kNone) return kNone;
    entries_[i] = Entry{a, 0, h};
    buckets_[b] = Bucket{i + 1, h};
  }
  ++entries_[i].refs;
  return i;
}

void AddrTable6::release(uint32_t idx) {
  Entry& e = entries_[idx];
  assert(e.refs > 0);
  if (--e.refs > 0) return;
  uint32_t hole;
  [[maybe_unused]] const uint32_t found = probe(e.addr, e.hash, &hole);
  assert(found == idx);
  // Backward-shift deletion (Knuth 6.4, Algorithm R): move later members of
  // the cluster into the hole when their home does not lie cyclically in
  // (hole, j]; the table never holds tombstones.
  for (uint32_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
    const Bucket k = buckets_[j];
    if (k.entry_plus1 == 0) break;
    const uint32_t home = k.hash & mask_;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    buckets_[hole] = k;
    hole = j;
  }
  buckets_[hole] = Bucket{0, 0};
  slots_.release(idx);
}

}  // namespace synmill::tcp
