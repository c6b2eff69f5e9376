#pragma once
// What a flow-isolated port must steer to synmill (flow_steer.hpp), from its
// configuration: TCP to each --addr on each --listen port, and the replies to
// each --connect (its local ports on the first --addr of the peer's
// family). The IPv6 addresses named get their ICMPv6 rules when installed.
#include <cstdint>
#include <utility>
#include <vector>

#include "dp/app_values.hpp"
#include "dp/flow_steer.hpp"

namespace synmill::dp {

// Ports first..last (inclusive) as the fewest aligned blocks: (value, mask)
// pairs, value & ~mask == 0 within each block, in ascending order.
std::vector<std::pair<uint16_t, uint16_t>> port_blocks(uint16_t first, uint16_t last);

// --connect opens `count` connections from ports connect_first_port up
// (at most to 65535).
std::vector<SteerRule> steer_rules_for(const std::vector<Address>& addrs, const std::vector<ListenSpec>& listeners,
                                       const std::vector<ConnectSpec>& connects, uint16_t connect_first_port);

}  // namespace synmill::dp
