#pragma once
// Initial sequence numbers per RFC 6528 §3 (updating RFC 9293 §3.4.1):
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a timer that ticks every 64 ns (now / 64 ns, mod 2^32); F is the keyed
// PRF of keyed_prf.hpp (AES-128 with AES-NI, else SipHash-2-4; Linux:
// SipHash, net/core/secure_seq.c) keyed with a secret the caller draws at
// start-up from a good random source (RFC 6528 §3 and RFC 4086; lib/tcp has
// no randomness source of its own).
//
// M's tick: a deliberate deviation. RFC 6528 §3 and RFC 9293 §3.4.1 name a
// 4 µs clock (250,000 a second), which, as RFC 793 said, assumes 2 Mbit/s
// links: a connection that sends faster than that and is ended by an RST (no
// TIME_WAIT on either side) can be reopened on the same tuple at once with
// ISNs inside its predecessor's sequence space, and an old duplicate still
// in the network is then in-window data of the new connection. The
// simulation found exactly that (seed 104 of the IPv6 sim: 3.5 KB sent in
// 1.3 ms, the tuple reopened after an abort with ISNs 344 higher, an old
// retransmission delivered as the new connection's first 1,082 bytes).
// Linux ticks every 64 ns (net/core/secure_seq.c, seq_scale: "For 10 Gb/s
// Ethernet, a 1 GHz clock should be ok, but we also need to limit the
// resolution so that the u32 seq overlaps less than one time per MSL
// (2 minutes). Choosing a clock of 64 ns period is OK. (period of 274 s)"),
// and so does this: 15.6 million a second, a 2^32 wrap every 274.9 s, more
// than 2 MSL.
//
// Consequences: successive incarnations of one 4-tuple get increasing ISNs
// (the RFC 9293 §3.4.1 clock-driven property that protects old duplicates),
// while an off-path attacker who sees the ISNs of other tuples learns nothing
// about this one. The key must NOT be changed while the endpoint runs: that
// would break the per-tuple monotonicity (RFC 6528 §3 allows re-keying only
// with care). SYN-cookie connections use the cookie as ISN instead (see
// syn_cookie.hpp), as every cookie scheme does.
#include "tcp/keyed_prf.hpp"
#include "tcp/types.hpp"

namespace synmill::tcp {

class IsnGenerator {
 public:
  explicit IsnGenerator(SipKey key, PrfKind prf = PrfKind::kAuto) : f_(key, prf) {}
  PrfKind prf() const { return f_.kind(); }

  // Pure function of (key, tuple, now): no state, no clock read.
  Seq isn(const FourTuple& t, Instant now) const;
  // IPv6 (issue 15): F over the full 36-byte tuple (both addresses and the
  // ports), as RFC 6528 §3 asks; t gives the ports.
  Seq isn(const FourTuple& t, const Addrs6& a, Instant now) const;

  // The two halves, for tests and diagnostics.
  static constexpr int kTickShift = 6;          // M ticks every 2^6 = 64 ns
  static uint32_t timer_m(Instant now);         // M: 64 ns ticks, truncated to 32 bits
  uint32_t offset_f(const FourTuple& t) const;  // F: keyed hash of the 4-tuple
  uint32_t offset_f(const FourTuple& t, const Addrs6& a) const;

 private:
  KeyedPrf f_;
};

}  // namespace synmill::tcp
