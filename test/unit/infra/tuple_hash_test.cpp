#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "tcp/tuple_hash.hpp"

using synmill::tcp::FourTuple;
using synmill::tcp::TupleHash;

namespace {

std::vector<FourTuple> make_domain(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<FourTuple> v;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    v.push_back(FourTuple{0xC6120002u, 0xC6120000u | static_cast<uint32_t>(r & 0xFFFF),
                          static_cast<uint16_t>(80 + (r >> 60)), static_cast<uint16_t>(r >> 16)});
  }
  return v;
}

}  // namespace

TEST_CASE("TupleHash depends on the seed", "[infra]") {
  const TupleHash a(1), b(2), a2(1);
  const auto dom = make_domain(64, 3);
  int same = 0;
  for (const auto& t : dom) same += a(t) == b(t) ? 1 : 0;
  REQUIRE(same == 0);
  for (const auto& t : dom) REQUIRE(a(t) == a2(t));  // same seed, same hash
}

TEST_CASE("same_tuple compares all twelve bytes", "[infra]") {
  const FourTuple t{0xC6120002u, 0xC6120001u, 80, 40000};
  CHECK(synmill::tcp::same_tuple(t, t));
  for (int f = 0; f < 4; ++f) {
    FourTuple u = t;
    if (f == 0) u.local_ip ^= 1;
    if (f == 1) u.remote_ip ^= 0x80000000u;
    if (f == 2) u.local_port ^= 0x100;
    if (f == 3) u.remote_port ^= 1;
    CHECK_FALSE(synmill::tcp::same_tuple(t, u));
  }
}
