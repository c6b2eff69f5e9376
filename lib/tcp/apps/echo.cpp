#include "tcp/apps/echo.hpp"

#include "tcp/stack.hpp"

namespace synmill::tcp {

uint32_t EchoApp::on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) {
  return stack.send(id, data);
}

void EchoApp::on_peer_close(Stack& stack, ConnId id) { stack.close(id); }

uint32_t EchoApp::rcv_space(const Stack& stack, ConnId id) const { return stack.send_space(id); }

}  // namespace synmill::tcp
