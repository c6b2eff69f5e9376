#pragma once
// "hold": takes and discards every byte and never closes, not even after the
// peer's FIN, so the connection stays in CLOSE_WAIT until the stack reclaims
// it (--close-wait-timeout) or the peer resets it. For tests of stuck
// half-closed connections (test/conformance).
#include "tcp/app.hpp"

namespace synmill::tcp {

class HoldApp final : public App {
 public:
  HoldApp() { set_quiet(kQuietWritable | kQuietClosed | kAlwaysAccepting); }  // the callbacks below that do nothing (App::quiet)
  void on_open(Stack&, ConnId) override {}
  uint32_t on_data(Stack&, ConnId, std::span<const uint8_t> data) override {
    return static_cast<uint32_t>(data.size());
  }
  void on_peer_close(Stack&, ConnId) override {}
  void on_closed(Stack&, ConnId, CloseReason) override {}
};

}  // namespace synmill::tcp
