#pragma once
// Per-core table of the remote IPv6 addresses that connections and TIME_WAIT
// entries hold (issue 15). A connection's FourTuple stays 12 bytes: for an
// IPv6 connection remote_ip is this table's index of the peer's address and
// local_ip is an index into the stack's own (configured) IPv6 addresses,
// tagged so no IPv4 tuple can equal it (kLocal6Tag, below). So the idle
// connection record keeps its size (issue 12's budget) and the per-packet
// lookup keeps one probe of the connection index; an IPv6 segment pays one
// probe here first, and only IPv6 connections pay for an entry (shared by
// every connection to the same peer address).
//
// Entries are reference counted: acquire() finds or inserts an address and
// takes a reference, release() drops one and removes the entry at zero. The
// capacity is fixed at construction (the stack sizes it to connections plus
// TIME_WAIT entries, the most that can hold an address); acquire() returns
// kNone when it is full and nothing is changed. Peer addresses are chosen by
// the peer, so the index is a keyed hash (TupleHash's fold, secret seed) with
// linear probing at load <= 0.5 and backward-shift deletion (no tombstones
// that could pile up). Memory: 24 bytes per entry and 8 per bucket (two per
// entry), all on ZeroPages: backed only as far as used.
#include <array>
#include <cstdint>

#include "tcp/index_pool.hpp"
#include "tcp/tuple_hash.hpp"
#include "tcp/zero_pages.hpp"
#include "wire/ipv6_addr.hpp"

namespace synmill::tcp {

// An IPv6 address in network byte order.
using Ip6 = wire::Ipv6Addr;

// remote_ip of an IPv6 tuple whose peer address holds no entry: no
// connection or TIME_WAIT entry can match it (indexes are < 2^31).
inline constexpr uint32_t kNoRemote6 = UINT32_MAX;

// local_ip of an IPv6 FourTuple: kLocal6Tag | index of the local address.
// 240.0.0.0/4 is reserved (RFC 1112 §4, "Class E"), so it is never a local
// IPv4 address of ours (the configuration refuses it) and an IPv6 tuple never
// equals an IPv4 one.
inline constexpr uint32_t kLocal6Tag = 0xF0000000u;
inline constexpr bool is_ipv6(const FourTuple& t) { return (t.local_ip & 0xF0000000u) == kLocal6Tag; }

class AddrTable6 {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // 0 < capacity < 2^31.
  AddrTable6(uint32_t capacity, uint64_t seed);

  // Index of `a`, or kNone when it holds no reference.
  uint32_t find(const Ip6& a) const;
  // Index of `a` with one more reference (inserted if absent); kNone when the
  // table is full (nothing changed).
  uint32_t acquire(const Ip6& a);
  // One more reference to index `idx` (held already).
  void retain(uint32_t idx) { ++entries_[idx].refs; }
  // Drops one reference of index `idx` (held); the entry goes at zero.
  void release(uint32_t idx);

  const Ip6& addr(uint32_t idx) const { return entries_[idx].addr; }
  uint32_t refs(uint32_t idx) const { return entries_[idx].refs; }
  uint32_t size() const { return slots_.in_use(); }
  uint32_t capacity() const { return capacity_; }

 private:
  struct Entry {
    Ip6 addr;
    uint32_t refs;
    uint32_t hash;  // low 32 bits of the keyed hash: bucket home, and a cheap compare
  };
  // A bucket holds entry index + 1 (0: empty, the zero-page state) and the
  // entry's hash, so a probe compares hashes before touching the entry.
  struct Bucket {
    uint32_t entry_plus1;
    uint32_t hash;
  };
  uint32_t hash_of(const Ip6& a) const;
  uint32_t probe(const Ip6& a, uint32_t h, uint32_t* bucket) const;  // entry or kNone; *bucket: where it is or would go

  uint32_t capacity_;
  uint32_t mask_;  // buckets - 1 (a power of two >= 2 * capacity)
  TupleHash hasher_;
  IndexPool slots_;
  ZeroArray<Entry> entries_;
  ZeroArray<Bucket> buckets_;
};

}  // namespace synmill::tcp
