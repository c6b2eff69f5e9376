#pragma once
// Initial sequence numbers per RFC 6528 §3 (updating RFC 9293 §3.4.1):
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a timer that ticks every 4 µs (now / 4 µs, mod 2^32); F is the keyed
// PRF of keyed_prf.hpp (AES-128 with AES-NI, else SipHash-2-4; Linux:
// SipHash, net/core/secure_seq.c) keyed with a secret the caller draws at
// start-up from a good random source (RFC 6528 §3 and RFC 4086; lib/tcp has
// no randomness source of its own).
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
  static uint32_t timer_m(Instant now);         // M: 4 µs ticks, truncated to 32 bits
  uint32_t offset_f(const FourTuple& t) const;  // F: keyed hash of the 4-tuple
  uint32_t offset_f(const FourTuple& t, const Addrs6& a) const;

 private:
  KeyedPrf f_;
};

}  // namespace synmill::tcp
