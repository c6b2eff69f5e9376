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

std::optional<FlowPeek> peek_tcp_flow(std::span<const uint8_t> frame, bool accept_ipv6 = false);

}  // namespace synmill::wire
