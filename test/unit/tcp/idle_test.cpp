// Idle reclaim of ESTABLISHED connections and TCP keep-alive (RFC 9293
// §3.8.4, RFC 1122 §4.2.3.6), issue 10.
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

struct Timed {
  Instant at;
  Sent seg;
};

// Advances the clock in `step`s until `until` or the first RST; returns what was sent.
std::vector<Timed> run_until_rst(Scenario& sc, Instant until, Duration step) {
  std::vector<Timed> log;
  bool rst = false;
  while (sc.h.now < until && !rst) {
    sc.h.advance_by(step);
    for (Sent& s : sc.collect()) {
      rst = rst || s.has(flag::kRst);
      log.push_back(Timed{sc.h.now, std::move(s)});
    }
  }
  return log;
}

TEST_CASE("idle: off by default; keep-alive off by default", "[tcp][overload][idle]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const auto log = run_until_rst(sc, sc.h.now + Duration::s(4 * 3600), Duration::s(30));
  CHECK(log.empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
}

TEST_CASE("idle: an ESTABLISHED connection without data for idle_timeout is reset",
          "[tcp][overload][idle]") {
  StackConfig cfg = small_config();
  cfg.idle_timeout = Duration::s(8);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  const Instant t0 = sc.h.now;
  const auto log = run_until_rst(sc, t0 + Duration::s(60), Duration::ms(100));
  REQUIRE(log.size() == 1);
  CHECK(log[0].seg.seg.flags == (flag::kRst | flag::kAck));
  CHECK(log[0].seg.seg.seq.raw() == sc.peer.stack_nxt.raw());
  // Declared idle within a quarter of the setting after it.
  CHECK((log[0].at - t0).count_ms() >= 8000);
  CHECK((log[0].at - t0).count_ms() <= 10000);
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kIdleTimeout));
  CHECK(sc.h.stack.counters().reclaim_idle == 1);
  sc.h.check_idle();
}

TEST_CASE("idle: data either way keeps a connection; bare ACKs do not", "[tcp][overload][idle]") {
  const bool ours = GENERATE(false, true);  // the stack sends and the peer only ACKs
  INFO((ours ? "stack sends" : "peer sends"));
  StackConfig cfg = small_config();
  cfg.idle_timeout = Duration::s(8);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  for (int i = 0; i < 12; ++i) {  // 60 s of traffic every 5 s
    sc.h.advance_by(Duration::s(5));
    if (ours) {
      REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("tick")) == 4);
      sc.collect();
      sc.send(sc.peer.ack());
    } else {
      sc.send_data(sc.peer.data("tick"));
    }
    REQUIRE(str(sc.state()) == str(State::kEstablished));
  }
  // Bare ACKs that move nothing (as keep-alive answers) do not count as use.
  const Instant t1 = sc.h.now;
  for (int i = 1; i <= 120 && sc.has_tcb(); ++i) {  // 12 s, a bare ACK every 3 s
    sc.h.advance_by(Duration::ms(100));
    sc.collect();
    if (i % 30 == 0 && sc.has_tcb()) sc.send(sc.peer.ack());
  }
  CHECK_FALSE(sc.has_tcb());
  CHECK(sc.h.now - t1 <= Duration::s(12));
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kIdleTimeout));
}

TEST_CASE("keep-alive: probes SND.NXT - 1 after keepalive_time, reset after keepalive_probes",
          "[tcp][overload][keepalive]") {
  StackConfig cfg = small_config();
  cfg.keepalive_time = Duration::s(60);
  cfg.keepalive_intvl = Duration::s(10);
  cfg.keepalive_probes = 3;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  const Instant t0 = sc.h.now;
  const Seq snd_nxt = sc.peer.stack_nxt;
  const auto log = run_until_rst(sc, t0 + Duration::s(600), Duration::s(1));
  REQUIRE(log.size() == 4);
  for (int i = 0; i < 3; ++i) {
    INFO("probe " << i << ": " << describe(log[i].seg));
    CHECK(log[i].seg.seg.flags == flag::kAck);
    CHECK(log[i].seg.seg.seq.raw() == (snd_nxt - 1).raw());  // RFC 1122 §4.2.3.6
    CHECK(log[i].seg.seg.ack.raw() == sc.peer.nxt.raw());
    CHECK(log[i].seg.payload.empty());
    if (i > 0) CHECK((log[i].at - log[i - 1].at).count_ms() == 10000);
  }
  CHECK((log[0].at - t0).count_ms() >= 60000);
  CHECK((log[0].at - t0).count_ms() <= 75000);
  CHECK(log[3].seg.has(flag::kRst));
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kKeepaliveTimeout));
  CHECK(sc.h.stack.counters().keepalive_probes == 3);
  CHECK(sc.h.stack.counters().reclaim_keepalive == 1);
  sc.h.check_idle();
}

TEST_CASE("keep-alive: an answered probe keeps the connection", "[tcp][overload][keepalive]") {
  StackConfig cfg = small_config();
  cfg.keepalive_time = Duration::s(60);
  cfg.keepalive_intvl = Duration::s(10);
  cfg.keepalive_probes = 2;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  const Instant end = sc.h.now + Duration::s(1200);
  uint32_t probes = 0;
  while (sc.h.now < end) {
    sc.h.advance_by(Duration::s(1));
    for (const Sent& s : sc.collect()) {
      REQUIRE_FALSE(s.has(flag::kRst));
      ++probes;
      // The peer answers a probe (RFC 9293 §3.10.7.4: an old segment gets an ACK).
      const auto ack = sc.send(sc.peer.ack());
      CHECK(ack.empty());
    }
  }
  CHECK(probes >= 15);  // one about every 60-70 s
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.stack.counters().reclaim_keepalive == 0);
}

}  // namespace
}  // namespace synmill::tcp::test
