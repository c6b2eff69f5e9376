#pragma once
// Compact TIME_WAIT table (RFC 9293 §3.10.7.4 / Linux tcp_minisocks.c): what a
// closed connection still needs to answer segments during 2*MSL, in 26 bytes
// of ring plus a 4-byte index slot, about 31.8 bytes per capacity slot.
//
// Layout (bytes per capacity slot in brackets):
//   ring   [26]    the entries themselves, in insertion order. Every entry
//                  lives exactly time_wait after its insertion or its last
//                  restart, so insertion order is expiry order: the ring is
//                  the expiry FIFO, with no links. A restart (a retransmitted
//                  FIN, RFC 9293 §3.10.7.4) copies the entry to the tail and
//                  leaves a dead slot behind; erase (RFC 6191 reuse by a new
//                  SYN, an RST under the RFC 1337 policy "close") leaves one
//                  too. Dead slots at either end are dropped at once, those
//                  inside when the head reaches them, or by a compaction
//                  once the ring is full and at least 1/16 of it is dead.
//   index  [5.75]  capacity * 1.4375 four-byte slots, linear probing from a
//                  keyed hash of the tuple (TupleHash, as the connection
//                  table): each holds the entry's ring slot (24 bits), its
//                  distance from home (3 bits, saturating at 7) and a 4-bit
//                  fingerprint of its hash, so a probe dereferences the ring
//                  only on a match of both. Deletion shifts the
//                  rest of the cluster back (no tombstones), and an insert
//                  that finds no free slot within kMaxProbe of its home is
//                  refused (counted as full by the caller), so every key lies
//                  within kMaxProbe slots of its home and a lookup never
//                  reads more than kMaxProbe index slots (256: 1 KiB, 16
//                  cache lines), however many closes came before. At load
//                  <= 0.7 with a keyed hash a lookup reads 2.1 slots on
//                  average (a miss about 6); the longest probe seen filling
//                  tables of 64K to 4M entries to capacity was 143 slots.
//   local addresses [<= 0.125]  an entry names its local IPv4 address by an
//                  8-bit index into a table of addresses with reference
//                  counts (a worker has few): capacity / 64 of them, at
//                  least 16 and at most kMaxLocalIps. This takes the entry
//                  from 28 to 26 bytes; an entry for one more distinct local
//                  address at once is refused (full).
// Expiry stamps are 23-bit counts of milliseconds from `start`, rounded up:
// an entry never expires early and at most 1 ms late. time_wait must stay
// below 2^22 ms (69 min; the option allows 60).
//
// Memory is reserved on zero pages (zero_pages.hpp): an empty ring slot and an
// empty index slot are zero bytes, so only the slots used are backed, and the
// ring starts over at slot 0 whenever it empties.
//
// A Ref names a live entry's ring slot. It stays valid until the next insert,
// restart, erase or expire.
//
// One probe for both tables (issue 12): the index also holds the stack's
// connections, an entry naming connection slot i whose tuple the table reads
// from the stack's own array (attach_conns: ConnHot::tuple, by stride). A
// segment's tuple is looked up once (find_flow) and the first slot read tells
// a connection, a TIME_WAIT entry, or neither; the index is sized for both
// populations at load <= 0.7, 5.75 bytes per connection slot (the
// connection TupleMap it replaced took 32).
#include <cassert>
#include <cstdint>
#include <cstring>

#include "tcp/tuple_hash.hpp"
#include "tcp/types.hpp"
#include "tcp/zero_pages.hpp"

namespace synmill::tcp {

// An entry as the stack reads and writes it (the ring keeps it packed).
struct TimeWaitEntry {
  static constexpr uint8_t kFlagTimestamps = 0x01;

  FourTuple tuple;
  uint32_t snd_nxt = 0;
  uint32_t rcv_nxt = 0;
  uint32_t ts_recent = 0;  // TSval last received (0 if no timestamps)
  uint16_t rcv_wnd = 0;    // window field to advertise in ACKs (already scaled)
  uint8_t flags = 0;       // kFlagTimestamps: timestamps in use
  uint8_t reserved = 0;
};

class TimeWaitTable {
 public:
  using Ref = uint32_t;
  static constexpr Ref kNone = UINT32_MAX;
  // What find_flow() found: a connection slot or a TIME_WAIT entry.
  struct Flow {
    uint32_t pos = kNone;  // connection slot, or Ref
    bool conn = false;
    bool found() const { return pos != kNone; }
  };
  static constexpr uint32_t kMaxProbe = 256;      // index slots a lookup reads, at most
  static constexpr uint32_t kMaxLocalIps = 255;  // distinct local addresses at once (large tables)
  static constexpr uint32_t kMaxCapacity = uint32_t{1} << 24;

