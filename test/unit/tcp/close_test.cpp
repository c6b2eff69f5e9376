// Opening and closing paths beyond the matrix: simultaneous open and close,
// the CLOSE call in each state (RFC 9293 §3.10.4), data after close (RFC 1122
// §4.2.2.13), ABORT (§3.10.5), TIME-WAIT reuse (RFC 6191) and RSTs in
// TIME-WAIT (RFC 1337).
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

// ---- simultaneous close ----------------------------------------------------------------

TEST_CASE("RFC 9293 §3.6: simultaneous close goes FIN-WAIT-1 -> CLOSING -> TIME-WAIT",
          "[tcp][close][simultaneous]") {
  const Origin origin = GENERATE(Origin::kPassive, Origin::kActive);
  const bool full = GENERATE(false, true);
  const bool half = GENERATE(false, true);  // shutdown() instead of close()
  INFO((origin == Origin::kActive ? "active" : "passive") << (full ? ", timestamps" : "")
                                                          << (half ? ", shutdown()" : ", close()"));
  Scenario sc(full ? full_peer() : plain_peer(), origin);
  sc.to(State::kEstablished);
  const bool called = half ? sc.h.stack.shutdown(sc.id) : sc.h.stack.close(sc.id);
  REQUIRE(called);
  const auto fin = sc.collect();
  REQUIRE(fin.size() == 1);
  CHECK(fin[0].seg.flags == (flag::kFin | flag::kAck));
  CHECK(fin[0].seg.seq.raw() == (sc.peer.stack_iss + 1).raw());
  CHECK(str(sc.state()) == str(State::kFinWait1));

  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  const SegmentIn peer_fin = sc.peer.make(flag::kFin | flag::kAck, sc.peer.nxt, sc.peer.stack_iss + 1);
  sc.peer.nxt += 1;
  const auto ack = sc.send(peer_fin);
  REQUIRE(ack.size() == 1);
  CHECK(ack[0].seg.flags == flag::kAck);
  CHECK(ack[0].seg.seq.raw() == (sc.peer.stack_iss + 2).raw());
  CHECK(ack[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(str(sc.state()) == str(State::kClosing));
  CHECK(sc.h.app.count(K::kPeerClose) == (half ? 1u : 0u));  // an orphan hears nothing more

  // Now the ACK of our FIN: TIME-WAIT, nothing sent.
  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK(str(sc.state()) == str(State::kTimeWait));
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kNormal));
  CHECK(sc.h.stack.counters().time_wait_entered == 1);
  sc.h.check_idle(1);
}

// ---- simultaneous open -----------------------------------------------------------------

TEST_CASE("RFC 9293 §3.5: simultaneous open, SYN-SENT -> SYN-RECEIVED -> ESTABLISHED",
          "[tcp][open][simultaneous]") {
  const bool full = GENERATE(false, true);
  Scenario sc(full ? full_peer() : plain_peer(), Origin::kActive);
  sc.to(State::kSynSent);
  const Seq iss = sc.peer.stack_iss;
  const auto synack = sc.send(sc.peer.syn());
  REQUIRE(synack.size() == 1);
  CHECK(synack[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(synack[0].seg.seq.raw() == (iss).raw());  // the same ISS, RFC 9293 §3.10.7.3
  CHECK(synack[0].seg.ack.raw() == (sc.peer.iss + 1).raw());
  CHECK(str(sc.state()) == str(State::kSynRcvd));
  CHECK(sc.h.app.count(K::kOpen) == 0);
  // The peer (also in SYN-RECEIVED) acknowledges our SYN.
  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kOpen) == 1);
  const auto out = sc.send_data(sc.peer.data("hi"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
}

// RFC 9293 Figure 8, line 6: in SYN-RECEIVED after a simultaneous open, the
// peer's SYN-ACK <SEQ=IRS><ACK=ISS+1> moves the connection to ESTABLISHED.
// (Linux accepts it the same way, tcp_validate_incoming's RFC 5961 exception;
// the stack does so before the acceptability test, lib/tcp/stack_input.cpp.)
TEST_CASE("RFC 9293 Figure 8: the peer's SYN-ACK completes a simultaneous open",
          "[tcp][open][simultaneous]") {
  Scenario sc(plain_peer(), Origin::kActive);
  sc.to(State::kSynSent);
  sc.send(sc.peer.syn());
  REQUIRE(str(sc.state()) == str(State::kSynRcvd));
  const auto out = sc.send(sc.peer.make(flag::kSyn | flag::kAck, sc.peer.iss, sc.peer.stack_iss + 1));
  INFO("sent " << describe(out));
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kOpen) == 1);
}

