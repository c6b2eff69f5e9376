#pragma once
// The `metrics` application (--listen 9100:metrics): answers each HTTP
// request (headers up to the empty line) with the Prometheus text of the
// process's counters, then closes (HTTP/1.1 "Connection: close",
// RFC 9112 §9.6), so a scraper reaches synmill's metrics on its own data port.
//
// The text comes from a MetricsSource that the program provides (synmill
// renders every worker's published snapshot with dp::prometheus_text, the
// same formatter as `synmill-ctl metrics`). Rendering happens on the worker's
// thread once per scrape, into a buffer the app keeps (its capacity is reused:
// no allocation once it has grown to the text's size). While one response is
// still being sent, a new scrape is answered from the same text.
#include <cstdint>
#include <string>

#include "tcp/app.hpp"

namespace synmill::tcp {

class MetricsSource {
 public:
  // Replaces `out` with the exposition text.
  virtual void render(std::string& out) = 0;

 protected:
  ~MetricsSource() = default;
};

class MetricsApp final : public App {
 public:
  explicit MetricsApp(MetricsSource& source) : source_(source) {}

  void on_open(Stack& stack, ConnId id) override;
  uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) override;
  void on_writable(Stack& stack, ConnId id) override;
  void on_peer_close(Stack& stack, ConnId id) override;
  void on_closed(Stack& stack, ConnId id, CloseReason reason) override;

  uint64_t scrapes() const { return scrapes_; }

 private:
  void push(Stack& stack, ConnId id);
  MetricsSource& source_;
  std::string body_;
  std::string response_;
  uint32_t sending_ = 0;  // connections with part of response_ still to send
  uint64_t scrapes_ = 0;
};

}  // namespace synmill::tcp
