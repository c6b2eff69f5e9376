// Faults an independent peer found (issue 11), each against a scripted peer:
// an out-of-order FIN fixes the end of the stream (RFC 9293 §3.10.7.4
// eighth); retransmission toward a window below one MSS (RFC 9293
// §3.8.6.2.1); the RTO resends SND.UNA whatever the SACK scoreboard says
// (RFC 2018 §8); the TSecr of a delayed ACK covering two segments (RFC 7323
// §4.3); D-SACK for a duplicate above RCV.NXT (RFC 2883 §4).
#include <string>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

std::string text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// A segment from the peer at `base + off`, not moving peer.nxt.
SegmentIn at(Scenario& sc, Seq base, uint32_t off, std::string_view d, uint8_t extra = 0) {
  return sc.peer.make(static_cast<uint8_t>(flag::kAck | extra), base + off, sc.peer.stack_nxt,
                      Peer::bytes(d));
}

std::vector<uint32_t> data_seqs(const std::vector<Sent>& v) {
  std::vector<uint32_t> r;
  for (const Sent& s : v)
    if (!s.payload.empty()) r.push_back(s.seg.seq.raw());
  return r;
}

// ---- 1. out-of-order FIN --------------------------------------------------------------

TEST_CASE("RFC 9293 §3.10.7.4 eighth: an out-of-order FIN fixes the end; data past it and a second FIN are not taken",
          "[tcp][receive][ooo][fin][issue11]") {
  const bool sack = GENERATE(false, true);
  const uint32_t past = GENERATE(8u, 9u, 30u);  // where the data beyond the FIN starts
  INFO("sack " << sack << ", data past the FIN at +" << past);
  Scenario sc(sack ? full_peer() : plain_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  // "tail" + FIN at base+4: the FIN occupies base+8.
  auto out = sc.send(at(sc, base, 4, "tail", flag::kFin));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == base.raw());
  // Data beyond the FIN, then a second FIN further on.
  out = sc.send(at(sc, base, past, "zzzz"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == base.raw());
  out = sc.send(sc.peer.make(flag::kAck | flag::kFin, base + 40, sc.peer.stack_nxt));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == base.raw());
  CHECK(sc.h.stack.counters().drop.past_fin >= 2);
  // The hole fills: the stream ends at the first FIN.
  out = sc.send(at(sc, base, 0, "head"));
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().seg.ack.raw() == (base + 9).raw());  // 8 bytes and the FIN
  if (sack) CHECK(out.back().seg.opts.sack_count == 0);  // nothing held beyond it
  CHECK(text(sc.h.app.received) == "headtail");
  CHECK(str(sc.state()) == str(State::kCloseWait));
  CHECK(sc.h.app.count(K::kPeerClose) == 1);
  CHECK(sc.h.stack.info(sc.id)->rcv_queued == 0);  // the bytes beyond were not kept
  // Closing ends it cleanly: every pool back to idle.
  REQUIRE(sc.h.stack.close(sc.id));
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kFin));
  sc.send(sc.peer.make(flag::kAck, base + 9, sc.peer.stack_nxt));
  CHECK_FALSE(sc.has_tcb());
  sc.h.check_idle();
}

TEST_CASE("RFC 9293 §3.10.7.4 eighth: data held beyond a FIN that arrives later is dropped with it",
          "[tcp][receive][ooo][fin][issue11]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send(at(sc, base, 12, "late"));           // held out of order first
  sc.send(at(sc, base, 4, "tail", flag::kFin));  // then the FIN at base+8, below it
  auto out = sc.send(at(sc, base, 0, "head"));
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().seg.ack.raw() == (base + 9).raw());
  CHECK(out.back().seg.opts.sack_count == 0);
  CHECK(text(sc.h.app.received) == "headtail");
  CHECK(str(sc.state()) == str(State::kCloseWait));
  CHECK(sc.h.stack.info(sc.id)->rcv_queued == 0);
}

TEST_CASE("RFC 9293 §3.10.7.4 eighth: in-order data running past a held FIN is cut at the FIN",
          "[tcp][receive][ooo][fin][issue11]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send(at(sc, base, 4, "", flag::kFin));  // a bare FIN at base+4
  auto out = sc.send(at(sc, base, 0, "headXXXX"));
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().seg.ack.raw() == (base + 5).raw());
  CHECK(text(sc.h.app.received) == "head");
  CHECK(str(sc.state()) == str(State::kCloseWait));
}

// ---- 2. sender SWS avoidance and windows below one MSS ------------------------------------