TEST_CASE("RFC 9293 §3.10.7.4: SYN-RECEIVED from an active open", "[tcp][open][simultaneous]") {
  Scenario sc(plain_peer(), Origin::kActive);
  sc.to(State::kSynRcvd);
  SECTION("an RST at RCV.NXT refuses the connection") {
    CHECK(sc.send(sc.peer.make(flag::kRst, sc.peer.nxt, Seq{})).empty());
    CHECK_FALSE(sc.has_tcb());
    CHECK(str(sc.state()) == str(State::kClosed));
    CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kRefused));
    sc.h.check_idle();
  }
  SECTION("a SYN in the window gets a challenge ACK (synchronized-state rule)") {
    const auto out = sc.send(sc.peer.make(flag::kSyn, sc.peer.nxt + 10, Seq{}));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == flag::kAck);
    CHECK(out[0].seg.seq.raw() == (sc.peer.stack_iss + 1).raw());
    CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
    CHECK(str(sc.state()) == str(State::kSynRcvd));
  }
}

// ---- the CLOSE call ------------------------------------------------------------------

TEST_CASE("RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB without a segment",
          "[tcp][close][call]") {
  Scenario sc(plain_peer(), Origin::kActive);
  sc.to(State::kSynSent);
  CHECK(sc.h.stack.close(sc.id));
  CHECK(sc.collect().empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(sc.h.app.count(K::kClosed) == 1);
  sc.h.check_idle();
}

// RFC 9293 §3.10.4, SYN-RECEIVED: "If no SENDs have been issued and there is no
// pending data to send, then form a FIN segment and send it, and enter
// FIN-WAIT-1 state". The stack defers the FIN until the handshake completes.
TEST_CASE("RFC 9293 §3.10.4: CLOSE in SYN-RECEIVED sends a FIN at once",
          "[tcp][close][call][!mayfail]") {
  Scenario sc(plain_peer(), Origin::kActive);
  sc.to(State::kSynRcvd);
  CHECK(sc.h.stack.close(sc.id));
  const auto out = sc.collect();
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kFin));
  CHECK(out[0].seg.seq.raw() == (sc.peer.stack_iss + 1).raw());
  CHECK(str(sc.state()) == str(State::kFinWait1));
}

TEST_CASE("CLOSE in SYN-RECEIVED: the FIN follows once the handshake completes",
          "[tcp][close][call]") {
  Scenario sc(plain_peer(), Origin::kActive);
  sc.to(State::kSynRcvd);
  CHECK(sc.h.stack.close(sc.id));
  sc.collect();
  // Whether the FIN went out already or goes out now, the peer's ACK of our
  // SYN ends in FIN-WAIT-1 with our FIN at ISS+1 sent exactly once.
  const auto out = sc.send(sc.peer.ack());
  CHECK(str(sc.state()) == str(State::kFinWait1));
  CHECK(sc.peer.stack_nxt.raw() == (sc.peer.stack_iss + 2).raw());
  for (const Sent& s : out) CHECK(s.seg.seq.raw() == (sc.peer.stack_iss + 1).raw());
}

