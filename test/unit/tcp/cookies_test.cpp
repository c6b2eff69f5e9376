// SYN cookies through the Stack (syn_cookie.hpp has the layout and the attack
// analysis; test/unit/cookie tests SynCookies alone): no state for a SYN, the
// completing ACK validated and turned into a connection with its options
// restored, every tampered ACK answered <SEQ=SEG.ACK><CTL=RST>
// (RFC 9293 §3.10.7.2 second), and the three cookie modes.
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

// prf: the keyed PRF of the ISNs and cookies (keyed_prf.hpp); kSipHash forces
// the fallback that CPUs without AES-NI use.
StackConfig cookie_config(CookieMode m, PrfKind prf = PrfKind::kAuto) {
  StackConfig c = small_config();
  c.cookies = m;
  c.prf = prf;
  c.cookie_lifetime = Duration::s(64);
  return c;
}

// Sends the peer's SYN; checks the cookie SYN-ACK and that no state was kept.
Sent cookie_synack(Scenario& sc) {
  const auto out = sc.send(sc.peer.syn());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(out[0].seg.ack.raw() == (sc.peer.iss + 1).raw());
  CHECK(sc.h.stack.conn_count() == 0);
  CHECK(sc.h.stack.timers_armed() == 0);
  CHECK(str(sc.state()) == str(State::kListen));
  return out[0];
}

void check_rejected(Scenario& sc, const SegmentIn& ack, const std::vector<Sent>& out, uint64_t rejected) {
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kRst);
  CHECK(out[0].seg.seq.raw() == (ack.ack).raw());
  CHECK(out[0].seg.tuple == ack.tuple);
  CHECK(sc.h.stack.counters().cookies_rejected == rejected);
  CHECK(sc.h.stack.counters().cookies_validated == 0);
  CHECK(sc.h.stack.conn_count() == 0);
  CHECK(sc.h.app.count(K::kOpen) == 0);
}

