// Fair use of the chunk pool (issue 10): a guaranteed minimum per
// connection, a reserve that backs it, squatters (data toward a zero or tiny
// window) losing space first and, past persist_timeout, the connection.
#include <deque>
#include <string>

#include "harness.hpp"
#include "tcp/apps/http.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

constexpr uint32_t kCs = 2048;

StackConfig pool_config(uint32_t chunks, uint32_t reserve) {
  StackConfig cfg = small_config();
  cfg.send_chunks = chunks;
  cfg.pool_reserve = reserve;
  cfg.min_conn_buf = kCs;
  cfg.send_buf = 64 * 1024;
  return cfg;
}

std::vector<uint8_t> bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7);
  return v;
}

Peer make_peer(uint16_t port, PeerOptions o = plain_peer(), uint16_t local = kServerPort) {
  return Peer(FourTuple{kStackIp, kPeerIp, local, port}, kPeerIss + port * 1000u, o);
}

TEST_CASE("fair pool: at the reserve no connection grows, a new one still gets its minimum",
          "[tcp][overload][pool]") {
  Harness h(pool_config(16, 4));
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::deque<Peer> peers;
  peers.push_back(make_peer(kPeerPort));
  const ConnId a = open_passive(h, peers[0]);
  const auto big = bytes(64 * 1024);
  // A takes everything beyond the reserve, no more.
  CHECK(h.stack.send(a, big) == 12 * kCs);
  CHECK(h.stack.counters().drop.send_pool_pressure == 1);
  CHECK(h.stack.pool_pressure());
  CHECK(h.stack.send_space(a) == 0);
  h.take();
  // B, opened now, is offered its minimum both ways.
  peers.push_back(make_peer(kPeerPort + 1));
  const ConnId b = open_passive(h, peers[1]);
  CHECK(h.stack.send_space(b) == kCs);
  h.deliver(peers[1].data("x"));
  h.advance_by(h.stack.config().delayed_ack);
  const auto out = h.take();
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().seg.tuple == peers[1].tuple);
  CHECK(out.back().seg.window == kCs - 0);  // min_conn_buf (the byte was taken by the app)
  CHECK(h.stack.send(b, bytes(kCs)) == kCs);
  CHECK(h.stack.send_space(a) == 0);
}

TEST_CASE("fair pool: send_all queues everything send_space allows, or nothing", "[tcp][overload][pool]") {
  Harness h(pool_config(16, 4));
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::deque<Peer> peers;
  peers.push_back(make_peer(kPeerPort));
  const ConnId a = open_passive(h, peers[0]);
  const uint32_t space = h.stack.send_space(a);
  REQUIRE(space == 12 * kCs);  // everything beyond the reserve
  // One byte more than send_space: nothing queued, nothing counted.
  CHECK(h.stack.send_all(a, bytes(space + 1)) == 0);
  CHECK(h.stack.send_space(a) == space);
  CHECK(h.stack.counters().drop.send_pool_pressure == 0);
  CHECK(h.take().empty());
  // Exactly send_space: all of it.
  CHECK(h.stack.send_all(a, bytes(space)) == space);
  CHECK(h.stack.send_space(a) == 0);
  CHECK(h.stack.send_all(a, bytes(1)) == 0);
  CHECK(h.stack.counters().drop.send_pool_pressure == 0);
  CHECK_FALSE(h.take().empty());  // the first segments went out
}

TEST_CASE("fair pool: the http app answers while the pool is at its reserve", "[tcp][overload][pool][http]") {
  Harness h(pool_config(16, 4));
  HttpApp http;
  REQUIRE(h.stack.listen(kServerPort, h.app));
  REQUIRE(h.stack.listen(8080, http));
  Peer hog = make_peer(kPeerPort);
  const ConnId a = open_passive(h, hog);
  CHECK(h.stack.send(a, bytes(64 * 1024)) == 12 * kCs);
  h.take();
  REQUIRE(h.stack.pool_pressure());
  Peer client = make_peer(kPeerPort + 1, plain_peer(), 8080);
  open_passive(h, client);
  h.deliver(client.data("GET / HTTP/1.1\r\nHost: 198.18.0.1\r\n\r\n"));
  const auto out = h.take();
  std::string got;
  for (const Sent& s : out)
    if (s.seg.tuple == client.tuple) got.append(s.payload.begin(), s.payload.end());
  CHECK(http.requests() == 1);
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(got.size() > http.body().size());
  CHECK(got.substr(got.size() - http.body().size()) == http.body());
}

// A peer that advertises a zero window from its SYN on and answers every probe.
struct Squatter {
  Harness& h;
  Peer p;
  ConnId id;
  Squatter(Harness& hh, uint16_t port) : h(hh), p(make_peer(port, zero_window())) {
    id = open_passive(h, p);
  }
  static PeerOptions zero_window() {
    PeerOptions o = plain_peer();
    o.window = 0;
    return o;
  }
  // Answers whatever the stack sent it (probes) with a zero-window ACK.
  void answer(const std::vector<Sent>& out) {
    for (const Sent& s : out)
      if (s.seg.tuple == p.tuple && !s.has(flag::kRst)) {
        p.observe(s);
        h.deliver(p.make(flag::kAck, p.nxt, p.stack_iss + 1));
      }
  }
};

