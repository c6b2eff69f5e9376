#include "dp/source_port.hpp"

#include "dp/rss.hpp"

namespace synmill::dp {

bool lands_on(const PortInfo& port, const tcp::FourTuple& t, uint16_t worker, uint16_t workers) {
  if (workers <= 1 || port.reta.empty()) return true;
  return queue_for(port.hasher().hash_inbound(t), port.reta) == worker;
}

std::optional<uint16_t> pick_source_port(const PortInfo& port, const tcp::Stack& stack, tcp::FourTuple t,
                                         uint16_t worker, uint16_t workers, uint16_t first, uint16_t last,
                                         uint16_t* cursor) {
  const uint32_t span = uint32_t{last} - first + 1;
  uint32_t p = (*cursor < first || *cursor > last) ? first : *cursor;
  for (uint32_t n = 0; n < span; ++n) {
    t.local_port = static_cast<uint16_t>(p);
    p = p == last ? first : p + 1;
    if (!lands_on(port, t, worker, workers)) continue;
    if (stack.state_of(t) != tcp::State::kClosed) continue;  // in use or TIME_WAIT (RFC 9293 §3.10.1)
    *cursor = static_cast<uint16_t>(p);
    return t.local_port;
  }
  return std::nullopt;
}

}  // namespace synmill::dp