TEST_CASE("cookies always: a SYN gets a SYN-ACK and no state; the valid ACK completes",
          "[tcp][cookies]") {
  const bool full = GENERATE(false, true);
  const PrfKind prf = GENERATE(PrfKind::kAuto, PrfKind::kSipHash);
  Scenario sc(full ? full_peer() : plain_peer(), Origin::kPassive, cookie_config(CookieMode::kAlways, prf));
  sc.to(State::kListen);
  const Sent synack = cookie_synack(sc);
  CHECK(sc.h.stack.counters().cookies_sent == 1);
  CHECK(synack.seg.window == 8192);  // never scaled in a SYN
  // Stateless: nothing is retransmitted.
  sc.h.advance_by(Duration::s(10));
  CHECK(sc.collect().empty());

  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kOpen) == 1);
  CHECK(sc.h.stack.counters().cookies_validated == 1);
  CHECK(sc.h.stack.conn_count() == 1);
  // It works as any connection: data both ways.
  const auto out = sc.send_data(sc.peer.data("ping"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(out[0].seg.seq.raw() == (synack.seg.seq + 1).raw());
  CHECK(sc.h.app.received.size() == 4);
}

struct Tamper {
  const char* what;
  int32_t ack_delta;     // SEG.ACK = cookie + 1 + delta
  int32_t seq_delta;     // SEG.SEQ = peer ISN + 1 + delta
  uint16_t port_delta;   // a different remote port
  int64_t age_ms;        // time between SYN-ACK and ACK
};

TEST_CASE("cookies: tampered, misdirected or expired ACKs are rejected with RST <SEQ=SEG.ACK>",
          "[tcp][cookies]") {
  const Tamper t = GENERATE(
      Tamper{"cookie-4", -4, 0, 0, 0}, Tamper{"cookie-3", -3, 0, 0, 0}, Tamper{"cookie-2", -2, 0, 0, 0},
      Tamper{"cookie-1", -1, 0, 0, 0}, Tamper{"cookie+1", 1, 0, 0, 0}, Tamper{"cookie+2", 2, 0, 0, 0},
      Tamper{"cookie+3", 3, 0, 0, 0}, Tamper{"cookie+4", 4, 0, 0, 0},
      Tamper{"other remote port", 0, 0, 1, 0}, Tamper{"peer ISN changed (+1)", 0, 1, 0, 0},
      Tamper{"peer ISN changed (-1)", 0, -1, 0, 0},
      Tamper{"two lifetimes later", 0, 0, 0, 128000}, Tamper{"three lifetimes later", 0, 0, 0, 192000},
      Tamper{"four lifetimes later (epoch bits alias)", 0, 0, 0, 256000});
  const bool full = GENERATE(false, true);
  const PrfKind prf = GENERATE(PrfKind::kAuto, PrfKind::kSipHash);
  INFO(t.what << (full ? ", timestamps" : ", no options") << (prf == PrfKind::kSipHash ? ", SipHash" : ""));
  Scenario sc(full ? full_peer() : plain_peer(), Origin::kPassive, cookie_config(CookieMode::kAlways, prf));
  sc.to(State::kListen);
  const Sent synack = cookie_synack(sc);
  if (t.age_ms > 0) sc.h.advance_by(Duration::ms(t.age_ms));
  SegmentIn ack = sc.peer.make(flag::kAck, sc.peer.iss + 1 + static_cast<uint32_t>(t.seq_delta),
                               synack.seg.seq + 1 + static_cast<uint32_t>(t.ack_delta));
  ack.tuple.remote_port = static_cast<uint16_t>(ack.tuple.remote_port + t.port_delta);
  const auto out = sc.send(ack);
  check_rejected(sc, ack, out, 1);
  CHECK(str(sc.state()) == str(State::kListen));
}

TEST_CASE("cookies: valid for at least one and at most two lifetimes", "[tcp][cookies]") {
  const int64_t age_ms = GENERATE(int64_t{0}, int64_t{63999}, int64_t{64000}, int64_t{127999});
  INFO("ACK " << age_ms << " ms after the SYN-ACK (SYN at the start of an epoch)");
  Scenario sc(plain_peer(), Origin::kPassive, cookie_config(CookieMode::kAlways));
  sc.to(State::kListen);
  cookie_synack(sc);
  sc.h.advance_by(Duration::ms(age_ms));
  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
}

TEST_CASE("cookies: MSS, window scale, SACK and timestamps restored from the cookie", "[tcp][cookies]") {
  PeerOptions po = full_peer();
  po.mss_value = 1400;  // a table entry: restored exactly
  po.wscale_value = 5;
  Scenario sc(po, Origin::kPassive, cookie_config(CookieMode::kAlways));
  sc.to(State::kListen);
  const Sent synack = cookie_synack(sc);
  CHECK(synack.seg.opts.has_mss);
  CHECK(synack.seg.opts.mss == 1460);
  CHECK(synack.seg.opts.has_wscale);
  CHECK(synack.seg.opts.wscale == 7);
  CHECK(synack.seg.opts.sack_permitted);
  CHECK(synack.seg.opts.has_timestamps);
  CHECK(synack.seg.opts.ts_ecr == sc.peer.ts_clock - 1);

  // Complete with a window field of 10: with the peer's shift 5, 320 bytes.
  sc.peer.opts.window = 10;
  CHECK(sc.send(sc.peer.ack()).empty());
  const ConnId id = sc.h.app.last_open;
  REQUIRE(sc.h.stack.alive(id));
  CHECK(sc.h.stack.info(id)->snd_wnd == 320);
  std::vector<uint8_t> data(20000, 0x42);
  REQUIRE(sc.h.stack.send(id, data) == data.size());
  auto out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == 320);
  CHECK(out[0].seg.window == 8192 >> 7);  // our own shift is in use
  CHECK(out[0].seg.opts.has_timestamps);
  CHECK(out[0].seg.opts.ts_ecr == sc.peer.ts_clock - 1);

  // A wider window: segments are cut at the restored MSS minus the
  // timestamp option (1400 - 12).
  sc.peer.opts.window = 2000;  // 64000 bytes
  out = sc.send(sc.peer.ack());
  REQUIRE(out.size() > 1);
  size_t largest = 0;
  for (const Sent& s : out) largest = std::max(largest, s.payload.size());
  CHECK(largest == 1400 - 12);
}

TEST_CASE("cookies: without timestamps, no window scale / SACK offered; MSS 536 when absent",
          "[tcp][cookies]") {
  StackConfig cfg = cookie_config(CookieMode::kAlways);
  cfg.rcv_wnd = 256 * 1024;
  PeerOptions po = plain_peer();
  po.mss = false;
  po.wscale = true;  // offered, but cannot be remembered without timestamps
  po.sack = true;
  Scenario sc(po, Origin::kPassive, cfg);
  sc.to(State::kListen);
  const Sent synack = cookie_synack(sc);
  CHECK_FALSE(synack.seg.opts.has_wscale);
  CHECK_FALSE(synack.seg.opts.sack_permitted);
  CHECK_FALSE(synack.seg.opts.has_timestamps);
  sc.peer.opts.window = 30000;
  CHECK(sc.send(sc.peer.ack()).empty());
  const ConnId id = sc.h.app.last_open;
  CHECK(sc.h.stack.info(id)->snd_wnd == 30000);  // unscaled
  std::vector<uint8_t> data(5000, 1);
  sc.h.stack.send(id, data);
  const auto out = sc.collect();
  REQUIRE_FALSE(out.empty());
  size_t largest = 0;
  for (const Sent& s : out) {
    largest = std::max(largest, s.payload.size());
    CHECK(s.seg.window == 65535);  // unscaled
  }
  CHECK(largest == 536);
}