TEST_CASE("CLOSE with queued data: the FIN follows the last byte", "[tcp][close][call]") {
  Scenario sc;
  sc.to(State::kEstablished);
  std::vector<uint8_t> data(3000, 0x5a);
  REQUIRE(sc.h.stack.send(sc.id, data) == 3000);
  REQUIRE(sc.h.stack.close(sc.id));
  const auto out = sc.collect();
  REQUIRE_FALSE(out.empty());
  size_t bytes = 0;
  for (const Sent& s : out) bytes += s.payload.size();
  CHECK(bytes == 3000);
  CHECK(out.back().has(flag::kFin));
  CHECK(out.back().end().raw() == (sc.peer.stack_iss + 1 + 3000 + 1).raw());
  for (size_t i = 0; i + 1 < out.size(); ++i) CHECK_FALSE(out[i].has(flag::kFin));
  CHECK(sc.h.stack.send(sc.id, data) == 0);  // no SEND after CLOSE
}

TEST_CASE("RFC 9293 §3.10.5: ABORT sends RST <SEQ=SND.NXT> and frees everything",
          "[tcp][close][abort]") {
  const State s = GENERATE(State::kEstablished, State::kFinWait1, State::kCloseWait);
  Scenario sc;
  sc.to(s);
  std::vector<uint8_t> data(100, 1);
  sc.h.stack.send(sc.id, data);
  sc.collect();
  const Seq snd_nxt = sc.peer.stack_nxt;
  CHECK(sc.h.stack.abort(sc.id));
  const auto out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kRst));
  CHECK(out[0].seg.seq.raw() == (snd_nxt).raw());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kAborted));
  CHECK_FALSE(sc.h.stack.alive(sc.id));
  sc.h.check_idle();
}

// ---- data after close ------------------------------------------------------------------

TEST_CASE("RFC 1122 §4.2.2.13: data arriving after close() gets an RST", "[tcp][close][rst]") {
  const bool fin_acked = GENERATE(false, true);  // FIN-WAIT-1 or FIN-WAIT-2
  Scenario sc;
  sc.to(fin_acked ? State::kFinWait2 : State::kFinWait1);
  const Seq snd_nxt = sc.peer.stack_nxt;
  const Seq ack = fin_acked ? snd_nxt : snd_nxt - 1;
  const auto out =
      sc.send(sc.peer.make(flag::kAck | flag::kPsh, sc.peer.nxt, ack, Peer::bytes("late")));
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kRst));
  CHECK(out[0].seg.seq.raw() == (snd_nxt).raw());
  CHECK_FALSE(sc.has_tcb());
  CHECK(sc.h.app.received.empty());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kDataAfterClose));
  CHECK(sc.h.stack.counters().drop.data_after_close == 1);
  sc.h.check_idle();
}

TEST_CASE("half close: after shutdown() data keeps arriving in FIN-WAIT-1/2", "[tcp][close][half]") {
  Scenario sc;
  sc.to(State::kEstablished);
  REQUIRE(sc.h.stack.shutdown(sc.id));
  sc.collect();
  CHECK(str(sc.state()) == str(State::kFinWait1));
  auto out = sc.send_data(sc.peer.data("one"));  // also acknowledges our FIN
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(str(sc.state()) == str(State::kFinWait2));
  out = sc.send_data(sc.peer.data("two"));
  REQUIRE(out.size() == 1);
  CHECK(std::string(sc.h.app.received.begin(), sc.h.app.received.end()) == "onetwo");
  // A half-closed FIN-WAIT-2 is not orphaned: no reclaim timer.
  sc.h.advance_by(Duration::s(3600));
  CHECK(str(sc.state()) == str(State::kFinWait2));
  out = sc.send(sc.peer.fin());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(str(sc.state()) == str(State::kTimeWait));
  CHECK(sc.h.app.count(K::kPeerClose) == 1);
}

TEST_CASE("close() from on_peer_close: CLOSE-WAIT -> LAST-ACK -> CLOSED", "[tcp][close][call]") {
  Scenario sc;
  sc.h.app.on_peer_close_action = RecordingApp::Action::kClose;
  sc.to(State::kEstablished);
  const auto out = sc.send(sc.peer.fin());
  // One segment: the ACK of the peer's FIN rides on our FIN.
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kFin | flag::kAck));
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(str(sc.state()) == str(State::kLastAck));
  CHECK(sc.send(sc.peer.ack()).empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kNormal));
  sc.h.check_idle(0);
}