TEST_CASE("RFC 9293 §3.8.6.2.1: after an RTO data is retransmitted into a window below one MSS",
          "[tcp][send][sws][issue11]") {
  PeerOptions po = plain_peer();
  po.window = 1000;  // the peer never offers more than 1000 bytes
  Scenario sc(po);
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  const std::string msg(4000, 'w');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  auto out = sc.collect();
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{start.raw()});
  CHECK(out[0].payload.size() == 1000);
  // Lost: the timer fires and the same 1000 bytes go again (Linux retransmits
  // min(MSS, window)).
  sc.h.advance_by(Duration::ms(sc.h.stack.info(sc.id)->rto_ms + 1));
  out = sc.collect();
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{start.raw()});
  CHECK(out[0].payload.size() == 1000);
  CHECK(sc.h.stack.counters().retransmits == 1);
  // Acknowledged: the transfer goes on, 1000 bytes at a time, to the end.
  for (uint32_t k = 1; k <= 4; ++k) {
    out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start + 1000 * k));
    if (k < 4) {
      REQUIRE(data_seqs(out) == std::vector<uint32_t>{(start + 1000 * k).raw()});
      CHECK(out[0].payload.size() == 1000);
    }
  }
  CHECK(sc.h.stack.info(sc.id)->send_queued == 0);
  CHECK(sc.h.stack.alive(sc.id));
}

TEST_CASE("RFC 9293 §3.8.6.2.1: a window shrunk below one MSS still gets the retransmission",
          "[tcp][send][sws][issue11]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  const std::string msg(3 * 1460, 's');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  REQUIRE(data_seqs(sc.collect()).size() == 3);
  // The first segment arrives; the peer shrinks its window to 500 bytes and
  // the other two are lost.
  sc.peer.opts.window = 500;
  sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start + 1460));
  sc.h.advance_by(Duration::ms(sc.h.stack.info(sc.id)->rto_ms + 1));
  auto out = sc.collect();
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{(start + 1460).raw()});
  CHECK(out[0].payload.size() == 500);
  // Each ACK lets the next 500 bytes go.
  out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start + 1960));
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{(start + 1960).raw()});
  CHECK(out[0].payload.size() == 500);
  CHECK(sc.h.stack.alive(sc.id));
}

TEST_CASE("RFC 9293 §3.8.6.2.1 (3): a segment of at least half the largest window offered is sent",
          "[tcp][send][sws][issue11]") {
  PeerOptions po = plain_peer();
  po.window = 1000;
  Scenario sc(po);
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  const std::string msg(4000, 'h');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  REQUIRE(data_seqs(sc.collect()).size() == 1);
  // Half of it acknowledged, the window still 1000: 500 bytes of room, half
  // the largest window the peer ever offered (Fs = 1/2): they go now.
  const auto out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start + 500));
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{(start + 1000).raw()});
  CHECK(out[0].payload.size() == 500);
}

TEST_CASE("RFC 9293 §3.8.6.2.1: no silly segment while the window is large and an ACK is to come",
          "[tcp][send][sws][issue11]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  sc.peer.opts.window = 4000;
  sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start));
  const std::string msg(8000, 'q');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  const auto out = sc.collect();
  // 1460 + 1460 fit, the 1080 bytes left of the window are held (less than
  // an MSS, less than half the window, an ACK is to come).
  REQUIRE(data_seqs(out).size() == 2);
  CHECK(out[0].payload.size() == 1460);
  CHECK(out[1].payload.size() == 1460);
}

// ---- 3. the RTO and the SACK scoreboard ---------------------------------------------------

TEST_CASE("RFC 2018 §8: after an RTO the segment at SND.UNA is retransmitted even if SACKed",
          "[tcp][recovery][sack][rto][issue11]") {
  const uint32_t right = GENERATE(1u, 2u);  // the block covers segment 0, or 0 and 1
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  const uint32_t mss = 1448;
  const std::string msg(4 * mss, 'r');
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  REQUIRE(data_seqs(sc.collect()).size() == 4);
  // A lying (or reneging) receiver: its ACK stays at SND.UNA while a SACK
  // block starting at SND.UNA claims the first segment(s) arrived.
  SegmentIn a = sc.peer.make(flag::kAck, sc.peer.nxt, start);
  a.opts.sack[a.opts.sack_count++] = wire::SackBlock{start.raw(), (start + right * mss).raw()};
  sc.send(a);
  sc.h.advance_by(Duration::ms(sc.h.stack.info(sc.id)->rto_ms + 1));
  const auto out = sc.collect();
  REQUIRE_FALSE(data_seqs(out).empty());
  CHECK(data_seqs(out)[0] == start.raw());
  CHECK(sc.h.stack.counters().rto_timeouts == 1);
}

// ---- 4. timestamps on a delayed ACK --------------------------------------------------------

