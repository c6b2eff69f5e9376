// SYN cookies: round trips of every encoded parameter, rejection of every
// tampered bit, secret rotation, and the forging odds.
#include "tcp/syn_cookie.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

using namespace synmill::tcp;
using synmill::wire::TcpOptions;

namespace {

constexpr SipKey kMaster{0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL};
constexpr Duration kLife = Duration::s(64);
constexpr Instant kStart(5'000'000'000);
constexpr FourTuple kTuple{0xc6120001, 0xc6130002, 80, 40000};  // 198.18.0.1:80 <- 198.19.0.2:40000
constexpr Seq kPeerIsn(0x89abcdef);
constexpr uint16_t kOurMss = 8960;
constexpr uint32_t kTsNow = 0x00abcdef;

struct SynSpec {
  int mss = -1;     // -1: no MSS option
  int wscale = -1;  // -1: no window scale option
  bool sack = false;
  bool ts = false;
};

TcpOptions syn_options(const SynSpec& s) {
  TcpOptions o;
  if (s.mss >= 0) {
    o.has_mss = true;
    o.mss = static_cast<uint16_t>(s.mss);
  }
  if (s.wscale >= 0) {
    o.has_wscale = true;
    o.wscale = static_cast<uint8_t>(s.wscale);
  }
  o.sack_permitted = s.sack;
  if (s.ts) {
    o.has_timestamps = true;
    o.ts_val = 777;
  }
  return o;
}

// The options of the peer's handshake-completing ACK (RFC 7323 §3.2: TSecr
// echoes our SYN-ACK's TSval; no timestamps if none were negotiated).
TcpOptions ack_options(const SynCookies::Encoded& e) {
  TcpOptions o;
  if (e.params.ts_ok) {
    o.has_timestamps = true;
    o.ts_val = 778;
    o.ts_ecr = e.ts_val;
  }
  return o;
}

// Every test runs with both PRFs: AES-128 (where the CPU has AES-NI; else
// it resolves to SipHash too) and the SipHash-2-4 fallback, forced.
#define EACH_PRF GENERATE(PrfKind::kAes, PrfKind::kSipHash)

struct Fixture {
  explicit Fixture(PrfKind prf) : cookies(kMaster, kLife, kStart, prf) {}
  SynCookies cookies;
  Instant now = kStart + Duration::s(10);

  SynCookies::Encoded encode(const SynSpec& s, const FourTuple& t = kTuple, Seq isn = kPeerIsn,
                             uint16_t our_mss = kOurMss) const {
    return cookies.encode(t, isn, syn_options(s), our_mss, kTsNow, now);
  }
  std::optional<CookieParams> check(const SynCookies::Encoded& e, const FourTuple& t = kTuple,
                                    Seq isn = kPeerIsn) const {
    return cookies.check(t, isn, e.isn, ack_options(e), now);
  }
  std::optional<CookieParams> check_cookie(Seq cookie, const TcpOptions& ack,
                                           const FourTuple& t = kTuple, Seq isn = kPeerIsn) const {
    return cookies.check(t, isn, cookie, ack, now);
  }
};

// Option combinations used by the tamper tests.
const std::vector<SynSpec> kSpecs = {
    {},
    {1460, -1, false, false},
    {1460, 7, true, false},
    {1460, 7, true, true},
    {536, 0, false, true},
    {8960, 14, true, true},
    {1400, -1, true, true},
    {64, 3, false, true},
};

FourTuple random_tuple(std::mt19937_64& rng) {
  const uint64_t r = rng();
  return FourTuple{static_cast<uint32_t>(r), static_cast<uint32_t>(r >> 32),
                   static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
}

}  // namespace

TEST_CASE("cookie restores each MSS table entry", "[cookie]") {
  Fixture f(EACH_PRF);
  for (uint16_t mss : SynCookies::kMssTable) {
    for (bool ts : {false, true}) {
      INFO("mss " << mss << " ts " << ts);
      const auto e = f.encode({mss, -1, false, ts});
      CHECK(e.params.mss == mss);
      const auto p = f.check(e);
      REQUIRE(p);
      CHECK(*p == e.params);
    }
  }
}

TEST_CASE("cookie MSS never above the peer's or ours", "[cookie]") {
  Fixture f(EACH_PRF);
  for (int peer : {1,    2,    63,   64,   65,   100,  535,  536,  537,  1000, 1219,
                   1220, 1221, 1459, 1460, 1461, 1500, 8959, 8960, 8961, 9000, 65535}) {
    for (uint16_t ours :
         {uint16_t{536}, uint16_t{1400}, uint16_t{1460}, uint16_t{8960}, uint16_t{65535}}) {
      INFO("peer " << peer << " ours " << ours);
      const auto e = f.encode({peer, -1, false, false}, kTuple, kPeerIsn, ours);
      const auto p = f.check(e);
      REQUIRE(p);
      CHECK(p->mss == e.params.mss);
      CHECK(p->mss <= ours);
      if (peer >= 64) {
        CHECK(p->mss <= peer);
        // ...and it is the largest table entry that fits.
        for (uint16_t m : SynCookies::kMssTable) {
          if (m <= peer && m <= ours) CHECK(m <= p->mss);
        }
      } else {
        CHECK(p->mss == 64);  // deliberate clamp up (tiny-MSS defence, see header)
      }
    }
  }
}

TEST_CASE("cookie without MSS option assumes 536", "[cookie]") {
  Fixture f(EACH_PRF);
  const auto e = f.encode({-1, -1, false, false});
  CHECK(e.params.mss == 536);  // RFC 9293 §3.7.1
  const auto p = f.check(e);
  REQUIRE(p);
  CHECK(p->mss == 536);
}

TEST_CASE("cookie restores window scale 0..14 and clamps larger ones", "[cookie]") {
  Fixture f(EACH_PRF);
  for (int ws = 0; ws <= 255; ++ws) {
    INFO("wscale " << ws);
    const auto e = f.encode({1460, ws, false, true});
    CHECK(e.params.has_wscale);
    CHECK(e.params.wscale == (ws > 14 ? 14 : ws));  // RFC 7323 §2.3
    const auto p = f.check(e);
    REQUIRE(p);
    CHECK(*p == e.params);
    CHECK(p->has_wscale);
    CHECK(p->wscale == e.params.wscale);
    CHECK(p->ts_ok);
  }
  // No window scale option: none restored.
  const auto e = f.encode({1460, -1, true, true});
  const auto p = f.check(e);
  REQUIRE(p);
  CHECK_FALSE(p->has_wscale);
  CHECK(p->sack_ok);
}

TEST_CASE("cookie restores SACK-permitted with timestamps", "[cookie]") {
  Fixture f(EACH_PRF);
  for (bool sack : {false, true}) {
    for (int ws : {-1, 0, 9}) {
      const auto e = f.encode({1460, ws, sack, true});
      const auto p = f.check(e);
      REQUIRE(p);
      CHECK(p->sack_ok == sack);
      CHECK(p->has_wscale == (ws >= 0));
      CHECK(p->ts_ok);
    }
  }
}

TEST_CASE("cookie without timestamps drops window scale and SACK", "[cookie]") {
  Fixture f(EACH_PRF);
  const auto e = f.encode({1460, 7, true, false});
  // encode tells the caller not to offer them in the SYN-ACK.
  CHECK_FALSE(e.params.has_wscale);
  CHECK_FALSE(e.params.sack_ok);
  CHECK_FALSE(e.params.ts_ok);
  const auto p = f.check(e);
  REQUIRE(p);
  CHECK(*p == CookieParams{1460, false, 0, false, false});
}

TEST_CASE("cookie +-1..4 is rejected", "[cookie]") {
  Fixture f(EACH_PRF);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    const FourTuple t = random_tuple(rng);
    const Seq isn(static_cast<uint32_t>(rng()));
    for (const auto& spec : kSpecs) {
      const auto e = f.encode(spec, t, isn);
      REQUIRE(f.check(e, t, isn));
      for (uint32_t d = 1; d <= 4; ++d) {
        REQUIRE_FALSE(f.check_cookie(e.isn + d, ack_options(e), t, isn));
        REQUIRE_FALSE(f.check_cookie(e.isn - d, ack_options(e), t, isn));
      }
    }
  }
}

TEST_CASE("every single-bit flip of the cookie is rejected", "[cookie]") {
  Fixture f(EACH_PRF);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 200; ++i) {
    const FourTuple t = random_tuple(rng);
    const Seq isn(static_cast<uint32_t>(rng()));
    for (const auto& spec : kSpecs) {
      const auto e = f.encode(spec, t, isn);
      for (int bit = 0; bit < 32; ++bit) {
        INFO("bit " << bit);
        REQUIRE_FALSE(f.check_cookie(Seq(e.isn.raw() ^ (1u << bit)), ack_options(e), t, isn));
      }
    }
  }
}

