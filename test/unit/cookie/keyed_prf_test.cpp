// AES-128 with AES-NI (FIPS-197 known answers) and the keyed PRF built on it
// (keyed_prf.hpp): the mode as documented, the SipHash fallback unchanged,
// and the choice made by PrfKind.
#include "tcp/keyed_prf.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>

using namespace synmill::tcp;

namespace {

std::array<uint8_t, 16> hex16(const char* s) {
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) {
    auto nib = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    out[i] = static_cast<uint8_t>(nib(s[2 * i]) << 4 | nib(s[2 * i + 1]));
  }
  return out;
}

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

SipKey sip_key_of(const std::array<uint8_t, 16>& k) { return SipKey{le64(k.data()), le64(k.data() + 8)}; }

// Skips (with a note) where the CPU has no AES-NI: then KeyedPrf never uses AES.
#define REQUIRE_AES_NI()                                              \
  do {                                                                \
    if (!aes_ni_available()) {                                        \
      WARN("this CPU has no AES-NI: the AES-128 checks are skipped"); \
      return;                                                         \
    }                                                                 \
  } while (0)

}  // namespace

TEST_CASE("AES-128 known answers: FIPS-197 Appendix B and C.1", "[cookie][aes]") {
  REQUIRE_AES_NI();
  struct Kat {
    const char *key, *pt, *ct;
  };
  const Kat kats[] = {
      // Appendix B (cipher example)
      {"2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734", "3925841d02dc09fbdc118597196a0b32"},
      // Appendix C.1 (AES-128)
      {"000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"},
  };
  for (const Kat& k : kats) {
    Aes128Key key;
    aes128_expand(hex16(k.key).data(), key);
    std::array<uint8_t, 16> out{};
    aes128_encrypt(key, hex16(k.pt).data(), out.data());
    CHECK(out == hex16(k.ct));
    // The block form agrees with the byte form.
    const auto pt = hex16(k.pt);
    const Aes128Block b = aes128_encrypt(key, Aes128Block{le64(pt.data()), le64(pt.data() + 8)});
    CHECK(b == Aes128Block{le64(out.data()), le64(out.data() + 8)});
  }
}

TEST_CASE("AES-128 key expansion: FIPS-197 Appendix A.1 round keys", "[cookie][aes]") {
  REQUIRE_AES_NI();
  Aes128Key key;
  aes128_expand(hex16("2b7e151628aed2a6abf7158809cf4f3c").data(), key);
  CHECK(key.rk[0] == hex16("2b7e151628aed2a6abf7158809cf4f3c"));
  CHECK(key.rk[1] == hex16("a0fafe1788542cb123a339392a6c7605"));
  CHECK(key.rk[5] == hex16("d4d1c6f87c839d87caf2b8bc11f915bc"));
  CHECK(key.rk[10] == hex16("d014f9a8c9ee2589e13f0cc8b6630ca6"));
}

