// RFC 6528 ISN generator: ISN = M + F(tuple, key), M ticks every 64 ns (as
// Linux; RFC 6528 says 4 µs: isn.hpp gives the reason).
#include "tcp/isn.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace synmill::tcp;

namespace {

constexpr SipKey kKey{0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
constexpr FourTuple kTuple{0xc6120001, 0xc6130002, 80, 40000};  // 198.18.0.1:80 <- 198.19.0.2:40000

// Every test runs with both PRFs (keyed_prf.hpp): AES-128 where the CPU has
// AES-NI, and the SipHash-2-4 fallback, forced.
#define EACH_PRF GENERATE(PrfKind::kAes, PrfKind::kSipHash)

}  // namespace

TEST_CASE("ISN is deterministic for the same key, tuple and time", "[cookie][isn]") {
  const PrfKind prf = EACH_PRF;
  const IsnGenerator a(kKey, prf), b(kKey, prf);
  const Instant now(123456789);
  CHECK(a.isn(kTuple, now) == a.isn(kTuple, now));
  CHECK(a.isn(kTuple, now) == b.isn(kTuple, now));
  CHECK(a.isn(kTuple, now).raw() == IsnGenerator::timer_m(now) + a.offset_f(kTuple));
}

TEST_CASE("ISN advances by one every 64 nanoseconds", "[cookie][isn]") {
  const PrfKind prf = EACH_PRF;
  const IsnGenerator g(kKey, prf);
  const Instant t0(1'000'000'000);  // a multiple of 64 ns
  const Seq base = g.isn(kTuple, t0);
  CHECK(g.isn(kTuple, t0 + Duration::ns(63)) == base);
  CHECK(g.isn(kTuple, t0 + Duration::ns(64)) == base + 1);
  CHECK(g.isn(kTuple, t0 + Duration::us(400)) == base + 6250);
  CHECK(g.isn(kTuple, t0 + Duration::s(1)) == base + 15'625'000);
  // Monotonic in sequence space for the same tuple (RFC 9293 §3.4.1).
  Seq prev = base;
  for (int i = 1; i <= 1000; ++i) {
    const Seq s = g.isn(kTuple, t0 + Duration::us(37 * i));
    REQUIRE(s >= prev);
    prev = s;
  }
}

// The hazard the 64 ns tick closes: a connection reset after sending faster
// than a 4 µs clock advances, its tuple reopened at once (the IPv6 sim's
// seed 104: 3.5 KB in 1.3 ms). 16,000 bytes in 1 ms (128 Mbit/s), reopened
// 1.1 ms after the first SYN: the new ISN is beyond every byte of the old
// connection, where a 4 µs clock would have advanced 275.
TEST_CASE("ISN of a tuple reopened 1.1 ms later lies beyond 16 KB its predecessor sent", "[cookie][isn]") {
  const IsnGenerator g(kKey);
  const Instant t0(5'000'000'000);
  const Seq first = g.isn(kTuple, t0);
  const Seq old_snd_nxt = first + 1 + 16'000 + 1;  // SYN, data, FIN
  const Seq second = g.isn(kTuple, t0 + Duration::us(1100));
  CHECK(second.raw() - first.raw() == 17'187);  // 1.1 ms / 64 ns
  CHECK(second > old_snd_nxt);
}

TEST_CASE("ISN timer M wraps at 2^32 ticks, every 274.9 s (more than 2 MSL)", "[cookie][isn]") {
  const int64_t wrap_ns = (int64_t{1} << 32) * 64;  // 274.9 s
  CHECK(wrap_ns > int64_t{240} * 1'000'000'000);
  CHECK(IsnGenerator::timer_m(Instant(0)) == 0);
  CHECK(IsnGenerator::timer_m(Instant(wrap_ns - 64)) == 0xffffffffu);
  CHECK(IsnGenerator::timer_m(Instant(wrap_ns)) == 0);
  CHECK(IsnGenerator::timer_m(Instant(wrap_ns + 128)) == 2);
}

TEST_CASE("ISN differs across tuples and keys", "[cookie][isn]") {
  const PrfKind prf = EACH_PRF;
  const IsnGenerator g(kKey, prf);
  const Instant now(42'000'000);
  const Seq base = g.isn(kTuple, now);

  FourTuple t = kTuple;
  t.local_ip ^= 1;
  CHECK(g.isn(t, now) != base);
  t = kTuple;
  t.remote_ip ^= 0x100;
  CHECK(g.isn(t, now) != base);
  t = kTuple;
  t.local_port = 81;
  CHECK(g.isn(t, now) != base);
  t = kTuple;
  t.remote_port = 40001;
  CHECK(g.isn(t, now) != base);
  // Swapped direction is a different tuple.
  t = FourTuple{kTuple.remote_ip, kTuple.local_ip, kTuple.remote_port, kTuple.local_port};
  CHECK(g.isn(t, now) != base);

  CHECK(IsnGenerator(SipKey{kKey.k0 + 1, kKey.k1}, prf).isn(kTuple, now) != base);
  CHECK(IsnGenerator(SipKey{kKey.k0, kKey.k1 + 1}, prf).isn(kTuple, now) != base);

  // Sequential source ports (a typical client) give well-spread offsets.
  std::set<uint32_t> seen;
  t = kTuple;
  for (uint16_t port = 1024; port < 1024 + 4096; ++port) {
    t.remote_port = port;
    seen.insert(g.isn(t, now).raw());
  }
  CHECK(seen.size() >= 4094);  // 32-bit values: a collision or two at most
}

TEST_CASE("IPv6 ISN: unique per tuple, monotonic per tuple over time", "[cookie][isn]") {
  const PrfKind prf = EACH_PRF;
  const IsnGenerator g(kKey, prf);
  using synmill::wire::Ipv6Addr;
  const Ipv6Addr local = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});
  Ipv6Addr remote = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 0x10});
  const FourTuple ports{0, 0, 80, 40000};  // IPv6: only the ports of t are read
  const Instant t0(7'000'000'000);
  const Seq base = g.isn(ports, Addrs6{&local, &remote}, t0);
  CHECK(base.raw() == IsnGenerator::timer_m(t0) + g.offset_f(ports, Addrs6{&local, &remote}));
  // Monotonic for one tuple (RFC 9293 §3.4.1): M advances, F is fixed.
  Seq prev = base;
  for (int i = 1; i <= 500; ++i) {
    const Seq s = g.isn(ports, Addrs6{&local, &remote}, t0 + Duration::us(53 * i));
    REQUIRE(s >= prev);
    REQUIRE(s.raw() - base.raw() == static_cast<uint32_t>(53'000 * i / 64));
    prev = s;
  }
  // Every address byte and port counts; the IPv4 F of the same ports differs.
  std::set<uint32_t> seen{base.raw()};
  for (int byte = 0; byte < 16; ++byte) {
    Ipv6Addr r = remote;
    r.b[static_cast<size_t>(byte)] ^= 0x80;
    seen.insert(g.isn(ports, Addrs6{&local, &r}, t0).raw());
    Ipv6Addr l = local;
    l.b[static_cast<size_t>(byte)] ^= 1;
    seen.insert(g.isn(ports, Addrs6{&l, &remote}, t0).raw());
  }
  seen.insert(g.isn(FourTuple{0, 0, 81, 40000}, Addrs6{&local, &remote}, t0).raw());
  seen.insert(g.isn(FourTuple{0, 0, 80, 40001}, Addrs6{&local, &remote}, t0).raw());
  CHECK(seen.size() == 35);
  for (uint16_t port = 1024; port < 1024 + 2048; ++port) {
    remote.b[15] = static_cast<uint8_t>(port);
    remote.b[14] = static_cast<uint8_t>(port >> 8);
    seen.insert(g.isn(ports, Addrs6{&local, &remote}, t0).raw());
  }
  CHECK(seen.size() >= 35 + 2046);
}