TEST_CASE("cookie for another 4-tuple or peer ISN is rejected", "[cookie]") {
  Fixture f(EACH_PRF);
  for (const auto& spec : kSpecs) {
    const auto e = f.encode(spec);
    REQUIRE(f.check(e));
    FourTuple t = kTuple;
    t.local_ip += 1;
    CHECK_FALSE(f.check(e, t));
    t = kTuple;
    t.remote_ip ^= 0x80000000;
    CHECK_FALSE(f.check(e, t));
    t = kTuple;
    t.local_port = 443;
    CHECK_FALSE(f.check(e, t));
    t = kTuple;
    t.remote_port += 1;
    CHECK_FALSE(f.check(e, t));
    // The reverse direction.
    t = FourTuple{kTuple.remote_ip, kTuple.local_ip, kTuple.remote_port, kTuple.local_port};
    CHECK_FALSE(f.check(e, t));

    for (uint32_t d : {1u, 2u, 0x100u, 0x80000000u}) {
      CHECK_FALSE(f.check(e, kTuple, kPeerIsn + d));
      CHECK_FALSE(f.check(e, kTuple, kPeerIsn - d));
    }
  }
}

TEST_CASE("tampered TSecr bits are rejected", "[cookie]") {
  Fixture f(EACH_PRF);
  for (const auto& spec : kSpecs) {
    const auto e = f.encode(spec);
    if (e.params.ts_ok) {
      const TcpOptions honest = ack_options(e);
      // Every other value of the 5 encoded bits (window scale, SACK).
      for (uint32_t v = 0; v < SynCookies::kTsSpan; ++v) {
        if (v == (e.ts_val & SynCookies::kTsMask)) continue;
        TcpOptions ack = honest;
        ack.ts_ecr = (e.ts_val & ~SynCookies::kTsMask) | v;
        INFO("field " << v);
        CHECK_FALSE(f.check_cookie(e.isn, ack));
      }
      // The upper TSecr bits carry only our clock: they change nothing.
      TcpOptions ack = honest;
      ack.ts_ecr += SynCookies::kTsSpan;
      CHECK(f.check_cookie(e.isn, ack) == f.check(e));
      // Dropping the timestamp option from the ACK.
      ack = honest;
      ack.has_timestamps = false;
      CHECK_FALSE(f.check_cookie(e.isn, ack));
    } else {
      // Adding a timestamp option the SYN did not have, whatever its bits.
      for (uint32_t v = 0; v < SynCookies::kTsSpan; ++v) {
        TcpOptions ack;
        ack.has_timestamps = true;
        ack.ts_ecr = kTsNow - v;
        CHECK_FALSE(f.check_cookie(e.isn, ack));
      }
    }
  }
}

