// How an application author tests an App against the real stack, with a
// manual clock (the Catch2 harness, harness.hpp) and over a lossy link (the
// simulation harness, test/sim/app_sim.hpp). docs/writing-an-app.md walks
// through this file.
#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "../../sim/app_sim.hpp"
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

// ---- the application under test ----------------------------------------------
// Upper: sends every byte back upper-cased. A connection idle for kIdle is
// closed (its own timer, re-armed on each byte); a worker timer counts the
// seconds the application has been serving. The window follows the send
// queue (rcv_space), so a reader that stops reading stops the writer.
class Upper final : public App {
 public:
  static constexpr Duration kIdle = Duration::s(10);
  uint32_t seconds = 0;
  uint32_t idle_closes = 0;

  void on_open(Stack& stack, ConnId id) override {
    stack.set_timer(id, kIdle);
    if (!ticking_) ticking_ = stack.set_worker_timer(0, Duration::s(1), *this);
  }
  uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) override {
    const size_t n = std::min<size_t>(data.size(), stack.send_space(id));
    std::string up(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const uint32_t took = stack.send(id, Peer::bytes(up));
    stack.set_timer(id, kIdle);
    return took;
  }
  void on_writable(Stack& stack, ConnId id) override { stack.resume_receive(id); }
  void on_peer_close(Stack& stack, ConnId id) override { stack.close(id); }
  void on_closed(Stack&, ConnId, CloseReason) override {}
  uint32_t rcv_space(const Stack& stack, ConnId id) const override { return stack.send_space(id); }
  void on_timer(Stack& stack, ConnId id) override {
    ++idle_closes;
    stack.close(id);
  }
  void on_worker_timer(Stack& stack, uint32_t timer) override {
    ++seconds;
    stack.set_worker_timer(timer, Duration::s(1), *this);
  }

 private:
  bool ticking_ = false;
};

std::string payload_of(const std::vector<Sent>& out) {
  std::string s;
  for (const Sent& x : out) s.append(x.payload.begin(), x.payload.end());
  return s;
}

bool has_fin(const std::vector<Sent>& out) {
  return std::any_of(out.begin(), out.end(), [](const Sent& s) { return s.has(flag::kFin); });
}

// ---- 1. the Catch2 harness: exact segments, a manual clock --------------------
TEST_CASE("user app: bytes, its connection timer and its worker timer under a manual clock", "[app]") {
  Harness h;
  Upper app;
  REQUIRE(h.stack.listen(kServerPort, app));  // any App: the harness's RecordingApp is only the default
  Peer p(passive_tuple(), kPeerIss, plain_peer());
  const ConnId id = open_passive(h, p);

  h.deliver(p.data("hello, synmill"));
  auto out = h.take();
  p.observe(out);
  CHECK(payload_of(out) == "HELLO, SYNMILL");

  // The worker timer fires once per simulated second, from advance() (a
  // worker's poll loop calls it every turn; re-arming counts from then).
  for (int i = 0; i < 35; ++i) h.advance_by(Duration::ms(100));
  CHECK(app.seconds == 3);

  // Idle for kIdle after the last byte (at kT0): the application's timer
  // closes the connection, never earlier.
  h.deliver(p.ack());
  h.advance_to(kT0 + Upper::kIdle - Duration::ms(1));
  CHECK(app.idle_closes == 0);
  CHECK_FALSE(has_fin(h.take()));
  h.advance_to(kT0 + Upper::kIdle + h.stack.config().timer_tick);
  CHECK(app.idle_closes == 1);
  out = h.take();
  CHECK(has_fin(out));
  CHECK(str(h.stack.state_of(p.tuple)) == str(State::kFinWait1));

  // Once the application closed, its timer is gone with the connection.
  CHECK_FALSE(h.stack.set_timer(id, Duration::s(1)));
}

TEST_CASE("user app: timers are cancelled with their connection, worker timers on demand", "[app]") {
  Harness h;
  Upper app;
  REQUIRE(h.stack.listen(kServerPort, app));
  Peer p(passive_tuple(), kPeerIss, plain_peer());
  const ConnId id = open_passive(h, p);
  REQUIRE(h.stack.abort(id));
  h.take();
  h.advance_by(Upper::kIdle + Duration::s(1));
  CHECK(app.idle_closes == 0);  // the aborted connection's timer never fired
  h.stack.cancel_worker_timer(0);
  const uint32_t s = app.seconds;
  h.advance_by(Duration::s(5));
  CHECK(app.seconds == s);
  CHECK_FALSE(h.stack.set_worker_timer(Stack::kWorkerTimers, Duration::s(1), app));
  h.check_idle();
}

// ---- 2. the simulation harness: a lossy, reordering, duplicating link ---------
// A test-side client: sends `n` seeded bytes on each connection, reads the
// answer, closes when every byte came back.
class Sender final : public App {
 public:
  explicit Sender(size_t n) : n_(n) {}
  struct Flow {
    std::string sent, got;
    size_t off = 0;
    bool closed = false;
    CloseReason why{};
  };
  std::vector<Flow> flows;
  size_t closed = 0;

  void on_open(Stack& stack, ConnId id) override {
    Flow& f = flows[stack.user(id)];
    std::mt19937 rng(static_cast<uint32_t>(stack.user(id)));
    for (size_t i = 0; i < n_; ++i) f.sent.push_back(static_cast<char>('a' + rng() % 26));
    pump(stack, id);
  }
  uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) override {
    Flow& f = flows[stack.user(id)];
    f.got.append(data.begin(), data.end());
    if (f.got.size() == n_) stack.close(id);
    return static_cast<uint32_t>(data.size());
  }
  void on_writable(Stack& stack, ConnId id) override { pump(stack, id); }
  void on_peer_close(Stack& stack, ConnId id) override { stack.close(id); }
  void on_closed(Stack& stack, ConnId id, CloseReason why) override {
    Flow& f = flows[stack.user(id)];
    f.closed = true;
    f.why = why;
    ++closed;
  }

 private:
  void pump(Stack& stack, ConnId id) {
    Flow& f = flows[stack.user(id)];
    f.off += stack.send(id, Peer::bytes(std::string_view(f.sent).substr(f.off)));
  }
  size_t n_;
};

TEST_CASE("user app: byte-exact over a link with 5% loss, duplication and reordering", "[app][sim]") {
  sim::LinkParams link;
  link.loss = 0.05;
  link.duplicate = 0.02;
  link.reorder = 0.05;
  sim::AppSim sim(link, 7);
  Upper server;
  Sender client(50000);
  REQUIRE(sim.server.listen(80, server));
  constexpr size_t kConns = 20;
  client.flows.resize(kConns);
  for (size_t i = 0; i < kConns; ++i) {
    const ConnId id = sim.connect(80, client);
    REQUIRE(id.valid());
    sim.client.user(id) = i;
  }
  REQUIRE(sim.run_until([&] { return client.closed == kConns; }, Duration::s(600)));
  for (const Sender::Flow& f : client.flows) {
    std::string want = f.sent;
    for (char& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(f.got == want);
    CHECK(str(f.why) == str(CloseReason::kNormal));
  }
  CHECK(sim.frames_lost() > 0);
  CHECK(server.idle_closes == 0);
  // The server side drains by itself: its last connections leave LAST_ACK.
  sim.run_until([&] { return sim.server.conn_count() == 0; }, Duration::s(120));
  CHECK(sim.server.conn_count() == 0);
  CHECK(sim.server.chunks_in_use() == 0);
}

}  // namespace
}  // namespace synmill::tcp::test
