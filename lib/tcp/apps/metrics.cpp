#include "tcp/apps/metrics.hpp"

#include <string_view>

#include "tcp/stack.hpp"

namespace synmill::tcp {

namespace {

// The user word: bits 0..1 count the line ends seen in a row (CR ignored),
// bit 2 "answering", bits 32..63 the offset in response_ sent so far.
constexpr uint64_t kAnswering = 1u << 2;
uint32_t offset_of(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
uint64_t with_offset(uint64_t w, uint32_t off) { return (w & 0xffffffffu) | (uint64_t{off} << 32); }

}  // namespace

void MetricsApp::on_open(Stack& stack, ConnId id) { stack.user(id) = 0; }

uint32_t MetricsApp::on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) {
  uint64_t& w = stack.user(id);
  if ((w & kAnswering) != 0) return static_cast<uint32_t>(data.size());  // one request per connection
  uint32_t ends = static_cast<uint32_t>(w & 3);
  for (const uint8_t b : data) {
    if (b == '\r') continue;
    ends = b == '\n' ? ends + 1 : 0;
    if (ends == 2) break;
  }
  w = (w & ~uint64_t{3}) | (ends & 3);
  if (ends < 2) return static_cast<uint32_t>(data.size());
  if (sending_ == 0) {  // re-render only when no response is half sent
    source_.render(body_);
    response_.clear();
    response_ += "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: ";
    response_ += std::to_string(body_.size());
    response_ += "\r\nConnection: close\r\n\r\n";
    response_ += body_;
  }
  ++scrapes_;
  ++sending_;
  w = kAnswering;
  push(stack, id);
  return static_cast<uint32_t>(data.size());
}

void MetricsApp::push(Stack& stack, ConnId id) {
  uint64_t& w = stack.user(id);
  if ((w & kAnswering) == 0) return;
  uint32_t off = offset_of(w);
  const std::string_view rest = std::string_view(response_).substr(off);
  off += stack.send(id, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(rest.data()), rest.size()));
  w = with_offset(w, off);
  if (off == response_.size()) {
    w = 0;
    --sending_;
    stack.close(id);
  }
}

void MetricsApp::on_writable(Stack& stack, ConnId id) { push(stack, id); }

void MetricsApp::on_peer_close(Stack& stack, ConnId id) {
  if ((stack.user(id) & kAnswering) == 0) stack.close(id);
}

void MetricsApp::on_closed(Stack& stack, ConnId id, CloseReason) {
  if ((stack.user(id) & kAnswering) != 0) --sending_;  // reset or aborted mid-response
}

}  // namespace synmill::tcp
