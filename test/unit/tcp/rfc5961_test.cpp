// RFC 5961 beyond the matrix: the ACK acceptability range of §5.2, the
// challenge-ACK rate limit of §7 (per connection here, so that no counter is
// shared between connections: CVE-2016-5696), and SYN-RECEIVED's reset for an
// unacceptable ACK (RFC 9293 §3.10.7.4 fifth).
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

void check_challenge_ack(const std::vector<Sent>& out, const Peer& p, Seq snd_nxt, Seq rcv_nxt) {
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.seq.raw() == (snd_nxt).raw());
  CHECK(out[0].seg.ack.raw() == (rcv_nxt).raw());
  CHECK(out[0].payload.empty());
  CHECK(out[0].seg.tuple == p.tuple);
}

TEST_CASE("RFC 5961 §5.2: an ACK above SND.NXT is answered with an ACK and dropped",
          "[tcp][rfc5961][ack]") {
  const State s = GENERATE(State::kEstablished, State::kFinWait1, State::kFinWait2,
                           State::kCloseWait, State::kClosing, State::kLastAck);
  const uint8_t f = GENERATE(uint8_t{flag::kAck}, uint8_t{flag::kAck | flag::kPsh},
                             uint8_t{flag::kAck | flag::kFin});
  const uint32_t beyond = GENERATE(1u, 1000u, 0x10000u);
  Scenario sc;
  sc.to(s);
  INFO("state " << to_string(s) << ", flags " << flags_str(f) << ", SEG.ACK = SND.NXT + " << beyond);
  const Seq snd_nxt = sc.peer.stack_nxt;
  const Seq rcv_nxt = sc.peer.stack_ack;
  const uint64_t before = sc.h.stack.counters().drop.ack_unacceptable;
  const auto out = sc.send(sc.peer.make(f, rcv_nxt, snd_nxt + beyond,
                                        (f & flag::kPsh) ? Peer::bytes("abc")
                                                         : std::span<const uint8_t>{}));
  check_challenge_ack(out, sc.peer, snd_nxt, rcv_nxt);
  CHECK(str(sc.state()) == str(s));  // no FIN acknowledged, no FIN taken, no data taken
  CHECK(sc.h.app.received.empty());
  CHECK(sc.h.stack.counters().drop.ack_unacceptable == before + 1);
}

TEST_CASE("RFC 5961 §5.2: acceptable ACKs span [SND.UNA - MAX.SND.WND, SND.NXT]",
          "[tcp][rfc5961][ack]") {
  // The peer offers an unscaled 65535 window: MAX.SND.WND = 65535.
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq una = sc.peer.stack_nxt;  // nothing outstanding: SND.UNA = SND.NXT
  SECTION("SEG.ACK = SND.UNA - MAX.SND.WND is acceptable: the data is taken") {
    const auto out = sc.send_data(sc.peer.make(flag::kAck, sc.peer.nxt, una - 65535, Peer::bytes("hi")));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.ack.raw() == (sc.peer.nxt + 2).raw());
    CHECK(sc.h.app.received.size() == 2);
  }
  SECTION("SEG.ACK = SND.UNA - MAX.SND.WND - 1 is too old: ACK, drop") {
    const auto out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, una - 65536, Peer::bytes("hi")));
    check_challenge_ack(out, sc.peer, una, sc.peer.nxt);
    CHECK(sc.h.app.received.empty());
    CHECK(sc.h.stack.counters().drop.ack_too_old == 1);
  }
  CHECK(str(sc.state()) == str(State::kEstablished));
}

TEST_CASE("RFC 9293 §3.10.7.4: SYN-RECEIVED answers an unacceptable ACK with <SEQ=SEG.ACK><CTL=RST>",
          "[tcp][rfc5961][syn_rcvd]") {
  const int32_t delta = GENERATE(-1000, -1, 1, 2, 1000);  // SEG.ACK = ISS + 1 + delta
  Scenario sc;
  sc.to(State::kSynRcvd);
  const Seq ack = sc.peer.stack_iss + 1 + static_cast<uint32_t>(delta);
  INFO("SEG.ACK = ISS+1" << (delta >= 0 ? "+" : "") << delta);
  const auto out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, ack));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kRst);
  CHECK(out[0].seg.seq.raw() == (ack).raw());
  // The half-open connection stays and completes with the right ACK.
  CHECK(str(sc.state()) == str(State::kSynRcvd));
  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(RecordingApp::Kind::kOpen) == 1);
}