TEST_CASE("fair pool: a squatter stays at its minimum and is reset after persist_timeout",
          "[tcp][overload][pool][squat]") {
  StackConfig cfg = pool_config(256, 32);
  cfg.persist_timeout = Duration::s(10);
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Squatter s(h, kPeerPort);
  const Instant t0 = h.now;
  CHECK(h.stack.send(s.id, bytes(8 * kCs)) == 8 * kCs);
  CHECK(h.take().empty());  // zero window: nothing goes out
  bool rst = false;
  Instant rst_at{}, first_probe{};
  uint32_t probes = 0;
  while (!rst && h.now < t0 + Duration::s(60)) {
    h.advance_by(Duration::ms(100));
    const auto out = h.take();
    for (const Sent& x : out) {
      if (x.has(flag::kRst)) {
        rst = true;
        rst_at = h.now;
        // At the peer's RCV.NXT, not one past it (the last probe byte it
        // refused): a zero-window peer drops an RST beyond its window.
        CHECK(x.seg.seq.raw() == (s.p.stack_iss + 1).raw());
      } else if (x.payload.size() == 1) {
        if (probes++ == 0) first_probe = h.now;
      }
    }
    if (!rst) s.answer(out);
    if (!rst && h.stack.squatter_count() == 1) {
      CHECK(h.stack.send_space(s.id) == 0);  // never grows beyond its minimum
    }
  }
  REQUIRE(rst);
  CHECK(probes >= 2);
  // Squatting since the first probe (one RTO after the send): reset 10 s later.
  CHECK((rst_at - first_probe).count_ms() >= 10000);
  CHECK((rst_at - first_probe).count_ms() <= 10100);
  CHECK(str(h.app.closed_reason()) == str(CloseReason::kPersistTimeout));
  CHECK(h.stack.counters().reclaim_persist_timeout == 1);
  h.check_idle();
}

// persist_timeout is held to kMaxDeadline (30 min), as the other timeouts a
// deadline is set from (the squat stamp and the persist deadline are 32-bit
// microseconds, deadline.hpp): a longer setting resets the squatter at 30 min.
TEST_CASE("fair pool: persist_timeout beyond 30 minutes is held to 30 minutes", "[tcp][overload][pool][squat]") {
  StackConfig cfg = pool_config(256, 32);
  cfg.persist_timeout = Duration::s(2 * 3600);
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Squatter s(h, kPeerPort);
  const Instant t0 = h.now;
  CHECK(h.stack.send(s.id, bytes(8 * kCs)) == 8 * kCs);
  CHECK(h.take().empty());
  bool rst = false;
  Instant rst_at{}, first_probe{};
  uint32_t probes = 0;
  while (!rst && h.now < t0 + Duration::s(3 * 3600)) {
    h.advance_by(Duration::s(1));
    const auto out = h.take();
    for (const Sent& x : out) {
      if (x.has(flag::kRst)) {
        rst = true;
        rst_at = h.now;
      } else if (x.payload.size() == 1) {
        if (probes++ == 0) first_probe = h.now;
      }
    }
    if (!rst) s.answer(out);
  }
  REQUIRE(rst);
  CHECK(probes >= 2);
  CHECK((rst_at - first_probe).count_ms() >= 1799 * 1000);
  CHECK((rst_at - first_probe).count_ms() <= 1802 * 1000);
  CHECK(str(h.app.closed_reason()) == str(CloseReason::kPersistTimeout));
  h.check_idle();
}

TEST_CASE("fair pool: a short pool takes chunks back from orphans first, then squatters",
          "[tcp][overload][pool][squat]") {
  StackConfig cfg = pool_config(32, 8);
  cfg.persist_timeout = Duration{};  // never on its own
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Squatter live(h, kPeerPort);        // squats, application attached
  Squatter orphan(h, kPeerPort + 1);  // squats, then closed: an orphan holding chunks
  CHECK(h.stack.send(live.id, bytes(4 * kCs)) == 4 * kCs);
  CHECK(h.stack.send(orphan.id, bytes(6 * kCs)) == 6 * kCs);
  REQUIRE(h.stack.close(orphan.id));
  h.advance_by(Duration::s(1));  // first probes: both are found squatting
  live.answer(h.take());
  CHECK(h.stack.squatter_count() == 1);
  CHECK(h.stack.orphan_count() == 1);
  // Ordinary connections fill the pool past the reserve's low-water mark.
  std::deque<Peer> others;
  std::vector<ConnId> ids;
  uint64_t orphan_resets = 0;
  for (uint16_t i = 0; i < 24 && h.stack.counters().reclaim_squatter_pool == 0; ++i) {
    others.push_back(make_peer(static_cast<uint16_t>(kPeerPort + 10 + i)));
    ids.push_back(open_passive(h, others.back()));
    h.stack.send(ids.back(), bytes(8 * kCs));
    h.take();
    if (orphan_resets == 0 && h.stack.counters().reclaim_orphan_pool == 1) {
      orphan_resets = 1;
      CHECK(h.stack.counters().reclaim_squatter_pool == 0);  // the orphan went first
      CHECK(h.stack.alive(live.id));
    }
  }
  CHECK(h.stack.counters().reclaim_orphan_pool == 1);
  CHECK(h.stack.counters().reclaim_squatter_pool == 1);
  CHECK_FALSE(h.stack.alive(live.id));
  for (const ConnId id : ids) CHECK(h.stack.alive(id));  // ordinary connections are never reset
}

}  // namespace
}  // namespace synmill::tcp::test