TEST_CASE("cookie from another master key is rejected", "[cookie]") {
  Fixture f(EACH_PRF);
  const SynCookies other(SipKey{kMaster.k0 ^ 1, kMaster.k1}, kLife, kStart, f.cookies.prf());
  const auto e =
      other.encode(kTuple, kPeerIsn, syn_options({1460, 7, true, true}), kOurMss, kTsNow, f.now);
  CHECK(other.check(kTuple, kPeerIsn, e.isn, ack_options(e), f.now));
  CHECK_FALSE(f.check(e));
}

TEST_CASE("cookie valid after one rotation, rejected after two", "[cookie]") {
  const PrfKind prf = EACH_PRF;
  std::mt19937_64 rng(3);
  for (bool call_advance : {true, false}) {
    for (int i = 0; i < 50; ++i) {
      SynCookies c(kMaster, kLife, kStart, prf);
      // Issue at a random point of a random epoch.
      const Instant issued =
          kStart + Duration::ns(static_cast<int64_t>(rng() % uint64_t(kLife.count_ns() * 20)));
      if (call_advance) c.advance(issued);
      const auto e =
          c.encode(kTuple, kPeerIsn, syn_options({1460, 5, true, true}), kOurMss, kTsNow, issued);
      const uint64_t ep = c.epoch_of(issued);
      const Instant epoch_begin = kStart + kLife * static_cast<int64_t>(ep);
      auto check_at = [&](Instant t) {
        if (call_advance) c.advance(t);
        return c.check(kTuple, kPeerIsn, e.isn, ack_options(e), t).has_value();
      };
      INFO("epoch " << ep << " advance " << call_advance);
      CHECK(check_at(issued));
      CHECK(check_at(issued + kLife));                             // >= one lifetime
      CHECK(check_at(epoch_begin + kLife * 2 - Duration::ns(1)));  // last instant of e+1
      CHECK_FALSE(check_at(epoch_begin + kLife * 2));              // two rotations: expired
      CHECK_FALSE(check_at(issued + kLife * 2));                   // < two lifetimes
      CHECK_FALSE(check_at(epoch_begin + kLife * 3));
      CHECK_FALSE(check_at(epoch_begin + kLife * 4));  // epoch e+4 aliases mod 4: MAC rejects
      CHECK_FALSE(check_at(epoch_begin + kLife * 5));  // previous epoch e+4 aliases too
    }
  }
}

