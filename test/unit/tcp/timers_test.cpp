// Timers with a manual clock: retransmission backoff (RFC 6298 §5.5, capped
// by rto_max, §2.5), bounded retries per state, reclaim of stuck states and
// TIME-WAIT expiry (2 MSL, restarted by a retransmitted FIN, RFC 9293
// §3.10.7.4). After each, every pool is back to idle.
#include <deque>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

// Advances in `step` increments up to `until`, recording when each segment
// the stack sends appears.
struct Timed {
  Instant at;
  Sent seg;
};
std::vector<Timed> run_clock(Scenario& sc, Instant until, Duration step) {
  std::vector<Timed> log;
  while (sc.h.now < until) {
    sc.h.advance_by(step);
    for (Sent& s : sc.collect()) log.push_back(Timed{sc.h.now, std::move(s)});
  }
  return log;
}

TEST_CASE("RFC 6298 §5.5: SYN retransmissions back off 1, 2, 4 ... s, capped by rto_max, then give up",
          "[tcp][timers][syn_sent]") {
  const int64_t rto_max_s = GENERATE(10, 60);
  StackConfig cfg = small_config();
  cfg.rto_initial = Duration::s(1);
  cfg.rto_max = Duration::s(rto_max_s);
  cfg.syn_retries = 6;
  Scenario sc(plain_peer(), Origin::kActive, cfg);
  sc.to(State::kSynSent);
  const Instant t0 = sc.h.now;
  const Seq iss = sc.peer.stack_iss;

  // Expected deadlines: each interval doubles from 1 s, never above rto_max.
  std::vector<int64_t> at_s;
  int64_t t = 0, rto = 1;
  for (int i = 0; i < 6; ++i) {
    t += rto;
    at_s.push_back(t);
    rto = std::min(rto * 2, rto_max_s);
  }
  const int64_t give_up_s = t + rto;
  INFO("rto_max " << rto_max_s << " s; give-up at " << give_up_s << " s");

  for (size_t i = 0; i < at_s.size(); ++i) {
    INFO("retransmission " << i + 1 << " due at +" << at_s[i] << " s");
    sc.h.advance_to(t0 + Duration::s(at_s[i]) - Duration::ms(1));
    CHECK(sc.collect().empty());
    sc.h.advance_to(t0 + Duration::s(at_s[i]));
    const auto out = sc.collect();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == flag::kSyn);
    CHECK(out[0].seg.seq.raw() == (iss).raw());
    CHECK(out[0].seg.opts.has_mss);
    CHECK(str(sc.state()) == str(State::kSynSent));
  }
  CHECK(sc.h.stack.counters().syn_retransmits == 6);
  sc.h.advance_to(t0 + Duration::s(give_up_s) - Duration::ms(1));
  CHECK(str(sc.state()) == str(State::kSynSent));
  sc.h.advance_to(t0 + Duration::s(give_up_s));
  CHECK(sc.collect().empty());  // no RST for a connection never synchronized
  CHECK(str(sc.state()) == str(State::kClosed));
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kTimeout));
  CHECK(sc.h.stack.counters().closed_timeout == 1);
  sc.h.check_idle();
}

TEST_CASE("SYN-ACK retransmissions, then SYN-RECEIVED is reclaimed and its backlog slot freed",
          "[tcp][timers][syn_rcvd]") {
  StackConfig cfg = small_config();
  cfg.backlog = 1;
  cfg.cookies = CookieMode::kOff;
  cfg.synack_retries = 5;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kSynRcvd);
  const Instant t0 = sc.h.now;
  const Seq iss = sc.peer.stack_iss;

  // The backlog is full: another SYN is dropped.
  Peer other(passive_tuple(kPeerPort + 7), Seq{0x30000}, plain_peer());
  sc.h.deliver(other.syn());
  CHECK(sc.h.take().empty());
  CHECK(sc.h.stack.counters().drop.backlog_full == 1);

  const int64_t at_s[] = {1, 3, 7, 15, 31};
  for (int64_t a : at_s) {
    INFO("SYN-ACK retransmission due at +" << a << " s");
    sc.h.advance_to(t0 + Duration::s(a) - Duration::ms(1));
    CHECK(sc.collect().empty());
    sc.h.advance_to(t0 + Duration::s(a));
    const auto out = sc.collect();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
    CHECK(out[0].seg.seq.raw() == (iss).raw());
    CHECK(out[0].seg.ack.raw() == (sc.peer.iss + 1).raw());
  }
  CHECK(sc.h.stack.counters().synack_retransmits == 5);
  sc.h.advance_to(t0 + Duration::s(63) - Duration::ms(1));
  CHECK(str(sc.state()) == str(State::kSynRcvd));
  sc.h.advance_to(t0 + Duration::s(63));
  CHECK(sc.collect().empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.state()) == str(State::kListen));
  CHECK(sc.h.stack.counters().closed_timeout == 1);
  CHECK(sc.h.app.count(K::kClosed) == 0);  // never accepted: the app never knew
  sc.h.check_idle();

  // The slot is free again.
  sc.h.deliver(other.syn());
  const auto out = sc.h.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(sc.h.stack.conn_count() == 1);
}