TEST_CASE("RFC 5961 §7: challenge ACKs are rate limited per connection", "[tcp][rfc5961][challenge]") {
  StackConfig cfg = small_config();
  cfg.challenge_acks_per_sec = 10;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  const Seq in_window_not_exact = sc.peer.stack_ack + 1;

  // Three triggers share the one limit: an in-window RST that is not exact,
  // a SYN in a synchronized state, an ACK above SND.NXT.
  const auto trigger = [&](int i) {
    switch (i % 3) {
      case 0: return sc.peer.make(flag::kRst, in_window_not_exact, Seq{});
      case 1: return sc.peer.make(flag::kSyn, sc.peer.stack_ack + 5, Seq{});
      default: return sc.peer.make(flag::kAck, sc.peer.stack_ack, sc.peer.stack_nxt + 7);
    }
  };
  int answered = 0;
  for (int i = 0; i < 15; ++i) {
    const auto out = sc.send(trigger(i));
    if (!out.empty()) {
      check_challenge_ack(out, sc.peer, sc.peer.stack_nxt, sc.peer.stack_ack);
      ++answered;
    }
  }
  CHECK(answered == 10);
  CHECK(sc.h.stack.counters().challenge_acks == 10);
  CHECK(sc.h.stack.counters().drop.challenge_ack_limit == 5);
  CHECK(str(sc.state()) == str(State::kEstablished));

  // Still the same second: suppressed. The next second: answered again.
  sc.h.advance_by(Duration::ms(999));
  CHECK(sc.send(trigger(0)).empty());
  sc.h.advance_by(Duration::ms(1));
  CHECK(sc.send(trigger(0)).size() == 1);
  // The exact RST still resets: the limit never blocks a legitimate reset.
  for (int i = 0; i < 20; ++i) sc.send(trigger(0));
  CHECK(sc.send(sc.peer.make(flag::kRst, sc.peer.stack_ack, Seq{})).empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kReset));
}

TEST_CASE("RFC 5961 §7: two connections do not share a challenge-ACK counter",
          "[tcp][rfc5961][challenge]") {
  StackConfig cfg = small_config();
  cfg.challenge_acks_per_sec = 10;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Peer a(passive_tuple(kPeerPort), kPeerIss, plain_peer());
  Peer b(passive_tuple(kPeerPort + 1), Seq{0x7000}, plain_peer());
  open_passive(h, a);
  open_passive(h, b);

  // Exhaust A's budget.
  int answered_a = 0;
  for (int i = 0; i < 12; ++i) {
    h.deliver(a.make(flag::kRst, a.stack_ack + 1, Seq{}));
    answered_a += static_cast<int>(h.take().size());
  }
  CHECK(answered_a == 10);
  // B is unaffected, and an attacker probing through B learns nothing about A.
  for (int i = 0; i < 10; ++i) {
    h.deliver(b.make(flag::kRst, b.stack_ack + 1, Seq{}));
    const auto out = h.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.tuple == b.tuple);
    CHECK(out[0].seg.ack.raw() == (b.stack_ack).raw());
  }
  h.deliver(a.make(flag::kRst, a.stack_ack + 1, Seq{}));
  CHECK(h.take().empty());
  CHECK(str(h.stack.state_of(a.tuple)) == str(State::kEstablished));
  CHECK(str(h.stack.state_of(b.tuple)) == str(State::kEstablished));
}

TEST_CASE("RFC 5961 §3.2: an RST with any ACK field resets when SEG.SEQ = RCV.NXT",
          "[tcp][rfc5961][rst]") {
  const State s = GENERATE(State::kEstablished, State::kFinWait1, State::kFinWait2,
                           State::kCloseWait, State::kClosing, State::kLastAck);
  const uint32_t ack_offset = GENERATE(0u, 12345u, 0x80000000u);
  Scenario sc;
  sc.to(s);
  INFO("state " << to_string(s));
  const auto out =
      sc.send(sc.peer.make(flag::kRst | flag::kAck, sc.peer.stack_ack, sc.peer.stack_nxt + ack_offset));
  CHECK(out.empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kReset));
  sc.h.check_idle();
}

}  // namespace
}  // namespace synmill::tcp::test
