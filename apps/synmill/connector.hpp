#pragma once
// synmill --connect ADDR:PORT[xN]: active opens at start-up. A LoopDriver on
// each worker resolves the peer's MAC (ARP; Neighbor Discovery for an IPv6
// peer), then opens the connections whose replies land on that worker (the
// port's RSS key and RETA, or the dispatch hash), from local ports 40000 up
// of the first --addr of the peer's family, each served by its own app
// instance. Tests use it to drive SYN_SENT and the client side of the state
// machine.
#include <memory>
#include <vector>

#include "dp/app_values.hpp"
#include "dp/worker.hpp"
#include "tcp/app.hpp"
#include "wire/ipv6_addr.hpp"

namespace synmill::apps {

class Connector final : public dp::LoopDriver {
 public:
  // `app` serves every connection this worker opens; owned by the caller.
  // local_ip / local_ip6: the sources of IPv4 / IPv6 peers.
  Connector(std::vector<dp::ConnectSpec> specs, uint32_t local_ip, const wire::Ipv6Addr& local_ip6, uint16_t worker,
            uint16_t workers, tcp::App& app);
  void on_loop(dp::Worker& w, tcp::Instant now) override;

  static constexpr uint16_t kFirstPort = 40000;

 private:
  void open_all(dp::Worker& w, const dp::ConnectSpec& spec, tcp::Instant now);
  void open_all6(dp::Worker& w, const dp::ConnectSpec& spec, tcp::Instant now);

  std::vector<dp::ConnectSpec> specs_;
  uint32_t local_ip_;
  wire::Ipv6Addr local_ip6_;
  uint16_t worker_;
  uint16_t workers_;
  tcp::App& app_;
  size_t next_ = 0;            // the spec being resolved
  tcp::Instant ask_at_{};      // next ARP request or NS
};

}  // namespace synmill::apps