// ---- TIME-WAIT reuse, RFC 6191 ---------------------------------------------------------

TEST_CASE("RFC 6191: a SYN with a newer timestamp reopens a TIME-WAIT tuple", "[tcp][time_wait][rfc6191]") {
  Scenario sc(full_peer());
  sc.to(State::kTimeWait);
  const Seq old_snd_nxt = sc.peer.stack_nxt;
  // The new incarnation's ISS may even be below the old RCV.NXT: the
  // timestamp decides.
  PeerOptions po = full_peer();
  po.ts_start = sc.peer.ts_clock + 10;
  Peer fresh(sc.peer.tuple, sc.peer.stack_ack - 5000, po);
  sc.h.deliver(fresh.syn());
  const auto out = sc.h.take();
  fresh.observe(out);
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(out[0].seg.ack.raw() == (fresh.iss + 1).raw());
  CHECK((out[0].seg.seq - old_snd_nxt) > 0);  // RFC 1122 §4.2.2.13 (1)
  CHECK(sc.h.stack.time_wait_count() == 0);
  CHECK(str(sc.state()) == str(State::kSynRcvd));
  CHECK(sc.h.stack.counters().time_wait_reused == 1);
  sc.h.deliver(fresh.ack());
  CHECK(sc.h.take().empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kOpen) == 2);
}

TEST_CASE("RFC 6191 / RFC 5961 §4: an old SYN in TIME-WAIT gets an ACK and is dropped",
          "[tcp][time_wait][rfc6191]") {
  const bool with_ts = GENERATE(false, true);
  Scenario sc(with_ts ? full_peer() : plain_peer());
  sc.to(State::kTimeWait);
  SegmentIn syn = sc.peer.make(flag::kSyn, sc.peer.stack_ack - 1000, Seq{});
  if (with_ts) syn.opts.ts_val = sc.peer.ts_clock - 10;  // older than TS.Recent
  const auto out = sc.send(syn);
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.seq.raw() == (sc.peer.stack_nxt).raw());
  CHECK(out[0].seg.ack.raw() == (sc.peer.stack_ack).raw());
  CHECK(out[0].seg.window == (with_ts ? 8192 >> 7 : 8192));
  CHECK(str(sc.state()) == str(State::kTimeWait));
  CHECK(sc.h.stack.counters().drop.time_wait_syn_old == 1);
  CHECK(sc.h.stack.conn_count() == 0);
}

TEST_CASE("RFC 6191 §2: without timestamps in the new SYN, the sequence number decides",
          "[tcp][time_wait][rfc6191]") {
  Scenario sc(full_peer());
  sc.to(State::kTimeWait);
  SECTION("above the old RCV.NXT: reopened") {
    SegmentIn syn = sc.peer.make(flag::kSyn, sc.peer.stack_ack + 100000, Seq{});
    syn.opts.has_timestamps = false;
    const auto out = sc.send(syn);
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
    CHECK(str(sc.state()) == str(State::kSynRcvd));
  }
  SECTION("below it: ACK, stays") {
    SegmentIn syn = sc.peer.make(flag::kSyn, sc.peer.stack_ack - 100000, Seq{});
    syn.opts.has_timestamps = false;
    const auto out = sc.send(syn);
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == flag::kAck);
    CHECK(str(sc.state()) == str(State::kTimeWait));
  }
}

