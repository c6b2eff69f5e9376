#pragma once
// Discard (RFC 863 over TCP): takes every byte, closes when the peer does.
#include "tcp/app.hpp"

namespace synmill::tcp {

class DiscardApp final : public App {
 public:
  DiscardApp() { set_quiet(kQuietWritable | kQuietClosed | kAlwaysAccepting); }  // the callbacks below that do nothing (App::quiet)
  void on_open(Stack&, ConnId) override {}
  uint32_t on_data(Stack&, ConnId, std::span<const uint8_t> data) override {
    return static_cast<uint32_t>(data.size());
  }
  void on_peer_close(Stack& stack, ConnId id) override;
  void on_closed(Stack&, ConnId, CloseReason) override {}
};

}  // namespace synmill::tcp
