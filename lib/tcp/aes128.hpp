#pragma once
// AES-128 (FIPS-197) with the x86 AES-NI instructions: the block cipher behind
// KeyedPrf (keyed_prf.hpp). Only the key expansion and encryption; no mode
// beyond the fixed CBC-MAC helpers KeyedPrf needs.
//
// Every function except aes_ni_available() may be called only when it
// returned true (the CPU has AES-NI; x86-64's baseline does not). They are
// compiled for that instruction set function by function
// (__attribute__((target("aes")))), so the rest of the program keeps the
// baseline ISA and KeyedPrf picks this or SipHash once, at construction.
#include <array>
#include <cstddef>
#include <cstdint>

namespace synmill::tcp {

// The 11 round keys of AES-128 (FIPS-197 §5.2), each as its 16 bytes.
struct alignas(16) Aes128Key {
  std::array<std::array<uint8_t, 16>, 11> rk;
};

// One 16-byte block as two little-endian words: bytes le(lo) || le(hi).
struct alignas(16) Aes128Block {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend constexpr bool operator==(const Aes128Block&, const Aes128Block&) = default;
};

// True when this CPU executes AES-NI (and this build is for x86-64).
bool aes_ni_available();

void aes128_expand(const uint8_t key[16], Aes128Key& out);
void aes128_encrypt(const Aes128Key& k, const uint8_t in[16], uint8_t out[16]);
Aes128Block aes128_encrypt(const Aes128Key& k, const Aes128Block& in);

// CBC-MAC with chaining value `iv`, over one block (a, b) or two blocks
// (a, b), (c, d): the low 64 bits of the last cipher block.
//   mac1 = lo(E(iv ^ (a, b)))       mac2 = lo(E(E(iv ^ (a, b)) ^ (c, d)))
uint64_t aes128_mac1(const Aes128Key& k, const Aes128Block& iv, uint64_t a, uint64_t b);
uint64_t aes128_mac2(const Aes128Key& k, const Aes128Block& iv, uint64_t a, uint64_t b, uint64_t c,
                     uint64_t d);
// The same over the `len` bytes at `data`, zero-padded to whole blocks
// (len 0: lo(iv)).
uint64_t aes128_mac(const Aes128Key& k, const Aes128Block& iv, const uint8_t* data, size_t len);

}  // namespace synmill::tcp