// ---- data retransmission between two stacks ----------------------------------------

// Turns a segment one stack sent into what the other receives.
SegmentIn mirror(const Sent& s) {
  SegmentIn in;
  in.tuple = FourTuple{s.seg.tuple.remote_ip, s.seg.tuple.local_ip, s.seg.tuple.remote_port,
                       s.seg.tuple.local_port};
  in.seq = s.seg.seq;
  in.ack = s.seg.ack;
  in.flags = s.seg.flags;
  in.window = s.seg.window;
  in.opts = s.seg.opts;
  in.payload = std::span<const uint8_t>(s.payload);
  return in;
}

struct Pair {
  explicit Pair(const StackConfig& cfg) : a(cfg), b(cfg) {}
  Harness a;  // the client
  Harness b;  // the server
  std::deque<Sent> keep;
  // Moves segments both ways until both are quiet; drop(seg, from_a) loses one.
  template <class Drop>
  void pump(Drop drop) {
    for (int i = 0; i < 10000; ++i) {
      auto from_a = a.take();
      auto from_b = b.take();
      if (from_a.empty() && from_b.empty()) return;
      for (Sent& s : from_a) {
        keep.push_back(std::move(s));
        if (!drop(keep.back(), true)) b.deliver(mirror(keep.back()));
      }
      for (Sent& s : from_b) {
        keep.push_back(std::move(s));
        if (!drop(keep.back(), false)) a.deliver(mirror(keep.back()));
      }
    }
    FAIL("no quiescence");
  }
  void pump() {
    pump([](const Sent&, bool) { return false; });
  }
  void advance_by(Duration d) {
    a.advance_by(d);
    b.advance_by(d);
  }
};

TEST_CASE("RFC 6298 §5: lost data is retransmitted on RTO and delivered exactly once",
          "[tcp][timers][rto]") {
  const bool ts = GENERATE(false, true);
  StackConfig cfg = small_config();
  cfg.timestamps = ts;
  cfg.rcv_wnd = 64 * 1024;
  Pair p(cfg);
  REQUIRE(p.b.stack.listen(kServerPort, p.b.app));
  const ConnId cid = p.a.stack.connect(active_tuple(), p.a.app, p.a.now);
  p.pump();
  REQUIRE(str(p.a.stack.state_of(active_tuple())) == str(State::kEstablished));
  REQUIRE(p.b.app.count(K::kOpen) == 1);

  std::vector<uint8_t> data(20000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ (i >> 8));
  REQUIRE(p.a.stack.send(cid, data) == data.size());
  const Seq first = p.a.stack.info(cid)->snd_una;
  // Lose the last data segment, once: nothing follows it to produce duplicate
  // ACKs, so only the retransmission timer recovers it (earlier losses are
  // repaired by fast retransmit, tests in recovery_test.cpp).
  bool dropped = false;
  p.pump([&](const Sent& s, bool from_a) {
    if (!from_a || dropped || s.payload.empty()) return false;
    if (s.seg.seq + static_cast<uint32_t>(s.payload.size()) == first + static_cast<uint32_t>(data.size())) {
      dropped = true;
      return true;
    }
    return false;
  });
  REQUIRE(dropped);
  CHECK(p.b.app.received.size() < data.size());
  for (int i = 0; i < 50 && p.b.app.received.size() < data.size(); ++i) {
    p.advance_by(Duration::ms(250));
    p.pump();
  }
  CHECK(p.b.app.received == data);  // every byte once, in order
  p.advance_by(cfg.delayed_ack);     // the receiver's delayed ACK
  p.pump();
  CHECK(p.a.stack.counters().retransmits >= 1);
  CHECK(p.a.stack.counters().rto_timeouts >= 1);
  CHECK(p.a.stack.info(cid)->send_queued == 0);

  // Close both ends; A (closing first) keeps TIME-WAIT.
  REQUIRE(p.a.stack.close(cid));
  p.pump();
  REQUIRE(p.b.app.count(K::kPeerClose) == 1);
  REQUIRE(p.b.stack.close(p.b.app.last_open));
  p.pump();
  CHECK(str(p.a.stack.state_of(active_tuple())) == str(State::kTimeWait));
  p.a.check_idle(1);
  p.b.check_idle(0);
}

