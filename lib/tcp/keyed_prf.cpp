#include "tcp/keyed_prf.hpp"

namespace synmill::tcp {

namespace {

constexpr uint64_t kPrfTag = 0x314652506d6e7973ULL;  // "synmPRF1" as le64

}  // namespace

Aes128Block KeyedPrf::length_block(size_t len) { return Aes128Block{static_cast<uint64_t>(len), kPrfTag}; }

KeyedPrf::KeyedPrf(const SipKey& key, PrfKind kind)
    : aes_(kind != PrfKind::kSipHash && aes_ni_available()), sip_(key), aes_key_{}, len16_{}, len24_{} {
  if (!aes_) return;
  uint8_t k[16];
  for (int i = 0; i < 8; ++i) {
    k[i] = static_cast<uint8_t>(key.k0 >> (8 * i));
    k[8 + i] = static_cast<uint8_t>(key.k1 >> (8 * i));
  }
  aes128_expand(k, aes_key_);
  len16_ = aes128_encrypt(aes_key_, length_block(16));
  len24_ = aes128_encrypt(aes_key_, length_block(24));
}

uint64_t KeyedPrf::sip_words(uint64_t a, uint64_t b) const { return siphash24_words(sip_, a, b); }

uint64_t KeyedPrf::sip_words(uint64_t a, uint64_t b, uint64_t c) const {
  return siphash24_words(sip_, a, b, c);
}

uint64_t KeyedPrf::bytes(const void* data, size_t len) const {
  if (!aes_) return siphash24(sip_, data, len);
  const Aes128Block iv = len == 16 ? len16_ : len == 24 ? len24_ : aes128_encrypt(aes_key_, length_block(len));
  return aes128_mac(aes_key_, iv, static_cast<const uint8_t*>(data), len);
}

}  // namespace synmill::tcp
