#pragma once
// Echo (RFC 862 over TCP): every byte received is sent back; the peer's FIN
// closes our side after the echoed bytes.
#include "tcp/app.hpp"

namespace synmill::tcp {

class EchoApp final : public App {
 public:
  EchoApp() { set_quiet(kQuietWritable | kQuietClosed | kAlwaysAccepting); }  // the callbacks below that do nothing (App::quiet)
  void on_open(Stack&, ConnId) override {}
  uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) override;
  void on_peer_close(Stack& stack, ConnId id) override;
  void on_closed(Stack&, ConnId, CloseReason) override {}
  // The window never offers more than the send queue can echo back.
  uint32_t rcv_space(const Stack& stack, ConnId id) const override;
};

}  // namespace synmill::tcp
