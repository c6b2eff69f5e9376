#pragma once
// The port's link state as the workers see it. The control thread calls
// poll() every tick (rte_eth_link_get_nowait: no waiting, every PMD answers
// it); the workers read up() once per loop pass (Worker skips RX and TX while
// it is false). A change returns a line for the log. Works the same for
// every PMD profile: physical NICs, memif (down while no peer is connected),
// tap, af_packet, ring, null.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace synmill::dp {

class LinkWatch {
 public:
  explicit LinkWatch(uint16_t port_id, std::string who);

  // Reads the link; on a change updates the flag and returns what to log.
  std::optional<std::string> poll();

  // Held down: the workers see the link down whatever the port says (before
  // the control thread stops the port on purpose, e.g. synmill-gen --flap).
  void hold_down(bool on);

  const std::atomic<bool>* flag() const { return &up_; }
  bool up() const { return up_.load(std::memory_order_relaxed); }
  uint64_t downs() const { return downs_; }
  uint64_t ups() const { return ups_; }

 private:
  uint16_t port_id_;
  std::string who_;
  std::atomic<bool> up_{true};
  bool known_ = false;
  bool held_ = false;
  uint64_t downs_ = 0;
  uint64_t ups_ = 0;
};

}  // namespace synmill::dp
