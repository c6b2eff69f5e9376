// synmill-kv: a line-protocol key-value store on synmill (docs/writing-an-app.md).
//
//   SET <key> <value>\n  ->  OK\n
//   GET <key>\n          ->  VALUE <value>\n | NOT_FOUND\n
//   DEL <key>\n          ->  DELETED\n | NOT_FOUND\n
//   anything else        ->  ERROR <why>\n
//
// Keys and values are printable words (no spaces); key + value fit a cross-
// worker Message. The keys are sharded over the workers by a hash: each
// worker's instance owns one shard (a plain std::unordered_map, no lock). A
// request for a key another worker owns travels to it as a Message and the
// answer comes back the same way. Replies keep request order on a
// connection: while a request is away, the connection reads no further (the
// stack holds the bytes, shrinking the window) and resumes when the answer
// is sent.
//
//   synmill-kv -l 0-2 --no-pci --vdev=net_tap0,iface=kv0 -- --addr 198.18.0.2/24 --listen 7000:kv
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <synmill/synmill.hpp>

namespace {

constexpr size_t kMaxLine = 512;
constexpr uint16_t kRequest = 1;
constexpr uint16_t kAnswer = 2;
constexpr uint32_t kRetryTimer = 0;

// Per-connection state, reached through stack.user(id) (a pointer).
struct Session {
  std::string line;     // a request not complete yet
  bool waiting = false; // a request is at another worker
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

class Kv final : public synmill::Application {
 public:
  void on_start(synmill::Context& ctx) override { ctx_ = &ctx; }

  void on_open(synmill::Stack& stack, synmill::ConnId id) override {
    stack.user(id) = reinterpret_cast<uint64_t>(new Session);
  }

  void on_closed(synmill::Stack& stack, synmill::ConnId id, synmill::CloseReason) override {
    delete session(stack, id);
    stack.user(id) = 0;
  }

  void on_peer_close(synmill::Stack& stack, synmill::ConnId id) override {
    if (!session(stack, id)->waiting) stack.close(id);
    else session(stack, id)->line = "\x01close";  // close once the answer is out
  }

  uint32_t on_data(synmill::Stack& stack, synmill::ConnId id, std::span<const uint8_t> data) override {
    Session* s = session(stack, id);
    if (s == nullptr) return static_cast<uint32_t>(data.size());
    uint32_t used = 0;
    while (used < data.size() && !s->waiting) {
      // Backpressure: take no request whose answer might not fit the send queue.
      if (stack.send_space(id) < kMaxLine + 16) return used;
      const auto* begin = data.data() + used;
      const auto* nl = static_cast<const uint8_t*>(std::memchr(begin, '\n', data.size() - used));
      if (nl == nullptr) {
        s->line.append(reinterpret_cast<const char*>(begin), data.size() - used);
        used = static_cast<uint32_t>(data.size());
        if (s->line.size() > kMaxLine) {
          reply(stack, id, "ERROR line too long\n");
          stack.close(id);
        }
        return used;
      }
      s->line.append(reinterpret_cast<const char*>(begin), static_cast<size_t>(nl - begin));
      used += static_cast<uint32_t>(nl - begin) + 1;
      std::string request = std::move(s->line);
      s->line.clear();
      if (!request.empty() && request.back() == '\r') request.pop_back();
      handle(stack, id, request);
    }
    return used;
  }

