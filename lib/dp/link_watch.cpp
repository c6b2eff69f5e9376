// See link_watch.hpp.
#include "dp/link_watch.hpp"

#include <fmt/format.h>

#include "dp/rte.hpp"
#include "dp/unmap_guard.hpp"

namespace synmill::dp {

LinkWatch::LinkWatch(uint16_t port_id, std::string who) : port_id_(port_id), who_(std::move(who)) {}

std::optional<std::string> LinkWatch::poll() {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id_, &link) != 0) return std::nullopt;
  const bool up = link.link_status == RTE_ETH_LINK_UP && !held_;
  const bool was = up_.load(std::memory_order_relaxed);
  if (known_ && up == was) return std::nullopt;
  const bool first = !known_;
  known_ = true;
  up_.store(up, std::memory_order_relaxed);
  if (first && up) return std::nullopt;  // up from the start: nothing to say
  ++(up ? ups_ : downs_);
  return fmt::format("{}: port {} link {} (downs {}, ups {}; unmaps that waited for a worker {})", who_, port_id_,
                     up ? "up: polling again" : "down: not polling", downs_, ups_, UnmapGuard::waits());
}

}  // namespace synmill::dp

void synmill::dp::LinkWatch::hold_down(bool on) {
  held_ = on;
  if (on) up_.store(false, std::memory_order_relaxed);
}
