#pragma once
// The keyed PRF behind the ISN generator (RFC 6528 §3, F) and the SYN-cookie
// MAC (RFC 4987 §3.6): AES-128 where the CPU has AES-NI, SipHash-2-4 where it
// has not, chosen once when the owner is built (StackConfig::prf), never per
// packet through an indirect call.
//
// Deviation from Linux, on purpose: Linux uses SipHash for both
// (net/core/secure_seq.c secure_tcp_seq(), net/ipv4/syncookies.c
// cookie_hash()). SipHash-2-4 over 16-24 bytes costs ~190 instructions per
// SYN here, most of the budget of a cookie SYN-ACK; AES-128 with AES-NI costs
// ~20 per block. AES-128 is a standard PRP, hence a PRF up to the birthday
// bound (2^64 blocks per key), which is all RFC 6528 ("a cryptographic hash
// function ... or a PRF") and RFC 4987 (a MAC the attacker cannot compute)
// ask of F. SipHash stays the fallback, with its outputs unchanged.
//
// Definitions (both take the 128-bit SipKey as their key, as its 16
// little-endian bytes for AES):
//   SipHash:  prf(m) = SipHash-2-4(key, m)
//   AES:      prf(m) = low 64 bits (little-endian) of CBC-MAC_key(L || m || 0*)
//             L = the block le64(|m| in bytes) || le64("synmPRF1"), m zero-padded
//             to whole blocks.
// CBC-MAC is a PRF on a prefix-free message set (Bellare, Kilian, Rogaway,
// "The Security of the Cipher Block Chaining Message Authentication Code",
// 2000; Petrank, Rackoff 2000); prepending the length makes the set
// prefix-free, so messages of different lengths under one key (the ISN's
// 16-byte IPv4 and 36-byte IPv6 tuples) are safe. E(L) depends only on the
// length, so it is computed once per length the hot paths use (16 and 24
// bytes) and a one-block message costs one AES.
#include <cstddef>
#include <cstdint>

#include "tcp/aes128.hpp"
#include "tcp/config.hpp"
#include "tcp/siphash.hpp"

namespace synmill::tcp {

class KeyedPrf {
 public:
  // kAuto (and kAes): AES-128 when aes_ni_available(), else SipHash.
  KeyedPrf(const SipKey& key, PrfKind kind);
  KeyedPrf() : KeyedPrf(SipKey{}, PrfKind::kSipHash) {}

  PrfKind kind() const { return aes_ ? PrfKind::kAes : PrfKind::kSipHash; }

  // prf over the 16 bytes le(a) || le(b).
  uint64_t words(uint64_t a, uint64_t b) const {
    if (aes_) [[likely]] return aes128_mac1(aes_key_, len16_, a, b);
    return sip_words(a, b);
  }
  // prf over the 24 bytes le(a) || le(b) || le(c).
  uint64_t words(uint64_t a, uint64_t b, uint64_t c) const {
    if (aes_) [[likely]] return aes128_mac2(aes_key_, len24_, a, b, c, 0);
    return sip_words(a, b, c);
  }
  // prf over any byte string (the IPv6 tuples).
  uint64_t bytes(const void* data, size_t len) const;

  // The length block L for a message of `len` bytes (for tests of the mode).
  static Aes128Block length_block(size_t len);

 private:
  // The fallback out of line, so that callers stay small enough to inline.
  [[gnu::noinline]] uint64_t sip_words(uint64_t a, uint64_t b) const;
  [[gnu::noinline]] uint64_t sip_words(uint64_t a, uint64_t b, uint64_t c) const;

  bool aes_ = false;
  SipKey sip_;
  Aes128Key aes_key_;  // expanded only when aes_
  Aes128Block len16_;  // E(L) for |m| = 16 and 24
  Aes128Block len24_;
};

}  // namespace synmill::tcp
