#pragma once
// The keyed hash of a 4-tuple that indexes the per-core connection and
// TIME_WAIT lookup (time_wait_table.hpp: one index for both).
//
// Hash: keyed, with a 64-bit per-boot secret seed. The seed is expanded into
// four 64-bit constants; the 12 key bytes are folded into two words, each
// XORed with a secret, multiplied together as a full 64x64->128 product and
// folded (hi ^ lo), then one more keyed fold (the "mum" step of wyhash). Why
// this is acceptable rather than SipHash: an attacker who does not know the
// seed cannot compute which tuples share a bucket, so collisions cannot be
// built offline; the function is not a PRF and a patient adaptive attacker
// measuring timing could in principle learn something, but the damage is
// bounded: the table is per core and of fixed capacity, load <= 0.7, and
// tuples only enter it after a handshake (or a bounded SYN backlog), so an
// attacker needs real round trips per insertion. It costs two multiplies
// (~3 ns) where SipHash-2-4 on 12 bytes costs ~15-20 ns on every packet.
#include <cstdint>
#include <cstring>

#include "tcp/types.hpp"

namespace synmill::tcp {

// The keyed tuple hash of the note above.
class TupleHash {
 public:
  explicit TupleHash(uint64_t seed);
  // The tuple's two words as they lie in memory (on a little-endian host:
  // remote_ip << 32 | local_ip and remote_port << 16 | local_port): two
  // loads, which the receive path's own stores of the same words
  // (segment_codec.hpp store_tuple_words) hand over without a load.
  uint64_t operator()(const FourTuple& key) const {
    static_assert(sizeof(FourTuple) == 12);
    uint64_t ips;
    uint32_t ports;
    std::memcpy(&ips, &key, 8);
    std::memcpy(&ports, reinterpret_cast<const char*>(&key) + 8, 4);
    return words(ips, ports);
  }
  // The same keyed fold over any two words (addr_table6.hpp: an IPv6 address).
  uint64_t words(uint64_t a, uint64_t b) const { return fold(fold(a ^ k0_, b ^ k1_) ^ k2_, k3_); }

 private:
  static uint64_t fold(uint64_t a, uint64_t b) {
#if defined(__x86_64__)
    // One mul, its two halves in rax:rdx: GCC keeps an __int128 product in
    // registers only sometimes and otherwise stores and reloads its halves
    // (three more instructions a lookup in the receive path, i14-rx).
    uint64_t hi;
    asm("mulq %[b]" : "+a"(a), "=d"(hi) : [b] "rm"(b) : "cc");
    return a ^ hi;
#else
    __extension__ using U128 = unsigned __int128;
    const U128 p = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
#endif
  }
  uint64_t k0_, k1_, k2_, k3_;
};

// Two tuples equal: two loads a side, no branch.
inline bool same_tuple(const FourTuple& a, const FourTuple& b) {
  uint64_t a8, b8;
  uint32_t a4, b4;
  std::memcpy(&a8, &a, 8);
  std::memcpy(&b8, &b, 8);
  std::memcpy(&a4, reinterpret_cast<const char*>(&a) + 8, 4);
  std::memcpy(&b4, reinterpret_cast<const char*>(&b) + 8, 4);
  return ((a8 ^ b8) | (a4 ^ b4)) == 0;
}

}  // namespace synmill::tcp
