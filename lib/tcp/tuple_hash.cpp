#include "tcp/tuple_hash.hpp"

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

}  // namespace synmill::tcp