  // capacity <= kMaxCapacity; seed keys the tuple hash (see tuple_hash.hpp).
  // conn_capacity connection slots share the index (conn_capacity <=
  // kMaxCapacity): slot i's tuple is read at conn_tuples + i * conn_stride
  // bytes (a power of two) whenever the table needs it, so it must stay put
  // while indexed.
  TimeWaitTable(uint32_t capacity, Duration time_wait, uint64_t seed, Instant start, uint32_t conn_capacity = 0,
                const FourTuple* conn_tuples = nullptr, size_t conn_stride = 0);

  // ---- connections (the stack's table of connections) ----------------------
  // False if the probe bound leaves no index slot, or the tuple is indexed
  // as a connection already.
  bool insert_conn(const FourTuple& t, uint32_t slot) { return insert_conn(t, slot, hash(t)); }
  // The same with hash(t) known: not computed again.
  bool insert_conn(const FourTuple& t, uint32_t slot, uint64_t h);
  uint64_t hash(const FourTuple& t) const { return hash_(t); }
  // The connection slot, whose tuple must still be `t`, leaves the index.
  void erase_conn(const FourTuple& t, uint32_t slot);
  // The connection slot indexed for `t`, or kNone.
  uint32_t find_conn(const FourTuple& t) const;
  // The first entry for `t`, connection or TIME_WAIT: one probe for both.
  // (Both kinds exist for one tuple only inside the stack's entry point that
  // moved the connection to TIME_WAIT; then the connection comes first or
  // second, and find() gives the TIME_WAIT entry.)
  Flow find_flow(const FourTuple& t) const { return find_flow(t, hash_(t)); }
  // The same with h = hash(t) known.
  Flow find_flow(const FourTuple& t, uint64_t h) const {
    const uint32_t i = home(h);
    const uint32_t v = index_[i];
    if (v == 0) return Flow{};  // the common miss: one slot read
    // The common hit: a connection in its home slot (distance 0).
    if ((v & 0xff) == (fingerprint(h) | kConnBit) && same_tuple(conn_tuple(v >> 8), t)) return Flow{v >> 8, true};
    return find_flow_rest(t, h, i);
  }

  // Prefetching across a burst of segments (issue 12: the caller runs two
  // passes over the burst before handling it). prefetch_home: the index slot
  // a lookup of `t` reads first; returns its position. prefetch_entry: what
  // that slot names (a connection's first 128 bytes, from its tuple on: the
  // 144-byte records start on 16-byte boundaries, so up to three cache
  // lines; a TIME_WAIT ring slot), if anything. Neither changes anything; a
  // wrong guess costs only the prefetch.
  uint32_t prefetch_home(const FourTuple& t) const {
    const uint32_t i = home(hash_(t));
    __builtin_prefetch(&index_[i]);
    return i;
  }
  void prefetch_entry(uint32_t i) const {
    const uint32_t v = index_[i];
    if (v == 0) return;
    if (v & kConnBit) {
      const char* p = reinterpret_cast<const char*>(&conn_tuple(v >> 8));
      __builtin_prefetch(p);
      __builtin_prefetch(p + 64);
      __builtin_prefetch(p + conn_stride_ - 1);
    } else {
      __builtin_prefetch(&ring_[v >> 8]);
    }
  }

  // ---- TIME_WAIT entries ---------------------------------------------------

  // The entry's Ref, or kNone when the table is full (capacity entries, no
  // index slot within kMaxProbe, 256 local addresses) or the tuple exists.
  // Expires at now + time_wait.
  Ref insert(const TimeWaitEntry& e, Instant now);
  Ref find(const FourTuple& t) const { return find_kind(t, 0); }
  TimeWaitEntry get(Ref r) const;
  void erase(Ref r);
  // Expire at now + time_wait (moving the entry to the tail). False, and the
  // expiry unchanged, when the ring has no slot to move it to (full, less
  // than 1/16 of it dead).
  bool restart(Ref r, Instant now);
  // Removes every entry due by now (expiry <= now), oldest first, calling
  // on_expire(const TimeWaitEntry&) before each removal. The callback must not
  // modify the table.
  template <class F>
  void expire(Instant now, F&& on_expire);

