#pragma once
// Local ports for active opens whose replies land on the opening worker: the
// port's RSS hash (its key and redirection table) or, without RSS, the
// software-dispatch hash over the same table (mTCP rss.c does the same).
// synmill --connect and the application API's Context::connect use it.
#include <cstdint>
#include <optional>

#include "dp/port_info.hpp"
#include "tcp/stack.hpp"

namespace synmill::dp {

// Whether replies on `t` (as this side sees it) reach worker `worker` of `workers`.
bool lands_on(const PortInfo& port, const tcp::FourTuple& t, uint16_t worker, uint16_t workers);

// Walks local ports from `*cursor` (wrapping inside [first, last]) and returns
// the first one that lands on `worker` and whose tuple the stack neither uses
// nor keeps in TIME_WAIT; `*cursor` moves past it. nullopt after one full turn.
std::optional<uint16_t> pick_source_port(const PortInfo& port, const tcp::Stack& stack, tcp::FourTuple t,
                                         uint16_t worker, uint16_t workers, uint16_t first, uint16_t last,
                                         uint16_t* cursor);

// IPv6 (is_ipv6(t): t.local_ip from Stack::add_local6()): the same, the
// hash over the real addresses; `remote` is the peer's address.
bool lands_on6(const PortInfo& port, const wire::Ipv6Addr& local, const wire::Ipv6Addr& remote, uint16_t local_port,
               uint16_t remote_port, uint16_t worker, uint16_t workers);
std::optional<uint16_t> pick_source_port6(const PortInfo& port, const tcp::Stack& stack, uint32_t local_tag,
                                          const wire::Ipv6Addr& remote, uint16_t remote_port, uint16_t worker,
                                          uint16_t workers, uint16_t first, uint16_t last, uint16_t* cursor);

}  // namespace synmill::dp