TEST_CASE("cookie from a future epoch is rejected", "[cookie]") {
  const PrfKind prf = EACH_PRF;
  SynCookies c(kMaster, kLife, kStart, prf);
  const Instant now = kStart + Duration::s(100);  // epoch 1
  c.advance(now);
  for (int ahead = 1; ahead <= 4; ++ahead) {
    const auto e = c.encode(kTuple, kPeerIsn, syn_options({1460, 5, true, true}), kOurMss, kTsNow,
                            now + kLife * ahead);
    INFO("epochs ahead " << ahead);
    CHECK_FALSE(c.check(kTuple, kPeerIsn, e.isn, ack_options(e), now));
  }
}

TEST_CASE("encode and check agree with or without advance()", "[cookie]") {
  const PrfKind prf = EACH_PRF;
  SynCookies advanced(kMaster, kLife, kStart, prf);
  const SynCookies lagging(kMaster, kLife, kStart, prf);  // never advanced
  const auto syn = syn_options({1460, 8, true, true});
  for (int64_t s : {0, 1, 63, 64, 65, 127, 128, 1000, 100000}) {
    const Instant now = kStart + Duration::s(s);
    advanced.advance(now);
    const auto a = advanced.encode(kTuple, kPeerIsn, syn, kOurMss, kTsNow, now);
    const auto b = lagging.encode(kTuple, kPeerIsn, syn, kOurMss, kTsNow, now);
    INFO("t = " << s << " s");
    CHECK(a.isn == b.isn);
    CHECK(a.ts_val == b.ts_val);
    CHECK(lagging.check(kTuple, kPeerIsn, a.isn, ack_options(a), now + kLife));
    CHECK(advanced.check(kTuple, kPeerIsn, b.isn, ack_options(b), now));
  }
  CHECK(advanced.epoch_of(kStart + Duration::s(100000)) == 100000 / 64);
  CHECK(advanced.epoch_of(kStart - Duration::s(1)) == 0);  // clock before start: epoch 0
  CHECK(SynCookies(kMaster, kStart).lifetime() == Duration::s(64));
}

TEST_CASE("random cookies are accepted at most at the MAC's 2^-27 rate", "[cookie]") {
  Fixture f(EACH_PRF);
  std::mt19937_64 rng(4);
  constexpr int kGuesses = 1'000'000;
  int accepted_random = 0;
  int accepted_fixed = 0;
  TcpOptions with_ts;
  with_ts.has_timestamps = true;
  const TcpOptions without_ts{};
  for (int i = 0; i < kGuesses; ++i) {
    const uint64_t r = rng();
    const Seq cookie(static_cast<uint32_t>(r));
    with_ts.ts_ecr = static_cast<uint32_t>(r >> 32);
    const TcpOptions& ack = (r >> 63) ? with_ts : without_ts;
    // Blind guesses for a fixed connection, and for random ones.
    if (f.check_cookie(cookie, ack)) ++accepted_fixed;
    if (f.check_cookie(cookie, ack, random_tuple(rng), Seq(static_cast<uint32_t>(rng())))) {
      ++accepted_random;
    }
  }
  // Expected about 1e6 * 2^-28 = 0.004 each; a handful would still be plausible.
  CHECK(accepted_fixed <= 3);
  CHECK(accepted_random <= 3);
}

