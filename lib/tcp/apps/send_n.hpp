#pragma once
// "send N bytes then close": on open, sends N bytes of a known pattern (byte i
// of the stream is pattern_byte(i)) and closes first; input is discarded.
#include <cstdint>

#include "tcp/app.hpp"

namespace synmill::tcp {

class SendNApp final : public App {
 public:
  // on_closed() does nothing and accepting() is always true (App::quiet).
  explicit SendNApp(uint64_t n) : n_(n) { set_quiet(kQuietClosed | kAlwaysAccepting); }
  static uint8_t pattern_byte(uint64_t i) { return static_cast<uint8_t>((i * 7 + (i >> 8)) & 0xff); }

  void on_open(Stack& stack, ConnId id) override;
  uint32_t on_data(Stack&, ConnId, std::span<const uint8_t> data) override {
    return static_cast<uint32_t>(data.size());
  }
  void on_writable(Stack& stack, ConnId id) override;
  void on_peer_close(Stack&, ConnId) override {}
  void on_closed(Stack&, ConnId, CloseReason) override {}
  uint64_t n() const { return n_; }

 private:
  void pump(Stack& stack, ConnId id);
  uint64_t n_;
};

}  // namespace synmill::tcp
