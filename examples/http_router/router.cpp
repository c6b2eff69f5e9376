// synmill-router: an HTTP/1.1 server with two routes on synmill
// (docs/writing-an-app.md).
//
//   GET /hello        "Hello from the router\n" (a static response)
//   GET /stream/N     N bytes (0..2^40) of the pattern byte[i] = i % 251,
//                     streamed: written as the send queue makes room
//                     (on_writable), never buffered whole
//   anything else     404 (405 for another method)
//
// Keep-alive per HTTP/1.1 (RFC 9112 §9.3), "Connection: close" honoured;
// requests on one connection are answered in order: while a stream is being
// written the connection reads no further (the stack holds the bytes and
// closes the window). Request bodies are not supported (411/413 are not
// sent: a request with one gets 400 and the connection is closed).
//
//   synmill-router -l 0 --no-pci --vdev=net_tap0,iface=rt0 -- --addr 198.18.0.2/24 --listen 80:router
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <synmill/synmill.hpp>

namespace {

constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\nHello from the router\n";
constexpr std::string_view kNotFound =
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n";
constexpr std::string_view kBadMethod =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
constexpr size_t kMaxHead = 8192;
constexpr uint64_t kMaxStream = uint64_t{1} << 40;

struct Session {
  std::string head;          // request head being read
  uint64_t left = 0;         // stream bytes still to send
  uint64_t offset = 0;       // stream bytes sent
  bool close_after = false;  // Connection: close, or HTTP/1.0
  bool peer_done = false;    // FIN seen
};

// The stream's bytes, 251-periodic, so any offset is a view into this table.
struct Pattern {
  std::array<uint8_t, 251 + 16384> bytes{};
  Pattern() {
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i % 251);
  }
};
const Pattern kPattern;

bool has_token(std::string_view head, std::string_view header, std::string_view token) {
  // Case-insensitive header name and value match, enough for Connection.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
  };
  const std::string h = lower(head);
  const size_t at = h.find("\r\n" + lower(header) + ":");
  if (at == std::string::npos) return false;
  const size_t end = h.find("\r\n", at + 2);
  return h.substr(at, end - at).find(lower(token)) != std::string::npos;
}

class Router final : public synmill::Application {
 public:
  void on_open(synmill::Stack& stack, synmill::ConnId id) override {
    stack.user(id) = reinterpret_cast<uint64_t>(new Session);
  }
  void on_closed(synmill::Stack& stack, synmill::ConnId id, synmill::CloseReason) override {
    delete session(stack, id);
    stack.user(id) = 0;
  }
  void on_peer_close(synmill::Stack& stack, synmill::ConnId id) override {
    Session* s = session(stack, id);
    s->peer_done = true;
    if (s->left == 0) stack.close(id);
  }

  uint32_t on_data(synmill::Stack& stack, synmill::ConnId id, std::span<const uint8_t> data) override {
    Session* s = session(stack, id);
    uint32_t used = 0;
    while (used < data.size()) {
      if (s->left > 0 || s->close_after) return used;  // one response at a time, in order
      // Read up to the end of the head ("\r\n\r\n"), byte-wise across segments.
      const char c = static_cast<char>(data[used++]);
      s->head.push_back(c);
      if (s->head.size() > kMaxHead) return fail(stack, id, used);
      if (!s->head.ends_with("\r\n\r\n")) continue;
      std::string head = std::move(s->head);
      s->head.clear();
      if (!respond(stack, id, *s, head)) return fail(stack, id, used);
    }
    return used;
  }

  // The send queue has room again: continue the stream, then read on.
  void on_writable(synmill::Stack& stack, synmill::ConnId id) override {
    Session* s = session(stack, id);
    pump(stack, id, *s);
    if (s->left == 0) stack.resume_receive(id);
  }

 private:
  static Session* session(synmill::Stack& stack, synmill::ConnId id) {
    return reinterpret_cast<Session*>(stack.user(id));
  }
  static void send(synmill::Stack& stack, synmill::ConnId id, std::string_view text) {
    stack.send(id, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  uint32_t fail(synmill::Stack& stack, synmill::ConnId id, uint32_t used) {
    send(stack, id, kBadRequest);
    stack.close(id);
    return used;
  }

  // False: a malformed request (the caller answers 400 and closes).
  bool respond(synmill::Stack& stack, synmill::ConnId id, Session& s, const std::string& head) {
    const size_t sp1 = head.find(' ');
    const size_t sp2 = head.find(' ', sp1 + 1);
    const size_t eol = head.find("\r\n");
    if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > eol) return false;
    const std::string_view method(head.data(), sp1);
    const std::string_view target(head.data() + sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version(head.data() + sp2 + 1, eol - sp2 - 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return false;
    if (has_token(head, "content-length", "") || has_token(head, "transfer-encoding", "")) return false;
    s.close_after = version == "HTTP/1.0" ? !has_token(head, "connection", "keep-alive")
                                          : has_token(head, "connection", "close");
    if (method != "GET") {
      send(stack, id, kBadMethod);
    } else if (target == "/hello") {
      send(stack, id, kHello);
    } else if (target.starts_with("/stream/")) {
      const std::string_view n = target.substr(8);
      uint64_t len = 0;
      const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), len);
      if (ec != std::errc{} || p != n.data() + n.size() || n.empty() || len > kMaxStream) {
        send(stack, id, kNotFound);
      } else {
        const std::string hdr = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                                std::to_string(len) + "\r\n\r\n";
        send(stack, id, hdr);
        s.left = len;
        s.offset = 0;
        pump(stack, id, s);
        return true;
      }
    } else {
      send(stack, id, kNotFound);
    }
    if (s.close_after || s.peer_done) stack.close(id);
    return true;
  }

  // As much of the stream as the send queue takes now; on_writable continues.
  static void pump(synmill::Stack& stack, synmill::ConnId id, Session& s) {
    while (s.left > 0) {
      const size_t start = s.offset % 251;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(s.left, kPattern.bytes.size() - start));
      const uint32_t took = stack.send(id, std::span(kPattern.bytes.data() + start, n));
      s.left -= took;
      s.offset += took;
      if (took < n) return;  // full: wait for on_writable
    }
    if (s.close_after || s.peer_done) stack.close(id);
  }
};

}  // namespace

int main(int argc, char** argv) {
  synmill::RunOptions o;
  o.program = "synmill-router";
  o.apps = {"router"};
  return synmill::run(argc, argv, [](const synmill::AppSetup&) { return std::make_unique<Router>(); }, o);
}
