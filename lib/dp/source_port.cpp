#include "dp/source_port.hpp"

#include "dp/rss.hpp"

namespace synmill::dp {

bool lands_on(const PortInfo& port, const tcp::FourTuple& t, uint16_t worker, uint16_t workers) {
  if (workers <= 1 || port.reta.empty()) return true;
  return queue_for(port.hasher().hash_inbound(t), port.reta) == worker;
}

namespace {

// Walks local ports from *cursor for one that lands and is free (shared by
// both families).
template <class Lands, class Free>
std::optional<uint16_t> walk_ports(uint16_t first, uint16_t last, uint16_t* cursor, const Lands& lands,
                                   const Free& free) {
  const uint32_t span = uint32_t{last} - first + 1;
  uint32_t p = (*cursor < first || *cursor > last) ? first : *cursor;
  for (uint32_t n = 0; n < span; ++n) {
    const auto port = static_cast<uint16_t>(p);
    p = p == last ? first : p + 1;
    if (!lands(port) || !free(port)) continue;
    *cursor = static_cast<uint16_t>(p);
    return port;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint16_t> pick_source_port(const PortInfo& port, const tcp::Stack& stack, tcp::FourTuple t,
                                         uint16_t worker, uint16_t workers, uint16_t first, uint16_t last,
                                         uint16_t* cursor) {
  return walk_ports(
      first, last, cursor,
      [&](uint16_t p) {
        t.local_port = p;
        return lands_on(port, t, worker, workers);
      },
      [&](uint16_t p) {
        t.local_port = p;
        return stack.state_of(t) == tcp::State::kClosed;  // not in use nor in TIME_WAIT (RFC 9293 §3.10.1)
      });
}

bool lands_on6(const PortInfo& port, const wire::Ipv6Addr& local, const wire::Ipv6Addr& remote, uint16_t local_port,
               uint16_t remote_port, uint16_t worker, uint16_t workers) {
  if (workers <= 1 || port.reta.empty()) return true;
  return queue_for(port.hasher().hash6(remote.b, local.b, remote_port, local_port), port.reta) == worker;
}

std::optional<uint16_t> pick_source_port6(const PortInfo& port, const tcp::Stack& stack, uint32_t local_tag,
                                          const wire::Ipv6Addr& remote, uint16_t remote_port, uint16_t worker,
                                          uint16_t workers, uint16_t first, uint16_t last, uint16_t* cursor) {
  const wire::Ipv6Addr* local = stack.local6_addr(local_tag);
  if (local == nullptr) return std::nullopt;
  return walk_ports(
      first, last, cursor,
      [&](uint16_t p) { return lands_on6(port, *local, remote, p, remote_port, worker, workers); },
      [&](uint16_t p) {
        return stack.state_of(stack.tuple6(local_tag, p, remote, remote_port)) == tcp::State::kClosed;
      });
}

}  // namespace synmill::dp