  // Visits up to `limit` live entries, oldest first: f(entry, expiry). For
  // diagnostics: it reads the ring slots between head and tail and nothing
  // else, so a reader racing the owner sees stale rows at worst.
  template <class F>
  void for_each(uint32_t limit, F&& f) const;

  // When the entry expires.
  Instant expiry(Ref r) const { return at_ms(decode(ring_[r].stamp())); }

  uint32_t size() const { return live_; }
  uint32_t capacity() const { return capacity_; }
  Duration time_wait() const { return time_wait_; }
  // Index slots a lookup of `t` reads (1..kMaxProbe), whether or not it is
  // there (a TIME_WAIT entry or a connection).
  uint32_t probe_length(const FourTuple& t) const;
  uint32_t index_slots() const { return nidx_; }
  // Ring slots from head to tail (live and dead).
  uint32_t ring_used() const { return used_; }
  // Bytes reserved in all (ring, index, local addresses).
  size_t bytes() const;
  // The connections' share of the index (1.4375 four-byte slots each), which
  // bytes() leaves out.
  size_t conn_index_bytes() const {
    return (size_t{conn_capacity_} + conn_capacity_ / 2 - conn_capacity_ / 16) * sizeof(uint32_t);
  }

 private:
  // 26 bytes, 2-aligned; meta: bits 0-7 local address index + 1 (0: free or
  // dead slot), bit 8 timestamps, bits 9-31 the expiry stamp.
#pragma pack(push, 2)
  struct Slot {
    uint32_t remote_ip;
    uint16_t local_port;
    uint16_t remote_port;
    uint32_t snd_nxt;
    uint32_t rcv_nxt;
    uint32_t ts_recent;
    uint16_t rcv_wnd;
    uint32_t meta;
    uint32_t lip1() const { return meta & 0xff; }
    bool live() const { return lip1() != 0; }
    uint32_t stamp() const { return meta >> 9; }
  };
#pragma pack(pop)
  static_assert(sizeof(Slot) == 26);
  static constexpr uint32_t kStampBits = 23;
  static constexpr int64_t kStampMod = int64_t{1} << kStampBits;

