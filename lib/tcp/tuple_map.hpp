#pragma once
// Fixed-capacity open-addressing hash map FourTuple -> uint32_t, the per-core
// lookup in front of the connection table and the TIME_WAIT table.
//
// Layout: one flat array of 16-byte slots {key, value} (four per cache line),
// table size = next power of two >= 2 * capacity, so the load factor never
// exceeds 0.5 and a miss probes ~2.5 slots on average. Linear probing; erase
// shifts the rest of the cluster back (no tombstones, so lookups never degrade
// over time). A slot holds value + 1, so 0 marks an empty slot and values
// must be < UINT32_MAX; the slot array lives on ZeroPages, so an empty table
// is all zero bytes and costs memory only where slots were written. The key
// is stored inline: a compare is one 8-byte and one
// 4-byte load, no indirection.
//
// Hash: keyed, with a 64-bit per-boot secret seed. The seed is expanded into
// four 64-bit constants; the 12 key bytes are folded into two words, each
// XORed with a secret, multiplied together as a full 64x64->128 product and
// folded (hi ^ lo), then one more keyed fold (the "mum" step of wyhash). Why
// this is acceptable rather than SipHash: an attacker who does not know the
// seed cannot compute which tuples share a bucket, so collisions cannot be
// built offline; the function is not a PRF and a patient adaptive attacker
// measuring timing could in principle learn something, but the damage is
// bounded: the table is per core and of fixed capacity, load <= 0.5, and
// tuples only enter it after a handshake (or a bounded SYN backlog), so an
// attacker needs real round trips per insertion. It costs two multiplies
// (~3 ns) where SipHash-2-4 on 12 bytes costs ~15-20 ns on every packet.
#include <cstdint>
#include <cstring>

#include "tcp/types.hpp"
#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

// The keyed tuple hash of the note above, shared with the TIME_WAIT table.
class TupleHash {
 public:
  explicit TupleHash(uint64_t seed);
  uint64_t operator()(const FourTuple& key) const {
    const uint64_t ips = (uint64_t{key.remote_ip} << 32) | key.local_ip;
    const uint64_t ports = (uint64_t{key.remote_port} << 16) | key.local_port;
    return fold(fold(ips ^ k0_, ports ^ k1_) ^ k2_, k3_);
  }

 private:
  static uint64_t fold(uint64_t a, uint64_t b) {
    __extension__ using U128 = unsigned __int128;
    const U128 p = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  }
  uint64_t k0_, k1_, k2_, k3_;
};

class TupleMap {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  // capacity <= 2^30. seed: per-boot random secret (see the hash note above).
  TupleMap(uint32_t capacity, uint64_t seed);

  // Value stored for the tuple, or kNotFound.
  uint32_t find(const FourTuple& key) const {
    uint32_t i = home(key);
    for (;;) {  // terminates: at least half of the slots are empty
      const Slot& s = slots_[i];
      if (s.value1 == kEmpty) return kNotFound;
      if (same(s.key, key)) return s.value1 - 1;
      i = (i + 1) & mask_;
    }
  }

  // false if full (size() == capacity()) or the key already exists.
  // value must be != kNotFound.
  bool insert(const FourTuple& key, uint32_t value);
  // false if the key is absent.
  bool erase(const FourTuple& key);

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t table_size() const { return mask_ + 1; }

  // Keyed hash of a tuple (exposed for tests and for callers that want to
  // spread tuples with the same secret).
  uint64_t hash(const FourTuple& key) const { return hash_(key); }

 private:
  static constexpr uint32_t kEmpty = 0;
  struct Slot {
    FourTuple key;
    uint32_t value1;  // value + 1; kEmpty (0) when the slot is free
  };
  static_assert(sizeof(Slot) == 16);

  static bool same(const FourTuple& a, const FourTuple& b) {
    uint64_t a8, b8;
    uint32_t a4, b4;
    std::memcpy(&a8, &a, 8);
    std::memcpy(&b8, &b, 8);
    std::memcpy(&a4, reinterpret_cast<const char*>(&a) + 8, 4);
    std::memcpy(&b4, reinterpret_cast<const char*>(&b) + 8, 4);
    return ((a8 ^ b8) | (a4 ^ b4)) == 0;
  }
  uint32_t home(const FourTuple& key) const { return static_cast<uint32_t>(hash(key)) & mask_; }

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t mask_;
  TupleHash hash_;
  ZeroArray<Slot> slots_;
};

}  // namespace synmill::tcp