TEST_CASE("a segment the peer retransmits is delivered once; only its new bytes are taken",
          "[tcp][timers][rto]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq start = sc.peer.nxt;
  REQUIRE(sc.send_data(sc.peer.data("abc")).size() == 1);
  // The same segment again (our ACK was lost): ACK, no delivery.
  auto out = sc.send(sc.peer.make(flag::kAck, start, sc.peer.stack_nxt, Peer::bytes("abc")));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (start + 3).raw());
  // An overlapping retransmission with new bytes: only "def" is new.
  out = sc.send(sc.peer.make(flag::kAck, start, sc.peer.stack_nxt, Peer::bytes("abcdef")));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (start + 6).raw());
  CHECK(std::string(sc.h.app.received.begin(), sc.h.app.received.end()) == "abcdef");
  CHECK(sc.h.app.count(K::kData) == 2);
}

// ---- FIN retransmissions and reclaim ------------------------------------------------------

void check_fin_give_up(Scenario& sc, uint8_t fin_retries, Duration rto_max) {
  const Seq fin_seq = sc.peer.stack_nxt - 1;
  const Instant start = sc.h.now;
  const auto log = run_clock(sc, start + Duration::s(600), Duration::ms(10));
  std::vector<Instant> fins;
  bool rst = false;
  for (const Timed& t : log) {
    INFO("at +" << (t.at - start).count_ms() << " ms: " << describe(t.seg));
    if (t.seg.has(flag::kRst)) {
      CHECK_FALSE(rst);
      rst = true;
      CHECK(t.seg.seg.seq.raw() == (fin_seq + 1).raw());
      continue;
    }
    CHECK_FALSE(rst);
    CHECK(t.seg.seg.flags == (flag::kFin | flag::kAck));
    CHECK(t.seg.seg.seq.raw() == (fin_seq).raw());
    fins.push_back(t.at);
  }
  CHECK(fins.size() == fin_retries);
  CHECK(rst);
  // Each interval doubles the previous one, up to rto_max.
  for (size_t i = 2; i < fins.size(); ++i) {
    const Duration prev = fins[i - 1] - fins[i - 2];
    const Duration cur = fins[i] - fins[i - 1];
    CHECK(cur.count_ms() == std::min(prev * 2, rto_max).count_ms());
  }
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kTimeout));
  sc.h.check_idle();
}

TEST_CASE("FIN-WAIT-1 whose FIN is never acknowledged is reclaimed after fin_retries",
          "[tcp][timers][fin_wait_1]") {
  StackConfig cfg = small_config();
  cfg.fin_retries = 8;
  cfg.orphan_retries = cfg.fin_retries;  // close() orphans it: the lower of the two applies
  cfg.rto_max = Duration::s(20);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kFinWait1);
  check_fin_give_up(sc, 8, cfg.rto_max);
}

TEST_CASE("LAST-ACK whose FIN is never acknowledged is reclaimed after fin_retries",
          "[tcp][timers][last_ack]") {
  StackConfig cfg = small_config();
  cfg.fin_retries = 3;
  cfg.orphan_retries = cfg.fin_retries;  // close() orphans it: the lower of the two applies
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kLastAck);
  check_fin_give_up(sc, 3, cfg.rto_max);
}

TEST_CASE("CLOSING whose FIN is never acknowledged is reclaimed after fin_retries",
          "[tcp][timers][closing]") {
  StackConfig cfg = small_config();
  cfg.fin_retries = 4;
  cfg.orphan_retries = cfg.fin_retries;  // close() orphans it: the lower of the two applies
  Scenario sc(plain_peer(), Origin::kActive, cfg);
  sc.to(State::kClosing);
  check_fin_give_up(sc, 4, cfg.rto_max);
}

TEST_CASE("an orphaned FIN-WAIT-2 is reclaimed after fin_wait2_timeout", "[tcp][timers][fin_wait_2]") {
  StackConfig cfg = small_config();
  cfg.fin_wait2_timeout = Duration::s(60);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kFinWait2);
  const Instant t0 = sc.h.now;
  const Seq snd_nxt = sc.peer.stack_nxt;
  sc.h.advance_to(t0 + Duration::s(60) - Duration::ms(1));
  CHECK(sc.collect().empty());
  CHECK(str(sc.state()) == str(State::kFinWait2));
  sc.h.advance_to(t0 + Duration::s(60));
  const auto out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kRst));
  CHECK(out[0].seg.seq.raw() == (snd_nxt).raw());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kFinWait2Timeout));
  sc.h.check_idle();
}