  uint32_t home(uint64_t h) const { return static_cast<uint32_t>((uint64_t{static_cast<uint32_t>(h)} * nidx_) >> 32); }
  // An index slot: ring or connection slot << 8 | kConnBit (a connection) |
  // the entry's distance from its home slot, 0 to 6, or 7 for 7 or more
  // (bits 4-6) | a 4-bit fingerprint of the tuple's hash (never 0, so 0 is an
  // empty slot). The distance (issue 12) lets a deletion's backward shift
  // find the home of the entries after the hole without their tuples: those
  // are in the records of other connections, cold in a large table (two LL
  // misses per close holding 1M connections); only an entry 7 or more slots
  // from home has its tuple read. A lookup compares the distance too, so a
  // probe takes for its own only an entry with its home and fingerprint.
  static constexpr uint32_t kConnBit = 0x80;
  static constexpr uint32_t kTagMask = 0x7f;  // distance and fingerprint
  static constexpr uint32_t kDistShift = 4;
  static constexpr uint32_t kDistMax = 7;  // the distance field saturates here
  static constexpr uint32_t kDistMask = kDistMax << kDistShift;
  static uint32_t fingerprint(uint64_t h) {
    const auto f = static_cast<uint32_t>(h >> 60);
    return f != 0 ? f : 1;
  }
  // The tag of an entry with fingerprint fp found (or put) n slots from its home.
  static uint32_t tag(uint32_t fp, uint32_t n) { return fp | ((n < kDistMax ? n : kDistMax) << kDistShift); }
  // The tag wanted one slot further on: its distance one more, saturating at kDistMax.
  static uint32_t step(uint32_t want) { return (want & kDistMask) != kDistMask ? want + (uint32_t{1} << kDistShift) : want; }
  const FourTuple& conn_tuple(uint32_t slot) const {
    return *reinterpret_cast<const FourTuple*>(reinterpret_cast<const char*>(conn_tuples_) +
                                               size_t{slot} * conn_stride_);
  }
  FourTuple key_of(uint32_t v) const { return (v & kConnBit) ? conn_tuple(v >> 8) : tuple_of(ring_[v >> 8]); }
  uint32_t find_kind(const FourTuple& t, uint32_t kind) const;  // the slot of that kind, or kNone
  Flow find_flow_rest(const FourTuple& t, uint64_t h, uint32_t i) const;  // from index slot i on
  uint32_t index_of(uint32_t v_wanted, const FourTuple& t) const;  // the index slot holding v (its position and kind)
  uint32_t next(uint32_t i) const { return i + 1 == nidx_ ? 0 : i + 1; }
  uint32_t dist(uint32_t from, uint32_t to) const { return to >= from ? to - from : to + nidx_ - from; }
  uint32_t ring_at(uint32_t k) const {  // k-th slot from the head
    const uint32_t p = head_ + k;
    return p >= capacity_ ? p - capacity_ : p;
  }
  bool matches(const Slot& s, const FourTuple& t) const {
    return s.remote_ip == t.remote_ip && s.local_port == t.local_port && s.remote_port == t.remote_port &&
           lips_[s.lip1() - 1] == t.local_ip;
  }
  FourTuple tuple_of(const Slot& s) const {
    return FourTuple{lips_[s.lip1() - 1], s.remote_ip, s.local_port, s.remote_port};
  }
  TimeWaitEntry unpack(const Slot& s) const;
  int64_t now_ms(Instant now) const;        // floor, from start
  int64_t expiry_ms(Instant now) const;     // ceil(now + time_wait), never before the tail's
  int64_t decode(uint32_t stamp) const {    // the stamp's full value: within 2^22 ms below last_ms_
    return last_ms_ - ((last_ms_ - stamp) & (kStampMod - 1));
  }
  Instant at_ms(int64_t ms) const { return start_ + Duration::ms(ms); }
  uint32_t index_of(uint32_t pos) const { return index_of(pos << 8, tuple_of(ring_[pos])); }  // ring slot pos's
  void index_erase(uint32_t i);
  uint32_t lip_acquire(uint32_t ip);        // index + 1, or 0 when the table is full
  void drop_dead_ends();
  void kill(uint32_t pos);                  // unindex, release the address, mark dead
  uint32_t compact(uint32_t track);         // returns track's new ring slot
  void pop_head();                          // the head slot (already dead or just killed)
  void make_room_for(int64_t exp);          // drops heads overdue beyond the stamp's range

  uint32_t capacity_;
  uint32_t conn_capacity_;
  uint32_t nidx_;
  const FourTuple* conn_tuples_;
  size_t conn_stride_;  // sizeof(ConnHot): 120, not a power of two
  Duration time_wait_;
  Instant start_;
  TupleHash hash_;
  ZeroArray<Slot> ring_;
  ZeroArray<uint32_t> index_;  // ring or connection slot << 8 | kind, distance, fingerprint; 0 = empty
  uint32_t head_ = 0;          // oldest slot
  uint32_t used_ = 0;          // slots from head to tail, live and dead
  uint32_t live_ = 0;
  uint32_t dead_ = 0;
  int64_t last_ms_ = 0;        // the tail's expiry, the latest of all
  uint32_t lip_cap_;           // local addresses at once: capacity / 64, 16 to 255
  uint32_t nlips_ = 0;         // local address slots ever used
  ZeroArray<uint32_t> lips_;
  ZeroArray<uint32_t> lip_refs_;
};

template <class F>
void TimeWaitTable::expire(Instant now, F&& on_expire) {
  const int64_t t = now_ms(now);
  while (used_ > 0) {
    const Slot& s = ring_[head_];
    if (s.live()) {
      if (decode(s.stamp()) > t) break;
      on_expire(static_cast<const TimeWaitEntry&>(unpack(s)));
      kill(head_);
    }
    pop_head();
  }
}

template <class F>
void TimeWaitTable::for_each(uint32_t limit, F&& f) const {
  uint32_t n = 0;
  const uint32_t used = used_;
  for (uint32_t k = 0; k < used && k < capacity_ && n < limit; ++k) {
    const Slot& s = ring_[ring_at(k)];
    if (!s.live()) continue;
    f(static_cast<const TimeWaitEntry&>(unpack(s)), at_ms(decode(s.stamp())));
    ++n;
  }
}

}  // namespace synmill::tcp
