#pragma once
// The 4-tuple of a received IPv4 TCP frame, read without validating anything
// else: what a dispatcher needs to pick the core that owns the flow before
// that core parses (and verifies) the frame in full. Frames it cannot read a
// tuple from (not IPv4 TCP, too short, a non-first fragment) stay with the
// dispatching core, whose full parse drops and counts them.
#include <cstdint>
#include <optional>
#include <span>

namespace synmill::wire {

struct FlowPeek {
  uint32_t src_ip = 0;  // host order
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t flags = 0;  // the TCP flags byte (0 if the frame ends before it)
};

std::optional<FlowPeek> peek_tcp_flow(std::span<const uint8_t> frame);

}  // namespace synmill::wire