TEST_CASE("CLOSE-WAIT is reclaimed after close_wait_timeout when the app never closes",
          "[tcp][timers][close_wait]") {
  StackConfig cfg = small_config();
  cfg.close_wait_timeout = Duration::s(300);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kCloseWait);
  const Instant t0 = sc.h.now;
  const Seq snd_nxt = sc.peer.stack_nxt;
  sc.h.advance_to(t0 + Duration::s(300) - Duration::ms(1));
  CHECK(sc.collect().empty());
  CHECK(str(sc.state()) == str(State::kCloseWait));
  sc.h.advance_to(t0 + Duration::s(300));
  const auto out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kRst));
  CHECK(out[0].seg.seq.raw() == (snd_nxt).raw());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kCloseWaitTimeout));
  sc.h.check_idle();
}

TEST_CASE("close_wait_timeout 0 never reclaims CLOSE-WAIT", "[tcp][timers][close_wait]") {
  StackConfig cfg = small_config();
  cfg.close_wait_timeout = Duration{};
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kCloseWait);
  sc.h.advance_by(Duration::s(100000));
  CHECK(sc.collect().empty());
  CHECK(str(sc.state()) == str(State::kCloseWait));
  CHECK(sc.h.stack.timers_armed() == 0);
}

// ---- the connection's one timer: moved only when a deadline comes earlier -------------

// stack_timers.cpp arm_timer(): an ACK of new data restarts the RTO (RFC 6298
// §5.3) at a later deadline and leaves the timer where it was; it fires there
// early, sends nothing and is re-armed at the real deadline. A delayed ACK due
// before the RTO moves the timer earlier.
TEST_CASE("RFC 6298 §5.3: an RTO restarted by ACKs fires one RTO after the last ACK, never at the old deadline",
          "[tcp][timers][rto]") {
  Scenario sc(plain_peer(), Origin::kPassive, small_config());
  sc.to(State::kEstablished);
  const uint32_t rto_ms = sc.h.stack.info(sc.id)->rto_ms;
  REQUIRE(rto_ms >= 100);
  const Duration rto = Duration::ms(rto_ms);
  const Seq first = sc.h.stack.info(sc.id)->snd_una;
  const std::string data(3000, 'd');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(data)) == data.size());
  auto out = sc.collect();
  REQUIRE(out.size() == 3);  // 1460 + 1460 + 80
  CHECK(sc.h.stack.timers_armed() == 1);
  const Instant t0 = sc.h.now;

  // Half an RTO later the peer acknowledges the first segment: the RTO restarts.
  sc.h.advance_to(t0 + rto / 2);
  CHECK(sc.collect().empty());
  CHECK(sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, first + 1460)).empty());
  const Instant t1 = sc.h.now;
  CHECK(sc.h.stack.info(sc.id)->rtx_at == t1 + rto);

  // A small segment from the peer (acknowledging no more): its delayed ACK
  // (40 ms) comes before the RTO.
  SegmentIn q = sc.peer.data("q");
  q.ack = first + 1460;
  CHECK(sc.send(q).empty());
  CHECK(sc.h.stack.info(sc.id)->rtx_at == t1 + rto);
  sc.h.advance_to(t1 + sc.h.stack.config().delayed_ack - Duration::ms(1));
  CHECK(sc.collect().empty());
  sc.h.advance_to(t1 + sc.h.stack.config().delayed_ack);
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.empty());
  CHECK(out[0].seg.ack.raw() == sc.peer.nxt.raw());
  CHECK(sc.h.stack.counters().delayed_acks == 1);

  // The first deadline (t0 + RTO) passes without a retransmission.
  for (Instant t = t0 + rto - Duration::ms(2); t <= t0 + rto + Duration::ms(2); t = t + Duration::ms(1)) {
    sc.h.advance_to(t);
    CHECK(sc.collect().empty());
  }
  CHECK(sc.h.stack.timers_armed() == 1);
  CHECK(sc.h.stack.counters().rto_timeouts == 0);
  sc.h.advance_to(t1 + rto - Duration::ms(1));
  CHECK(sc.collect().empty());
  sc.h.advance_to(t1 + rto);
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.seq.raw() == (first + 1460).raw());
  CHECK(out[0].payload.size() == 1460);
  CHECK(sc.h.stack.counters().rto_timeouts == 1);

  // Everything acknowledged: no deadline left, no timer armed.
  CHECK(sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, first + 3000)).empty());
  CHECK(sc.h.stack.timers_armed() == 0);
  CHECK(sc.h.stack.info(sc.id)->rtx_at == Instant{});
  sc.h.advance_by(Duration::s(100));
  CHECK(sc.collect().empty());
  CHECK(sc.h.stack.counters().rto_timeouts == 1);
}

