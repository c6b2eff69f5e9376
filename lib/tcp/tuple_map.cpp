#include "tcp/tuple_map.hpp"

#include <bit>
#include <cassert>

namespace synmill::tcp {
namespace {

// splitmix64: expands the seed into independent-looking constants.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

TupleHash::TupleHash(uint64_t seed) {
  uint64_t st = seed;
  k0_ = splitmix64(st);
  k1_ = splitmix64(st);
  k2_ = splitmix64(st);
  k3_ = splitmix64(st) | 1;  // odd: the final fold never multiplies by zero
}

TupleMap::TupleMap(uint32_t capacity, uint64_t seed) : capacity_(capacity), hash_(seed) {
  assert(capacity <= (uint32_t{1} << 30));
  const uint32_t table = std::bit_ceil(capacity < 1 ? uint32_t{2} : capacity * 2);
  mask_ = table - 1;
  slots_ = ZeroArray<Slot>(table);  // all empty, nothing written
}

bool TupleMap::insert(const FourTuple& key, uint32_t value) {
  assert(value != kNotFound);
  if (value == kNotFound || size_ >= capacity_) return false;
  uint32_t i = home(key);
  for (;;) {
    Slot& s = slots_[i];
    if (s.value1 == kEmpty) {
      s.key = key;
      s.value1 = value + 1;
      ++size_;
      return true;
    }
    if (same(s.key, key)) return false;
    i = (i + 1) & mask_;
  }
}

bool TupleMap::erase(const FourTuple& key) {
  uint32_t i = home(key);
  for (;;) {
    const Slot& s = slots_[i];
    if (s.value1 == kEmpty) return false;
    if (same(s.key, key)) break;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: walk the rest of the cluster; an entry at j whose
  // home h lies cyclically at or before the hole i (i.e. dist(h, j) >=
  // dist(i, j)) may move into the hole, which then moves to j.
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    Slot& s = slots_[j];
    if (s.value1 == kEmpty) break;
    const uint32_t h = home(s.key);
    if (((j - h) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = s;
      i = j;
    }
  }
  slots_[i].value1 = kEmpty;
  --size_;
  return true;
}

}  // namespace synmill::tcp