TEST_CASE("RFC 7323 §4.3: a delayed ACK covering two segments echoes the earlier TSval",
          "[tcp][options][ts][issue11]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  SegmentIn s1 = at(sc, base, 0, "ab");
  SegmentIn s2 = at(sc, base, 2, "cd");
  const uint32_t t1 = s1.opts.ts_val, t2 = s2.opts.ts_val;
  REQUIRE(t1 != t2);
  CHECK(sc.send(s1).empty());  // delayed (RFC 1122 §4.2.3.2)
  CHECK(sc.send(s2).empty());
  sc.h.advance_by(sc.h.stack.config().delayed_ack);
  const auto out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (base + 4).raw());
  CHECK(out[0].seg.opts.ts_ecr == t1);
  // The next segment starts at Last.ACK.sent: its TSval is taken.
  SegmentIn s3 = at(sc, base, 4, "ef");
  const uint32_t t3 = s3.opts.ts_val;
  sc.send(s3);
  sc.h.advance_by(sc.h.stack.config().delayed_ack);
  const auto out2 = sc.collect();
  REQUIRE(out2.size() == 1);
  CHECK(out2[0].seg.opts.ts_ecr == t3);
}

// ---- 5. D-SACK above RCV.NXT -----------------------------------------------------------------

struct DupCase {
  uint32_t off;
  const char* bytes;
  uint32_t dl, dr;  // the D-SACK block expected (offsets from base)
  uint32_t bl, br;  // the SACK block expected second (the one holding it)
};

TEST_CASE("RFC 2883 §4: a duplicate above RCV.NXT is reported in a D-SACK block and its block second",
          "[tcp][receive][dsack][issue11]") {
  // Fully held duplicates carry other bytes: the ones first received stay
  // (Linux tcp_data_queue_ofo drops such a segment too).
  const DupCase c = GENERATE(DupCase{10, "bbbb", 10, 14, 10, 14},  // the same segment again
                             DupCase{11, "bb", 11, 13, 10, 14},    // inside the held range
                             DupCase{8, "xxBBB", 10, 13, 8, 14},   // overlapping its left part
                             DupCase{12, "BBcc", 12, 14, 10, 16}); // overlapping its right part
  INFO("duplicate at +" << c.off << " '" << c.bytes << "'");
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send(at(sc, base, 30, "OTHER"));  // a second held range, more recent
  sc.send(at(sc, base, 10, "BBBB"));
  const uint64_t dsacks = sc.h.stack.counters().dsack_sent;
  const auto out = sc.send(at(sc, base, c.off, c.bytes));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == base.raw());
  REQUIRE(out[0].seg.opts.sack_count == 3);
  CHECK(out[0].seg.opts.sack[0].left == (base + c.dl).raw());
  CHECK(out[0].seg.opts.sack[0].right == (base + c.dr).raw());
  CHECK(out[0].seg.opts.sack[1].left == (base + c.bl).raw());
  CHECK(out[0].seg.opts.sack[1].right == (base + c.br).raw());
  CHECK(out[0].seg.opts.sack[2].left == (base + 30).raw());
  CHECK(sc.h.stack.counters().dsack_sent == dsacks + 1);
  // The hole fills: the bytes first received are the ones delivered.
  sc.send(at(sc, base, 0, "0123456789"));
  CHECK(text(sc.h.app.received).substr(10, 4) == "BBBB");
}

TEST_CASE("RFC 2883 §4: a segment at RCV.NXT running into held data reports the overlap in a D-SACK block",
          "[tcp][receive][dsack][issue11]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send(at(sc, base, 10, "BBBB"));
  sc.send(at(sc, base, 30, "OTHER"));
  const auto out = sc.send(at(sc, base, 0, "0123456789BB"));  // [10, 12) arrived before
  REQUIRE_FALSE(out.empty());
  const Sent& a = out.front();
  CHECK(a.seg.ack.raw() == (base + 14).raw());
  REQUIRE(a.seg.opts.sack_count == 2);
  CHECK(a.seg.opts.sack[0].left == (base + 10).raw());  // D-SACK, below the cumulative ACK
  CHECK(a.seg.opts.sack[0].right == (base + 12).raw());
  CHECK(a.seg.opts.sack[1].left == (base + 30).raw());  // the hole that is left
  CHECK(sc.h.stack.counters().dsack_sent == 1);
  CHECK(text(sc.h.app.received) == "0123456789BBBB");
}

TEST_CASE("RFC 2883: a new segment above RCV.NXT brings no D-SACK block", "[tcp][receive][dsack][issue11]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send(at(sc, base, 10, "BBBB"));
  const auto out = sc.send(at(sc, base, 14, "CCCC"));  // adjacent, not overlapping
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seg.opts.sack_count == 1);
  CHECK(out[0].seg.opts.sack[0].left == (base + 10).raw());
  CHECK(out[0].seg.opts.sack[0].right == (base + 18).raw());
  CHECK(sc.h.stack.counters().dsack_sent == 0);
}

}  // namespace
}  // namespace synmill::tcp::test