// ---- TIME-WAIT ----------------------------------------------------------------------

TEST_CASE("TIME-WAIT lasts time_wait, restarted by a retransmitted FIN", "[tcp][timers][time_wait]") {
  const bool ts = GENERATE(false, true);
  StackConfig cfg = small_config();
  cfg.time_wait = Duration::s(60);
  Scenario sc(ts ? full_peer() : plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kTimeWait);
  const Instant t0 = sc.h.now;
  CHECK(sc.h.stack.time_wait_count() == 1);
  CHECK(sc.h.stack.conn_count() == 0);
  CHECK(sc.h.stack.timers_armed() == 0);

  SECTION("expires after time_wait") {
    sc.h.advance_to(t0 + Duration::s(60) - Duration::ms(1));
    CHECK(str(sc.state()) == str(State::kTimeWait));
    sc.h.advance_to(t0 + Duration::s(60));
    CHECK(str(sc.state()) == str(State::kListen));
    CHECK(sc.collect().empty());
    sc.h.check_idle(0);
  }
  SECTION("a retransmitted FIN is acknowledged and restarts the 2 MSL timer") {
    sc.h.advance_to(t0 + Duration::s(30));
    const Seq fin_seq = sc.peer.nxt - 1;
    const auto out = sc.send(sc.peer.make(flag::kFin | flag::kAck, fin_seq, sc.peer.stack_nxt));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == flag::kAck);
    CHECK(out[0].seg.seq.raw() == (sc.peer.stack_nxt).raw());
    CHECK(out[0].seg.ack.raw() == (fin_seq + 1).raw());
    CHECK(out[0].seg.opts.has_timestamps == ts);
    sc.h.advance_to(t0 + Duration::s(90) - Duration::ms(1));
    CHECK(str(sc.state()) == str(State::kTimeWait));
    sc.h.advance_to(t0 + Duration::s(90));
    CHECK(str(sc.state()) == str(State::kListen));
    sc.h.check_idle(0);
  }
}

TEST_CASE("time_wait 0: the tuple is free as soon as the connection closed", "[tcp][timers][time_wait]") {
  // synmill-gen --no-time-wait (a client that reuses tuples at once, as dperf).
  StackConfig cfg = small_config();
  cfg.time_wait = Duration{};
  Scenario sc(plain_peer(), Origin::kActive, cfg);
  sc.to(State::kFinWait2);
  const auto out = sc.send(sc.peer.fin());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);  // the FIN is still acknowledged
  CHECK_FALSE(sc.has_tcb());
  CHECK(sc.h.stack.time_wait_count() == 0);
  CHECK(sc.h.stack.counters().time_wait_entered == 0);
  CHECK(sc.h.app.closed_reason() == CloseReason::kNormal);
  sc.h.check_idle(0);
  CHECK(sc.h.stack.connect(sc.peer.tuple, sc.h.app, sc.h.now).valid());  // the same tuple, at once
}

TEST_CASE("TIME-WAIT entries expire independently", "[tcp][timers][time_wait]") {
  Harness h;
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::vector<Peer> peers;
  for (uint16_t i = 0; i < 3; ++i) peers.emplace_back(passive_tuple(kPeerPort + i), Seq{1000u * i}, plain_peer());
  for (size_t i = 0; i < peers.size(); ++i) {
    Peer& p = peers[i];
    const ConnId id = open_passive(h, p);
    h.stack.close(id);
    p.observe(h.take());
    h.deliver(p.fin());  // acknowledges our FIN and brings the peer's: TIME-WAIT
    p.observe(h.take());
    REQUIRE(str(h.stack.state_of(p.tuple)) == str(State::kTimeWait));
    h.advance_by(Duration::s(10));
  }
  CHECK(h.stack.time_wait_count() == 3);
  // Entered at T0, T0+10 and T0+20; time_wait 60 s.
  h.advance_to(kT0 + Duration::s(60));
  CHECK(h.stack.time_wait_count() == 2);
  h.advance_to(kT0 + Duration::s(75));
  CHECK(h.stack.time_wait_count() == 1);
  h.advance_to(kT0 + Duration::s(80));
  h.check_idle(0);
}

}  // namespace
}  // namespace synmill::tcp::test