  // Requests from other workers for keys this one owns, and their answers.
  void on_message(synmill::Context& ctx, const synmill::Message& m) override {
    const std::string_view text(reinterpret_cast<const char*>(m.data.data()), m.len);
    if (m.kind == kRequest) {
      synmill::Message a;
      a.kind = kAnswer;
      a.tag = m.tag;
      const std::string answer = execute(text);
      a.len = static_cast<uint32_t>(answer.size());
      std::memcpy(a.data.data(), answer.data(), answer.size());
      // The requester waits for this answer: a full ring means try again
      // shortly (a worker timer), in order, never drop it.
      if (!unsent_.empty() || !ctx.post(m.from, a)) {
        unsent_.emplace_back(m.from, a);
        ctx.stack().set_worker_timer(kRetryTimer, synmill::Duration::ms(1), *this);
      }
      return;
    }
    synmill::Stack& stack = ctx.stack();
    const synmill::ConnId id = synmill::unpack(m.tag);
    if (!stack.alive(id)) return;  // the connection went away meanwhile
    Session* s = session(stack, id);
    reply(stack, id, text);
    s->waiting = false;
    if (s->line == "\x01close") {
      stack.close(id);
      return;
    }
    stack.resume_receive(id);  // the bytes the stack held while we waited
  }

  void on_writable(synmill::Stack& stack, synmill::ConnId id) override { stack.resume_receive(id); }

  void on_worker_timer(synmill::Stack& stack, uint32_t timer) override {
    if (timer != kRetryTimer) return;
    while (!unsent_.empty() && ctx_->post(unsent_.front().first, unsent_.front().second)) unsent_.pop_front();
    if (!unsent_.empty()) stack.set_worker_timer(kRetryTimer, synmill::Duration::ms(1), *this);
  }

 private:
  static Session* session(synmill::Stack& stack, synmill::ConnId id) {
    return reinterpret_cast<Session*>(stack.user(id));
  }

  static void reply(synmill::Stack& stack, synmill::ConnId id, std::string_view text) {
    stack.send(id, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }

  void handle(synmill::Stack& stack, synmill::ConnId id, const std::string& request) {
    const size_t sp = request.find(' ');
    const std::string_view rest = sp == std::string::npos ? std::string_view{} : std::string_view(request).substr(sp + 1);
    const std::string_view key = rest.substr(0, rest.find(' '));
    if (key.empty()) {
      reply(stack, id, "ERROR expected GET key, SET key value or DEL key\n");
      return;
    }
    const uint16_t owner = static_cast<uint16_t>(fnv1a(key) % ctx_->workers());
    if (owner == ctx_->index()) {
      reply(stack, id, execute(request));
      return;
    }
    if (request.size() > synmill::Message{}.data.size()) {
      reply(stack, id, "ERROR too large\n");
      return;
    }
    synmill::Message m;
    m.kind = kRequest;
    m.tag = synmill::pack(id);
    m.len = static_cast<uint32_t>(request.size());
    std::memcpy(m.data.data(), request.data(), request.size());
    if (!ctx_->post(owner, m)) {
      reply(stack, id, "ERROR busy\n");
      return;
    }
    session(stack, id)->waiting = true;
  }

  // One request against this worker's shard.
  std::string execute(std::string_view request) {
    const size_t sp = request.find(' ');
    const std::string_view verb = request.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : request.substr(sp + 1);
    const size_t sp2 = rest.find(' ');
    const std::string key(rest.substr(0, sp2));
    const std::string_view value = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
    if (verb == "GET" && sp2 == std::string_view::npos) {
      const auto it = shard_.find(key);
      return it == shard_.end() ? "NOT_FOUND\n" : "VALUE " + it->second + "\n";
    }
    if (verb == "SET" && !value.empty() && value.find(' ') == std::string_view::npos) {
      shard_[key] = std::string(value);
      return "OK\n";
    }
    if (verb == "DEL" && sp2 == std::string_view::npos) return shard_.erase(key) ? "DELETED\n" : "NOT_FOUND\n";
    return "ERROR expected GET key, SET key value or DEL key\n";
  }

  synmill::Context* ctx_ = nullptr;
  std::unordered_map<std::string, std::string> shard_;
  std::deque<std::pair<uint16_t, synmill::Message>> unsent_;  // (to, answer) waiting for room in a ring
};

}  // namespace

int main(int argc, char** argv) {
  synmill::RunOptions o;
  o.program = "synmill-kv";
  o.apps = {"kv"};
  o.messages = true;
  return synmill::run(argc, argv, [](const synmill::AppSetup&) { return std::make_unique<Kv>(); }, o);
}
