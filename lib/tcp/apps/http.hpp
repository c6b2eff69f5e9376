#pragma once
// A minimal HTTP/1.1 responder: every request (headers up to the empty line;
// request bodies are not supported) gets "200 OK" with a fixed body.
// Keep-alive follows RFC 9112 §9.3: HTTP/1.1 persists unless the request says
// "Connection: close"; HTTP/1.0 closes unless it says "Connection: keep-alive".
// The parser is a streaming matcher whose whole state fits the connection's
// 64-bit user word, so requests split across segments parse the same.
//
// `http:close` (OneRequest::kYes) answers one request per connection: the
// response says "Connection: close" and the FIN follows it in the same
// segment, whatever the request asked (RFC 9112 §9.6: a server may close
// after any response it marks "close"). It is nginx's `keepalive_timeout 0`,
// and the server side of a non-keep-alive dperf run, so the bench compares
// like with like.
#include <cstdint>
#include <string>

#include "tcp/app.hpp"

namespace synmill::tcp {

class HttpApp final : public App {
 public:
  enum class OneRequest : bool { kNo, kYes };
  static constexpr const char* kDefaultBody = "Hello from synmill\n";
  explicit HttpApp(std::string body = kDefaultBody, OneRequest one = OneRequest::kNo);
  explicit HttpApp(OneRequest one) : HttpApp(kDefaultBody, one) {}

  void on_open(Stack& stack, ConnId id) override;
  uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) override;
  void on_peer_close(Stack& stack, ConnId id) override;
  void on_closed(Stack&, ConnId, CloseReason) override {}
  // Room for one full response, or no window: a request is never half-answered.
  uint32_t rcv_space(const Stack& stack, ConnId id) const override;

  const std::string& body() const { return body_; }
  uint64_t requests() const { return requests_; }

 private:
  // The answer to one request whose head asked for `keep_alive` (RFC 9112
  // §9.3); http:close closes whatever it asked.
  enum class Answered : uint8_t { kNoRoom, kClosed, kKept };
  Answered respond(Stack& stack, ConnId id, bool keep_alive);
  std::string keep_alive_response_;
  std::string close_response_;
  std::string body_;
  uint64_t requests_ = 0;
  bool one_request_ = false;
};

}  // namespace synmill::tcp
