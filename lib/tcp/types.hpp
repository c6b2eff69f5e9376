#pragma once
// Strong types shared by the TCP core: sequence numbers with wrap-around order
// (RFC 9293 §3.4, RFC 1982 serial arithmetic), time supplied by the caller, the
// 4-tuple, and header flags. No clocks are read anywhere in lib/tcp.
#include <compare>
#include <cstdint>

#include "wire/ipv6_addr.hpp"
#include "wire/tcp_flags.hpp"

namespace synmill::tcp {

// ---- sequence numbers -------------------------------------------------------
class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(uint32_t v) : v_(v) {}
  constexpr uint32_t raw() const { return v_; }

  constexpr Seq operator+(uint32_t n) const { return Seq(v_ + n); }
  constexpr Seq operator-(uint32_t n) const { return Seq(v_ - n); }
  constexpr Seq& operator+=(uint32_t n) { v_ += n; return *this; }
  // Signed distance a - b, valid when |a - b| < 2^31.
  friend constexpr int32_t operator-(Seq a, Seq b) { return static_cast<int32_t>(a.v_ - b.v_); }
  friend constexpr bool operator==(Seq a, Seq b) = default;
  friend constexpr bool operator<(Seq a, Seq b) { return (a - b) < 0; }
  friend constexpr bool operator>(Seq a, Seq b) { return (a - b) > 0; }
  friend constexpr bool operator<=(Seq a, Seq b) { return (a - b) <= 0; }
  friend constexpr bool operator>=(Seq a, Seq b) { return (a - b) >= 0; }

 private:
  uint32_t v_ = 0;
};

// a <= x < b in sequence space
constexpr bool seq_in(Seq x, Seq a, Seq b) { return a <= x && x < b; }
constexpr Seq seq_max(Seq a, Seq b) { return a < b ? b : a; }
constexpr Seq seq_min(Seq a, Seq b) { return a < b ? a : b; }

// ---- time -------------------------------------------------------------------
// Durations and instants in nanoseconds. The caller (poll loop, simulation,
// tests) decides what "now" is.
class Duration {
 public:
  constexpr Duration() = default;
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  static constexpr Duration ns(int64_t v) { return Duration(v); }
  static constexpr Duration us(int64_t v) { return Duration(v * 1000); }
  static constexpr Duration ms(int64_t v) { return Duration(v * 1000000); }
  static constexpr Duration s(int64_t v) { return Duration(v * 1000000000); }
  constexpr int64_t count_ns() const { return ns_; }
  constexpr int64_t count_us() const { return ns_ / 1000; }
  constexpr int64_t count_ms() const { return ns_ / 1000000; }
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  friend constexpr auto operator<=>(Duration, Duration) = default;

 private:
  int64_t ns_ = 0;
};

class Instant {
 public:
  constexpr Instant() = default;
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  constexpr int64_t ns() const { return ns_; }
  constexpr Instant operator+(Duration d) const { return Instant(ns_ + d.count_ns()); }
  constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.count_ns()); }
  friend constexpr Duration operator-(Instant a, Instant b) { return Duration(a.ns_ - b.ns_); }
  friend constexpr auto operator<=>(Instant, Instant) = default;

 private:
  int64_t ns_ = 0;
};

// ---- addressing -------------------------------------------------------------
// Addresses and ports in host byte order. "local" is this endpoint.
struct FourTuple {
  uint32_t local_ip = 0;
  uint32_t remote_ip = 0;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};
static_assert(sizeof(FourTuple) == 12);

// The addresses of an IPv6 tuple (issue 15): a FourTuple holds table indexes
// for them (addr_table6.hpp); what must cover the real addresses (ISN, SYN
// cookie MAC, the frame) gets them beside it. Null: an IPv4 tuple.
struct Addrs6 {
  const wire::Ipv6Addr* local = nullptr;
  const wire::Ipv6Addr* remote = nullptr;
};

// ---- header flags (RFC 9293 §3.1): lib/wire's --------------------------------
namespace flag = wire::tcp_flag;

}  // namespace synmill::tcp
