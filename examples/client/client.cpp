// synmill-client: an application that connects out (docs/writing-an-app.md).
//
//   synmill-client [EAL] -- --addr 198.18.0.2/24 -- SERVER_IP PORT CONNECTIONS
//
// Every worker opens its share of CONNECTIONS to SERVER_IP:PORT (local ports
// chosen so the replies come back to the opening worker), sends
// "HELLO <worker> <n>\n" on each, reads the server's one-line answer, closes,
// and prints one line per connection:
//
//   client: worker W conn N answer <the line> closed <reason>
//
// A connection the server refuses (RST: nobody listens yet) is opened again
// after 200 ms, up to 50 times (a per-worker timer). A per-connection timer
// (on the stack's wheel) gives up on a silent server after 10 s. A
// per-worker timer prints "client: worker W done" once every connection of
// the worker has closed.
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <synmill/synmill.hpp>

namespace {

constexpr uint32_t kDoneTimer = 0;
constexpr uint32_t kRetryTimer = 1;
constexpr uint32_t kMaxTries = 50;

struct Target {
  uint32_t ip = 0;
  uint16_t port = 0;
  uint32_t count = 0;
};

bool parse(std::span<const std::string> args, Target& t) {
  if (args.size() != 3) return false;
  uint32_t a = 0;
  int shift = 24;
  for (size_t pos = 0; shift >= 0; shift -= 8) {
    const size_t dot = args[0].find('.', pos);
    const std::string part = args[0].substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    unsigned v = 0;
    if (std::from_chars(part.data(), part.data() + part.size(), v).ec != std::errc{} || v > 255) return false;
    a |= v << shift;
    if (dot == std::string::npos && shift != 0) return false;
    pos = dot + 1;
  }
  t.ip = a;
  unsigned port = 0;
  if (std::from_chars(args[1].data(), args[1].data() + args[1].size(), port).ec != std::errc{} || port == 0 ||
      port > 65535)
    return false;
  t.port = static_cast<uint16_t>(port);
  return std::from_chars(args[2].data(), args[2].data() + args[2].size(), t.count).ec == std::errc{};
}

class Client final : public synmill::Application {
 public:
  explicit Client(Target t) : t_(t) {}

  void on_start(synmill::Context& ctx) override {
    ctx_ = &ctx;
    worker_ = ctx.index();
    // Connections n = worker, worker + workers, ...: each worker its share.
    for (uint32_t n = ctx.index(); n < t_.count; n += ctx.workers()) {
      conns_.push_back(Conn{n, {}, 0});
      open(conns_.size() - 1);
    }
    ctx.stack().set_worker_timer(kDoneTimer, synmill::Duration::ms(100), *this);
  }

  void on_open(synmill::Stack& stack, synmill::ConnId id) override {
    const std::string hello = "HELLO " + std::to_string(worker_) + " " + std::to_string(conn(stack, id).n) + "\n";
    stack.send(id, std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()));
  }

  uint32_t on_data(synmill::Stack& stack, synmill::ConnId id, std::span<const uint8_t> data) override {
    Conn& c = conn(stack, id);
    c.answer.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (!c.answer.empty() && c.answer.back() == '\n') {
      c.answer.pop_back();
      stack.cancel_timer(id);
      stack.close(id);  // our FIN; the server's follows or came already
    }
    return static_cast<uint32_t>(data.size());
  }

  void on_peer_close(synmill::Stack& stack, synmill::ConnId id) override { stack.close(id); }

  void on_timer(synmill::Stack& stack, synmill::ConnId id) override {
    conn(stack, id).answer += "(timeout)";
    stack.abort(id);
  }

  void on_closed(synmill::Stack& stack, synmill::ConnId id, synmill::CloseReason why) override {
    --open_;
    const Conn& c = conn(stack, id);
    if (why == synmill::CloseReason::kRefused && c.tries < kMaxTries) {
      retry_.push_back(stack.user(id));
      stack.set_worker_timer(kRetryTimer, synmill::Duration::ms(200), *this);
      return;
    }
    std::printf("client: worker %u conn %u answer %s closed %s\n", worker_, c.n, c.answer.c_str(),
                synmill::tcp::to_string(why));
    std::fflush(stdout);
  }

  void on_worker_timer(synmill::Stack& stack, uint32_t timer) override {
    if (timer == kRetryTimer) {
      std::vector<size_t> again;
      again.swap(retry_);
      for (size_t k : again) open(k);
      return;
    }
    if (open_ > 0 || !retry_.empty()) {
      stack.set_worker_timer(kDoneTimer, synmill::Duration::ms(100), *this);
      return;
    }
    std::printf("client: worker %u done\n", worker_);
    std::fflush(stdout);
  }

 private:
  struct Conn {
    uint32_t n;
    std::string answer;
    uint32_t tries;
  };
  Conn& conn(synmill::Stack& stack, synmill::ConnId id) { return conns_[stack.user(id)]; }

  void open(size_t k) {
    Conn& c = conns_[k];
    ++c.tries;
    const synmill::ConnId id = ctx_->connect(t_.ip, t_.port, *this);
    if (!id.valid()) {
      std::printf("client: worker %u conn %u not opened\n", worker_, c.n);
      return;
    }
    ctx_->stack().user(id) = k;
    ctx_->stack().set_timer(id, synmill::Duration::s(10));
    ++open_;
  }

  Target t_;
  synmill::Context* ctx_ = nullptr;
  std::vector<size_t> retry_;
  uint16_t worker_ = 0;
  std::vector<Conn> conns_;
  uint32_t open_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  synmill::RunOptions o;
  o.program = "synmill-client";
  o.listeners_optional = true;
  return synmill::run(argc, argv, [](const synmill::AppSetup& setup) -> std::unique_ptr<synmill::Application> {
    Target t;
    if (!parse(setup.args, t)) {
      if (setup.worker == 0) std::fprintf(stderr, "synmill-client: after a second '--' give SERVER_IP PORT CONNECTIONS\n");
      return nullptr;
    }
    return std::make_unique<Client>(t);
  }, o);
}
