#pragma once
// The 4-tuple of a received TCP frame, read without validating anything
// else: what a dispatcher needs to pick the core that owns the flow before
// that core parses (and verifies) the frame in full. Frames it cannot read a
// tuple from (not IPv4 TCP, too short, a non-first fragment) stay with the
// dispatching core, whose full parse drops and counts them.
//
// IPv6 (only when asked, as ParseFlags::accept_ipv6): the header and the
// extension header chain pass Ipv6View::parse() (bounds, fragments) and the
// upper layer is TCP with its ports in the payload; everything else stays
// with the dispatcher too.
#include <cstdint>
#include <optional>
#include <span>

#include "wire/bytes.hpp"
#include "wire/ipv6_addr.hpp"

namespace synmill::wire {

struct FlowPeek {
  uint32_t src_ip = 0;  // host order; 0 for IPv6
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t flags = 0;  // the TCP flags byte (0 if the frame ends before it)
  IpFamily family = IpFamily::kV4;
  Ipv6Addr src_ip6;  // family kV6 only
  Ipv6Addr dst_ip6;
};

// Inline: the dispatcher (and the overload policy) peeks at every frame of
// a burst; the caller's compiler keeps only the fields it reads.
inline std::optional<FlowPeek> peek_tcp_flow(std::span<const uint8_t> frame, bool accept_ipv6 = false);

// The 4-tuple alone, for the dispatcher's every frame.
struct FlowTuple4 {
  uint32_t src_ip;  // host order
  uint32_t dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
};

// peek_tcp_flow()'s common case, without building a FlowPeek (its IPv6
// addresses zeroed, an optional copied): IPv4 without options carrying TCP,
// not a later fragment, ports inside the frame. True with `t` filled, exactly
// the tuple peek_tcp_flow() reads; false for anything else, which
// peek_tcp_flow() then decides (IPv4 with options included).
inline bool peek_tcp4_tuple(std::span<const uint8_t> f, FlowTuple4& t);

namespace detail {
// IPv6 (flow_peek.cpp, out of line).
std::optional<FlowPeek> peek_tcp6_flow(std::span<const uint8_t> f);
}  // namespace detail

inline bool peek_tcp4_tuple(std::span<const uint8_t> f, FlowTuple4& t) {
  constexpr size_t kEth = 14;
  if (f.size() < kEth + 20 + 4) return false;
  const uint8_t* p = f.data();
  // EtherType 0x0800, version 4 / IHL 5, protocol TCP, fragment offset 0.
  if (load_be16(p + 12) != 0x0800u || p[kEth] != 0x45 || p[kEth + 9] != 6 ||
      (load_be16(p + kEth + 6) & 0x1FFFu) != 0) {
    return false;
  }
  t.src_ip = load_be32(p + kEth + 12);
  t.dst_ip = load_be32(p + kEth + 16);
  t.src_port = load_be16(p + kEth + 20);
  t.dst_port = load_be16(p + kEth + 22);
  return true;
}

inline std::optional<FlowPeek> peek_tcp_flow(std::span<const uint8_t> f, bool accept_ipv6) {
  constexpr size_t kEth = 14;
  if (f.size() < kEth + 20) return std::nullopt;
  if (f[12] != 0x08 || f[13] != 0x00) {
    if (accept_ipv6 && f[12] == 0x86 && f[13] == 0xDD) return detail::peek_tcp6_flow(f);
    return std::nullopt;
  }
  const uint8_t vihl = f[kEth];
  const size_t ihl = size_t{vihl & 0x0Fu} * 4;
  if ((vihl >> 4) != 4 || ihl < 20 || f[kEth + 9] != 6) return std::nullopt;
  if ((load_be16(f.data() + kEth + 6) & 0x1FFFu) != 0) return std::nullopt;  // not the first fragment
  if (f.size() < kEth + ihl + 4) return std::nullopt;
  FlowPeek p;
  p.src_ip = load_be32(f.data() + kEth + 12);
  p.dst_ip = load_be32(f.data() + kEth + 16);
  p.src_port = load_be16(f.data() + kEth + ihl);
  p.dst_port = load_be16(f.data() + kEth + ihl + 2);
  if (f.size() >= kEth + ihl + 14) p.flags = f[kEth + ihl + 13];
  return p;
}


}  // namespace synmill::wire
