#include "tcp/apps/send_n.hpp"

#include <algorithm>
#include <array>

#include "tcp/stack.hpp"

namespace synmill::tcp {

void SendNApp::on_open(Stack& stack, ConnId id) {
  stack.user(id) = 0;  // bytes queued so far
  pump(stack, id);
}

void SendNApp::on_writable(Stack& stack, ConnId id) { pump(stack, id); }

void SendNApp::pump(Stack& stack, ConnId id) {
  uint64_t& done = stack.user(id);
  std::array<uint8_t, 4096> buf{};
  while (done < n_) {
    const auto len = static_cast<uint32_t>(std::min<uint64_t>(buf.size(), n_ - done));
    for (uint32_t i = 0; i < len; ++i) buf[i] = pattern_byte(done + i);
    const uint32_t took = stack.send(id, std::span<const uint8_t>(buf.data(), len));
    done += took;
    if (took < len) return;  // on_writable resumes
  }
  stack.close(id);
}

}  // namespace synmill::tcp