TEST_CASE("AES PRF is the length-prefixed CBC-MAC its header defines", "[cookie][aes]") {
  REQUIRE_AES_NI();
  const auto kb = hex16("000102030405060708090a0b0c0d0e0f");
  const KeyedPrf prf(sip_key_of(kb), PrfKind::kAuto);
  REQUIRE(prf.kind() == PrfKind::kAes);
  Aes128Key key;
  aes128_expand(kb.data(), key);
  auto xr = [](Aes128Block a, Aes128Block b) { return Aes128Block{a.lo ^ b.lo, a.hi ^ b.hi}; };

  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    const uint64_t a = rng(), b = rng(), c = rng();
    // 16 bytes: E(E(L16) ^ m)
    const Aes128Block l16 = aes128_encrypt(key, KeyedPrf::length_block(16));
    CHECK(prf.words(a, b) == aes128_encrypt(key, xr(l16, {a, b})).lo);
    // 24 bytes: E(E(E(L24) ^ m1) ^ (m2 || 0^8))
    const Aes128Block l24 = aes128_encrypt(key, KeyedPrf::length_block(24));
    const Aes128Block x1 = aes128_encrypt(key, xr(l24, {a, b}));
    CHECK(prf.words(a, b, c) == aes128_encrypt(key, xr(x1, {c, 0})).lo);
    // bytes() over the same bytes gives the same, and zero-pads a tail.
    uint8_t m[48];
    for (uint8_t& x : m) x = static_cast<uint8_t>(rng());
    std::memcpy(m, &a, 8);
    std::memcpy(m + 8, &b, 8);
    std::memcpy(m + 16, &c, 8);
    CHECK(prf.bytes(m, 16) == prf.words(a, b));
    CHECK(prf.bytes(m, 24) == prf.words(a, b, c));
    const Aes128Block l36 = aes128_encrypt(key, KeyedPrf::length_block(36));
    Aes128Block x = aes128_encrypt(key, xr(l36, {le64(m), le64(m + 8)}));
    x = aes128_encrypt(key, xr(x, {le64(m + 16), le64(m + 24)}));
    uint8_t tail[16] = {};
    std::memcpy(tail, m + 32, 4);
    x = aes128_encrypt(key, xr(x, {le64(tail), le64(tail + 8)}));
    CHECK(prf.bytes(m, 36) == x.lo);
  }
}

TEST_CASE("AES PRF: the length is bound (no zero-padding or prefix collisions)", "[cookie][aes]") {
  REQUIRE_AES_NI();
  const KeyedPrf prf(SipKey{11, 12}, PrfKind::kAes);
  const uint8_t m[48] = {1, 2, 3};
  std::set<uint64_t> seen;
  for (size_t len = 0; len <= 48; ++len) seen.insert(prf.bytes(m, len));
  CHECK(seen.size() == 49);
}

TEST_CASE("SipHash fallback: KeyedPrf(kSipHash) is SipHash-2-4 unchanged", "[cookie][aes]") {
  const SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  const KeyedPrf prf(key, PrfKind::kSipHash);
  CHECK(prf.kind() == PrfKind::kSipHash);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    const uint64_t a = rng(), b = rng(), c = rng();
    CHECK(prf.words(a, b) == siphash24_words(key, a, b));
    CHECK(prf.words(a, b, c) == siphash24_words(key, a, b, c));
    uint8_t m[36];
    for (uint8_t& x : m) x = static_cast<uint8_t>(rng());
    CHECK(prf.bytes(m, sizeof m) == siphash24(key, m, sizeof m));
  }
}

TEST_CASE("PrfKind: kAuto takes AES-128 exactly when the CPU has AES-NI", "[cookie][aes]") {
  const SipKey key{1, 2};
  const PrfKind expect = aes_ni_available() ? PrfKind::kAes : PrfKind::kSipHash;
  CHECK(KeyedPrf(key, PrfKind::kAuto).kind() == expect);
  CHECK(KeyedPrf(key, PrfKind::kAes).kind() == expect);
  CHECK(KeyedPrf(key, PrfKind::kSipHash).kind() == PrfKind::kSipHash);
  if (expect == PrfKind::kAes) {  // the two really differ
    CHECK(KeyedPrf(key, PrfKind::kAuto).words(3, 4) != KeyedPrf(key, PrfKind::kSipHash).words(3, 4));
  }
}

TEST_CASE("AES PRF depends on the key and on every input bit", "[cookie][aes]") {
  REQUIRE_AES_NI();
  const SipKey key{0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
  const KeyedPrf prf(key, PrfKind::kAes);
  const uint64_t base = prf.words(5, 6, 7);
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t f = uint64_t{1} << bit;
    CHECK(prf.words(5 ^ f, 6, 7) != base);
    CHECK(prf.words(5, 6 ^ f, 7) != base);
    CHECK(prf.words(5, 6, 7 ^ f) != base);
  }
  CHECK(KeyedPrf(SipKey{key.k0 ^ 1, key.k1}, PrfKind::kAes).words(5, 6, 7) != base);
  CHECK(KeyedPrf(SipKey{key.k0, key.k1 ^ (uint64_t{1} << 63)}, PrfKind::kAes).words(5, 6, 7) != base);
}
