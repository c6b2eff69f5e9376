#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012),
// the keyed PRF behind the ISN generator (RFC 6528 §3) and the SYN-cookie MAC.
//
// siphash24() hashes any byte string. The siphash24_words() overloads are the
// hot-path entry points: they hash exactly 16 or 24 bytes given as 64-bit words
// and are defined as siphash24() over the little-endian bytes of those words,
// i.e. siphash24_words(k, a, b, c) == siphash24(k, le(a) || le(b) || le(c), 24)
// on every host. They are inline and fully unrolled: no loop, no memory access.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace synmill::tcp {

struct SipKey {
  uint64_t k0 = 0;  // little-endian bytes 0..7 of the 128-bit key
  uint64_t k1 = 0;  // little-endian bytes 8..15
  friend constexpr bool operator==(const SipKey&, const SipKey&) = default;
};

// The key as the reference implementation reads it from 16 bytes.
SipKey sip_key_from_bytes(std::span<const uint8_t, 16> bytes);

uint64_t siphash24(const SipKey& key, const void* data, size_t len);

namespace detail {

class SipState {
 public:
  constexpr explicit SipState(const SipKey& k)
      : v0_(k.k0 ^ 0x736f6d6570736575ULL),
        v1_(k.k1 ^ 0x646f72616e646f6dULL),
        v2_(k.k0 ^ 0x6c7967656e657261ULL),
        v3_(k.k1 ^ 0x7465646279746573ULL) {}

  // One message block: c = 2 SipRounds.
  constexpr void compress(uint64_t m) {
    v3_ ^= m;
    round();
    round();
    v0_ ^= m;
  }
  // d = 4 finalization SipRounds.
  constexpr uint64_t finish() {
    v2_ ^= 0xff;
    round();
    round();
    round();
    round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  constexpr void round() {
    v0_ += v1_;
    v1_ = std::rotl(v1_, 13);
    v1_ ^= v0_;
    v0_ = std::rotl(v0_, 32);
    v2_ += v3_;
    v3_ = std::rotl(v3_, 16);
    v3_ ^= v2_;
    v0_ += v3_;
    v3_ = std::rotl(v3_, 21);
    v3_ ^= v0_;
    v2_ += v1_;
    v1_ = std::rotl(v1_, 17);
    v1_ ^= v2_;
    v2_ = std::rotl(v2_, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

}  // namespace detail

// Exactly 16 bytes: le(a) || le(b).
constexpr uint64_t siphash24_words(const SipKey& key, uint64_t a, uint64_t b) {
  detail::SipState s(key);
  s.compress(a);
  s.compress(b);
  s.compress(uint64_t{16} << 56);  // last block: no tail bytes, length 16 in the top byte
  return s.finish();
}

// Exactly 24 bytes: le(a) || le(b) || le(c).
constexpr uint64_t siphash24_words(const SipKey& key, uint64_t a, uint64_t b, uint64_t c) {
  detail::SipState s(key);
  s.compress(a);
  s.compress(b);
  s.compress(c);
  s.compress(uint64_t{24} << 56);
  return s.finish();
}

}  // namespace synmill::tcp