TEST_CASE("TSval is never above ts_now and carries the bits", "[cookie]") {
  Fixture f(EACH_PRF);
  std::mt19937_64 rng(5);
  std::vector<uint32_t> clocks = {0, 1, 15, 31, 32, 33, 63, 64, 0xffffffe0u, 0xffffffffu, kTsNow};
  for (int i = 0; i < 2000; ++i) clocks.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t ts_now : clocks) {
    for (const auto& spec : kSpecs) {
      if (!spec.ts) continue;
      const auto e = f.cookies.encode(kTuple, kPeerIsn, syn_options(spec), kOurMss, ts_now, f.now);
      INFO("ts_now " << ts_now);
      // At most one bit-field span behind ts_now, in serial order (RFC 7323 §5, PAWS).
      const uint32_t behind = ts_now - e.ts_val;
      REQUIRE(behind < SynCookies::kTsSpan);
      if (ts_now >= SynCookies::kTsSpan) REQUIRE(e.ts_val <= ts_now);
      REQUIRE(f.check(e));
    }
  }
}

TEST_CASE("cookies use AES-128 where the CPU has AES-NI; the two PRFs do not mix", "[cookie][aes]") {
  const SynCookies aes(kMaster, kLife, kStart);
  const SynCookies sip(kMaster, kLife, kStart, PrfKind::kSipHash);
  CHECK(aes.prf() == (aes_ni_available() ? PrfKind::kAes : PrfKind::kSipHash));
  CHECK(sip.prf() == PrfKind::kSipHash);
  if (aes.prf() != PrfKind::kAes) return;
  const Instant now = kStart + Duration::s(10);
  int differ = 0;
  for (const auto& spec : kSpecs) {
    const auto e = aes.encode(kTuple, kPeerIsn, syn_options(spec), kOurMss, kTsNow, now);
    const auto e2 = sip.encode(kTuple, kPeerIsn, syn_options(spec), kOurMss, kTsNow, now);
    CHECK(e.params == e2.params);  // the same layout, only the MAC differs
    if (e.isn != e2.isn) ++differ;
    CHECK(aes.check(kTuple, kPeerIsn, e.isn, ack_options(e), now));
    CHECK_FALSE(sip.check(kTuple, kPeerIsn, e.isn, ack_options(e), now));
  }
  CHECK(differ == static_cast<int>(kSpecs.size()));
}

TEST_CASE("timestamps off: the SYN's and the ACK's timestamp options are ignored alike", "[cookie]") {
  const SynCookies off(kMaster, kLife, kStart, EACH_PRF, /*timestamps=*/false);
  const SynCookies on(kMaster, kLife, kStart, off.prf());
  const Instant now = kStart + Duration::s(10);
  const auto syn = syn_options({1460, 7, true, true});
  const auto e = off.encode(kTuple, kPeerIsn, syn, kOurMss, /*ts_now=*/0, now);
  CHECK_FALSE(e.params.ts_ok);  // no timestamps: window scale and SACK cannot be remembered
  CHECK_FALSE(e.params.has_wscale);
  CHECK_FALSE(e.params.sack_ok);
  CHECK(e.params.mss == 1460);
  // The same as a SYN without the option, seen by a stack with timestamps on.
  const auto plain = on.encode(kTuple, kPeerIsn, syn_options({1460, 7, true, false}), kOurMss, kTsNow, now);
  CHECK(e.isn == plain.isn);
  // The ACK may still carry timestamps (whatever TSecr): ignored, the cookie validates without them.
  TcpOptions ack;
  ack.has_timestamps = true;
  ack.ts_ecr = 0x1f;
  const auto p = off.check(kTuple, kPeerIsn, e.isn, ack, now);
  REQUIRE(p);
  CHECK(*p == e.params);
  CHECK(off.check(kTuple, kPeerIsn, e.isn, TcpOptions{}, now));
  // A stack with timestamps on reads that ACK as "timestamps present": the MAC differs.
  CHECK_FALSE(on.check(kTuple, kPeerIsn, e.isn, ack, now));
}
