// AddrTable6: reference-counted IPv6 addresses against a std::map model,
// through fills, deletions inside clusters (backward shift) and a full table.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "tcp/addr_table6.hpp"

using synmill::tcp::AddrTable6;
using synmill::tcp::FourTuple;
using synmill::tcp::Ip6;

namespace {

// 2001:2::/48 (RFC 5180), the low 32 bits from n.
Ip6 bench_addr(uint32_t n) {
  Ip6 a = Ip6::from_groups({0x2001, 0x0002, 0, 0, 0, 0, 0, 0});
  a.b[12] = static_cast<uint8_t>(n >> 24);
  a.b[13] = static_cast<uint8_t>(n >> 16);
  a.b[14] = static_cast<uint8_t>(n >> 8);
  a.b[15] = static_cast<uint8_t>(n);
  return a;
}

}  // namespace

TEST_CASE("AddrTable6 shares one entry per address and frees it at the last release", "[infra][ipv6]") {
  AddrTable6 t(4, 42);
  const Ip6 a = bench_addr(1), b = bench_addr(2);
  CHECK(t.find(a) == AddrTable6::kNone);
  const uint32_t ia = t.acquire(a);
  REQUIRE(ia != AddrTable6::kNone);
  CHECK(t.acquire(a) == ia);
  CHECK(t.refs(ia) == 2);
  CHECK(t.size() == 1);
  CHECK(t.addr(ia) == a);
  const uint32_t ib = t.acquire(b);
  CHECK(ib != ia);
  CHECK(t.size() == 2);
  t.release(ia);
  CHECK(t.find(a) == ia);
  t.release(ia);
  CHECK(t.find(a) == AddrTable6::kNone);
  CHECK(t.find(b) == ib);
  CHECK(t.size() == 1);
  t.release(ib);
  CHECK(t.size() == 0);
}

TEST_CASE("AddrTable6 full: acquire refuses a new address and changes nothing", "[infra][ipv6]") {
  AddrTable6 t(3, 7);
  for (uint32_t i = 0; i < 3; ++i) REQUIRE(t.acquire(bench_addr(i)) != AddrTable6::kNone);
  CHECK(t.acquire(bench_addr(99)) == AddrTable6::kNone);
  CHECK(t.find(bench_addr(99)) == AddrTable6::kNone);
  CHECK(t.size() == 3);
  // An address already held still gets a reference.
  const uint32_t i0 = t.find(bench_addr(0));
  CHECK(t.acquire(bench_addr(0)) == i0);
  CHECK(t.refs(i0) == 2);
  t.release(t.find(bench_addr(1)));
  CHECK(t.acquire(bench_addr(99)) != AddrTable6::kNone);
}

TEST_CASE("AddrTable6 agrees with a map through random acquire/release", "[infra][ipv6]") {
  // A small table keeps clusters long, so deletions shift entries often.
  for (const uint64_t seed : {1ull, 2ull, 3ull}) {
    AddrTable6 t(64, seed);
    std::map<uint32_t, uint32_t> refs;  // address number -> references
    std::mt19937 rng(static_cast<uint32_t>(seed));
    for (int step = 0; step < 200000; ++step) {
      const uint32_t n = rng() % 96;  // more addresses than capacity: the full case happens
      if (rng() % 2 == 0) {
        const uint32_t i = t.acquire(bench_addr(n));
        if (refs.count(n) == 0 && refs.size() == 64) {
          REQUIRE(i == AddrTable6::kNone);
        } else {
          REQUIRE(i != AddrTable6::kNone);
          ++refs[n];
        }
      } else if (refs.count(n) != 0) {
        t.release(t.find(bench_addr(n)));
        if (--refs[n] == 0) refs.erase(n);
      }
      if (step % 997 == 0) {
        REQUIRE(t.size() == refs.size());
        for (uint32_t m = 0; m < 96; ++m) {
          const uint32_t i = t.find(bench_addr(m));
          if (refs.count(m) == 0) {
            REQUIRE(i == AddrTable6::kNone);
          } else {
            REQUIRE(i != AddrTable6::kNone);
            REQUIRE(t.addr(i) == bench_addr(m));
            REQUIRE(t.refs(i) == refs[m]);
          }
        }
      }
    }
    for (const auto& [n, r] : refs)
      for (uint32_t k = 0; k < r; ++k) t.release(t.find(bench_addr(n)));
    CHECK(t.size() == 0);
  }
}

TEST_CASE("IPv6 tuples are tagged apart from IPv4 ones", "[infra][ipv6]") {
  const FourTuple v4{0xC6120001u, 0xC6120002u, 80, 40000};
  const FourTuple v6{synmill::tcp::kLocal6Tag | 0, 0, 80, 40000};
  CHECK_FALSE(synmill::tcp::is_ipv6(v4));
  CHECK(synmill::tcp::is_ipv6(v6));
  CHECK_FALSE(synmill::tcp::is_ipv6(FourTuple{0xEFFFFFFFu, 1, 1, 1}));  // 239.255.255.255: not class E
}