TEST_CASE("cookies: data and FIN on the completing ACK are kept", "[tcp][cookies]") {
  const bool full = GENERATE(false, true);
  const bool with_fin = GENERATE(false, true);
  Scenario sc(full ? full_peer() : plain_peer(), Origin::kPassive, cookie_config(CookieMode::kAlways));
  sc.to(State::kListen);
  cookie_synack(sc);
  const Seq seq = sc.peer.nxt;
  const uint8_t f = flag::kAck | flag::kPsh | (with_fin ? flag::kFin : 0);
  const auto out = sc.send(sc.peer.make(f, seq, sc.peer.stack_nxt, Peer::bytes("hello")));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.ack.raw() == (seq + 5 + (with_fin ? 1u : 0u)).raw());
  CHECK(std::string(sc.h.app.received.begin(), sc.h.app.received.end()) == "hello");
  REQUIRE(sc.h.app.events.size() >= 2);
  CHECK(sc.h.app.events[0].kind == K::kOpen);
  CHECK(sc.h.app.events[1].kind == K::kData);
  CHECK(str(sc.state()) == str(with_fin ? State::kCloseWait : State::kEstablished));
  CHECK(sc.h.app.count(K::kPeerClose) == (with_fin ? 1u : 0u));
}

TEST_CASE("cookies: a replayed completing ACK does not create a second connection", "[tcp][cookies]") {
  Scenario sc(plain_peer(), Origin::kPassive, cookie_config(CookieMode::kAlways));
  sc.to(State::kListen);
  cookie_synack(sc);
  const SegmentIn ack = sc.peer.ack();
  CHECK(sc.send(ack).empty());
  REQUIRE(str(sc.state()) == str(State::kEstablished));
  sc.send(ack);
  CHECK(sc.h.stack.conn_count() == 1);
  CHECK(sc.h.app.count(K::kOpen) == 1);
  // Even after the connection moved on.
  sc.send(sc.peer.data("abc"));
  sc.send(ack);
  CHECK(sc.h.stack.conn_count() == 1);
  CHECK(sc.h.app.count(K::kOpen) == 1);
  CHECK(sc.h.stack.counters().cookies_validated == 1);
  CHECK(sc.h.stack.counters().passive_opens == 1);
  CHECK(str(sc.state()) == str(State::kEstablished));
}

TEST_CASE("cookies on overflow: only once the backlog is full", "[tcp][cookies]") {
  StackConfig cfg = cookie_config(CookieMode::kOverflow);
  cfg.backlog = 2;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::vector<Peer> peers;
  for (uint16_t i = 0; i < 4; ++i)
    peers.emplace_back(passive_tuple(static_cast<uint16_t>(kPeerPort + i)), Seq{0x1000u + 0x100000u * i},
                       plain_peer());
  for (size_t i = 0; i < peers.size(); ++i) {
    h.deliver(peers[i].syn());
    const auto out = h.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
    peers[i].observe(out);
    const bool cookie = i >= 2;
    INFO("SYN " << i);
    CHECK(h.stack.counters().cookies_sent == (cookie ? i - 1 : 0));
    CHECK(h.stack.conn_count() == (cookie ? 2u : i + 1));
  }
  // Everyone completes: two from the backlog, two from cookies.
  for (Peer& p : peers) {
    h.deliver(p.ack());
    CHECK(h.take().empty());
    CHECK(str(h.stack.state_of(p.tuple)) == str(State::kEstablished));
  }
  CHECK(h.stack.conn_count() == 4);
  CHECK(h.stack.counters().cookies_validated == 2);
  CHECK(h.app.count(K::kOpen) == 4);
}

TEST_CASE("cookies off: a full backlog drops the SYN and counts it", "[tcp][cookies]") {
  StackConfig cfg = cookie_config(CookieMode::kOff);
  cfg.backlog = 1;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Peer a(passive_tuple(kPeerPort), kPeerIss, plain_peer());
  Peer b(passive_tuple(kPeerPort + 1), kPeerIss, plain_peer());
  h.deliver(a.syn());
  a.observe(h.take());
  h.deliver(b.syn());
  CHECK(h.take().empty());
  CHECK(h.stack.counters().drop.backlog_full == 1);
  CHECK(h.stack.counters().cookies_sent == 0);
  CHECK(h.stack.conn_count() == 1);
  // A bare ACK is not taken for a cookie: RST <SEQ=SEG.ACK>.
  const SegmentIn stray = b.make(flag::kAck, b.iss + 1, Seq{0x12345678});
  h.deliver(stray);
  const auto out = h.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kRst);
  CHECK(out[0].seg.seq.raw() == (Seq{0x12345678}).raw());
  CHECK(h.stack.counters().cookies_rejected == 0);
  // Once a's handshake completes the slot frees up.
  h.deliver(a.ack());
  CHECK(h.take().empty());
  h.deliver(b.syn());
  CHECK(h.take().size() == 1);
  CHECK(h.stack.conn_count() == 2);
}

}  // namespace
}  // namespace synmill::tcp::test