// RFC 6191 §2: "If TCP Timestamps would be enabled for the new incarnation of
// the connection, the timestamp contained in the incoming SYN segment is equal
// to the last timestamp seen on the previous incarnation of the connection ...,
// and the Sequence Number of the incoming SYN segment is greater than the last
// sequence number seen on the previous incarnation ..., honor the connection
// request".
TEST_CASE("RFC 6191 §2: equal timestamp and a higher sequence number reopen TIME-WAIT",
          "[tcp][time_wait][rfc6191]") {
  Scenario sc(full_peer());
  sc.to(State::kTimeWait);
  SegmentIn syn = sc.peer.make(flag::kSyn, sc.peer.stack_ack + 100000, Seq{});
  syn.opts.ts_val = sc.peer.ts_clock - 2;  // the TSval of the peer's FIN = TS.Recent
  const auto out = sc.send(syn);
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(str(sc.state()) == str(State::kSynRcvd));
}

TEST_CASE("TIME-WAIT without a listener: a new SYN cannot reopen, ACK", "[tcp][time_wait][rfc6191]") {
  Scenario sc(full_peer(), Origin::kActive);
  sc.to(State::kTimeWait);
  const auto out = sc.send(sc.peer.make(flag::kSyn, sc.peer.stack_ack + 100000, Seq{}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(str(sc.state()) == str(State::kTimeWait));
}

// ---- RSTs in TIME-WAIT, RFC 1337 -------------------------------------------------------

TEST_CASE("RFC 1337: RSTs in TIME-WAIT are ignored by default", "[tcp][time_wait][rfc1337]") {
  const uint8_t f = GENERATE(uint8_t{flag::kRst}, uint8_t{flag::kRst | flag::kAck});
  const int32_t off = GENERATE(-1, 0, 1, 8192);
  Scenario sc(plain_peer());
  sc.to(State::kTimeWait);
  INFO(flags_str(f) << " at RCV.NXT" << (off >= 0 ? "+" : "") << off);
  CHECK(sc.send(sc.peer.make(f, sc.peer.stack_ack + static_cast<uint32_t>(off), sc.peer.stack_nxt)).empty());
  CHECK(str(sc.state()) == str(State::kTimeWait));
  CHECK(sc.h.stack.time_wait_count() == 1);
}

TEST_CASE("TimeWaitRstPolicy::kClose: an RST at RCV.NXT ends TIME-WAIT (RFC 9293 §3.10.7.4)",
          "[tcp][time_wait][rfc1337]") {
  StackConfig cfg = small_config();
  cfg.time_wait_rst = TimeWaitRstPolicy::kClose;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kTimeWait);
  SECTION("exactly RCV.NXT: closed") {
    CHECK(sc.send(sc.peer.make(flag::kRst, sc.peer.stack_ack, Seq{})).empty());
    CHECK(str(sc.state()) == str(State::kListen));
    sc.h.check_idle(0);
  }
  SECTION("outside the window: ignored") {
    CHECK(sc.send(sc.peer.make(flag::kRst, sc.peer.stack_ack - 1, Seq{})).empty());
    CHECK(sc.send(sc.peer.make(flag::kRst, sc.peer.stack_ack + 8192, Seq{})).empty());
    CHECK(str(sc.state()) == str(State::kTimeWait));
  }
}

// RFC 5961 §3.2 / RFC 9293 §3.10.7.4 second: in TIME-WAIT too, an RST inside
// the window but not at RCV.NXT gets a challenge ACK. With the kClose policy
// (which follows RFC 9293 rather than RFC 1337) as well.
TEST_CASE("TimeWaitRstPolicy::kClose: an in-window RST not at RCV.NXT gets a challenge ACK",
          "[tcp][time_wait][rfc1337]") {
  StackConfig cfg = small_config();
  cfg.time_wait_rst = TimeWaitRstPolicy::kClose;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kTimeWait);
  const auto out = sc.send(sc.peer.make(flag::kRst, sc.peer.stack_ack + 1, Seq{}));
  CHECK(str(sc.state()) == str(State::kTimeWait));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.seq.raw() == (sc.peer.stack_nxt).raw());
  CHECK(out[0].seg.ack.raw() == (sc.peer.stack_ack).raw());
}

}  // namespace
}  // namespace synmill::tcp::test
