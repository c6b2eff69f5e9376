#include "tcp/apps/discard.hpp"

#include "tcp/stack.hpp"

namespace synmill::tcp {

void DiscardApp::on_peer_close(Stack& stack, ConnId id) { stack.close(id); }

}  // namespace synmill::tcp
