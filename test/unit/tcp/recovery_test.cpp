// Loss recovery on the sending side, against a scripted peer: fast retransmit
// after three duplicate ACKs (RFC 5681 §3.2), NewReno partial and full ACKs
// (RFC 6582), the SACK scoreboard (RFC 6675), RTO after recovery (RFC 6298,
// RFC 6582 §3.2 step 1), and the persist timer against a zero window
// (RFC 9293 §3.8.6.1).
#include <set>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

// An established passive connection with `segs` full segments sent in the
// first flight (the initial window is 10 segments, RFC 6928).
struct Sender {
  explicit Sender(PeerOptions po, uint32_t segs = 10, const StackConfig& cfg = small_config())
      : sc(po, Origin::kPassive, cfg) {
    sc.to(State::kEstablished);
    mss = po.ts ? 1448 : 1460;
    start = sc.peer.stack_nxt;
    std::vector<uint8_t> data(static_cast<size_t>(segs) * mss);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13);
    REQUIRE(sc.h.stack.send(sc.h.app.last_open, data) == data.size());
    flight = sc.collect();
    REQUIRE(flight.size() == segs);
  }
  Scenario sc;
  uint32_t mss = 0;
  Seq start;
  std::vector<Sent> flight;

  Seq seg(uint32_t i) const { return start + i * mss; }
  ConnId id() const { return sc.h.app.last_open; }
  ConnInfo info() const { return *sc.h.stack.info(id()); }
  const Counters& ctr() const { return sc.h.stack.counters(); }
  // An ACK from the peer for `ack`, with SACK blocks [l, r) given as segment indices.
  std::vector<Sent> ack(Seq a, std::initializer_list<std::pair<uint32_t, uint32_t>> sack = {}) {
    SegmentIn s = sc.peer.make(flag::kAck, sc.peer.nxt, a);
    for (const auto& [l, r] : sack) {
      s.opts.sack[s.opts.sack_count++] = wire::SackBlock{seg(l).raw(), seg(r).raw()};
    }
    return sc.send(s);
  }
};

std::vector<uint32_t> data_seqs(const std::vector<Sent>& v) {
  std::vector<uint32_t> r;
  for (const Sent& s : v)
    if (!s.payload.empty()) r.push_back(s.seg.seq.raw());
  return r;
}

TEST_CASE("RFC 5681 §3.2: three duplicate ACKs retransmit the first unacknowledged segment",
          "[tcp][recovery][newreno]") {
  Sender s(plain_peer());
  // Segment 1 is lost: the peer acknowledges segment 0, then every later
  // arrival produces a duplicate ACK.
  s.ack(s.seg(1));
  const uint32_t cwnd_before = s.info().cwnd;
  CHECK(data_seqs(s.ack(s.seg(1))).empty());
  CHECK(data_seqs(s.ack(s.seg(1))).empty());
  CHECK(s.ctr().fast_retransmits == 0);
  const auto out = s.ack(s.seg(1));
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{s.seg(1).raw()});
  CHECK(out[0].payload.size() == s.mss);
  CHECK(s.ctr().dup_acks == 3);
  CHECK(s.ctr().fast_retransmits == 1);
  CHECK(s.ctr().sack_recoveries == 0);
  const ConnInfo i = s.info();
  CHECK(i.in_recovery);
  const uint32_t flight = 9 * s.mss;  // segments 1..9 outstanding
  CHECK(i.ssthresh == std::max(flight / 2 / s.mss * s.mss, 2 * s.mss));  // RFC 5681 eq. (4), whole segments
  CHECK(i.cwnd == i.ssthresh + 3 * s.mss);               // RFC 6582 §3.2 step 3
  CHECK(cwnd_before > i.cwnd);
  // A fourth duplicate inflates cwnd by one segment (RFC 6582 §3.2 step 4).
  s.ack(s.seg(1));
  CHECK(s.info().cwnd == i.cwnd + s.mss);
}

TEST_CASE("RFC 6582 §3.2: a partial ACK retransmits the next hole; the full ACK ends recovery",
          "[tcp][recovery][newreno]") {
  Sender s(plain_peer());
  s.ack(s.seg(1));
  for (int k = 0; k < 3; ++k) s.ack(s.seg(1));  // segments 1 and 4 were lost
  REQUIRE(s.info().in_recovery);
  // The retransmitted segment 1 arrives; segments 2 and 3 were held: the ACK
  // stops at the second hole (segment 4), below `recover` = SND.MAX.
  const auto out = s.ack(s.seg(4));
  CHECK(s.ctr().partial_acks == 1);
  REQUIRE(data_seqs(out) == std::vector<uint32_t>{s.seg(4).raw()});
  CHECK(s.info().in_recovery);
  // Everything acknowledged: recovery ends, cwnd = min(ssthresh, flight + MSS).
  s.ack(s.seg(10));
  const ConnInfo i = s.info();
  CHECK_FALSE(i.in_recovery);
  CHECK(i.cwnd == std::min(i.ssthresh, s.mss + s.mss));
  CHECK(s.ctr().fast_retransmits == 1);
  CHECK(s.ctr().retransmits == 2);
}

TEST_CASE("RFC 6675: the SACK scoreboard retransmits the holes and never what was SACKed",
          "[tcp][recovery][sack]") {
  Sender s(full_peer());
  // Segments 1 and 4 are lost; the peer reports what arrived after them.
  s.ack(s.seg(1));
  std::vector<Sent> all;
  const auto add = [&](std::vector<Sent> v) { all.insert(all.end(), v.begin(), v.end()); };
  add(s.ack(s.seg(1), {{2, 3}}));
  add(s.ack(s.seg(1), {{2, 4}}));
  CHECK(s.ctr().fast_retransmits == 0);
  add(s.ack(s.seg(1), {{5, 6}, {2, 4}}));  // third duplicate: recovery
  CHECK(s.ctr().sack_recoveries == 1);
  CHECK(s.info().in_recovery);
  add(s.ack(s.seg(1), {{5, 7}, {2, 4}}));
  add(s.ack(s.seg(1), {{5, 8}, {2, 4}}));  // three segments above 4: it is lost too
  add(s.ack(s.seg(1), {{5, 9}, {2, 4}}));
  add(s.ack(s.seg(1), {{5, 10}, {2, 4}}));
  std::multiset<uint32_t> rtx;
  for (uint32_t q : data_seqs(all)) rtx.insert(q);
  CHECK(rtx.count(s.seg(1).raw()) == 1);
  CHECK(rtx.count(s.seg(4).raw()) == 1);
  // RFC 6675 rule (4): when segment 4 was not yet taken as lost and no new
  // data was left, the tail (segment 9, unSACKed then) got the one rescue
  // retransmission.
  CHECK(rtx.count(s.seg(9).raw()) == 1);
  CHECK(rtx.size() == 3);  // nothing SACKed was sent again, nothing twice
  CHECK(s.ctr().retransmits == 3);
  CHECK(s.ctr().rescue_retransmits == 1);
  // The cumulative ACK covers all: recovery ends with cwnd = ssthresh.
  s.ack(s.seg(10));
  CHECK_FALSE(s.info().in_recovery);
  CHECK(s.info().cwnd == s.info().ssthresh);
  CHECK(s.ctr().partial_acks == 0);
}

TEST_CASE("RFC 6675 §4 NextSeg() rule (4): a lost tail gets one rescue retransmission, not an RTO",
          "[tcp][recovery][sack][rescue]") {
  Sender s(full_peer());
  // Segments 1 and 9 (the last) are lost; the peer SACKs 2..8 as they come.
  s.ack(s.seg(1));
  std::vector<Sent> all;
  const auto add = [&](std::vector<Sent> v) { all.insert(all.end(), v.begin(), v.end()); };
  for (uint32_t r = 3; r <= 9; ++r) add(s.ack(s.seg(1), {{2, r}}));
  REQUIRE(s.info().in_recovery);
  std::multiset<uint32_t> rtx;
  for (uint32_t q : data_seqs(all)) rtx.insert(q);
  CHECK(rtx.count(s.seg(1).raw()) == 1);  // rule 1: the hole
  CHECK(rtx.count(s.seg(9).raw()) == 1);  // rule 4: the tail, nothing SACKed above it
  CHECK(rtx.size() == 2);
  CHECK(s.ctr().rescue_retransmits == 1);
  CHECK(s.ctr().rto_timeouts == 0);
  // Once per recovery: more duplicates bring no second rescue.
  CHECK(data_seqs(s.ack(s.seg(1), {{2, 9}})).empty());
  CHECK(s.ctr().rescue_retransmits == 1);
  // Both repairs arrive: the cumulative ACK ends recovery.
  s.ack(s.seg(10));
  CHECK_FALSE(s.info().in_recovery);
  CHECK(s.ctr().rto_timeouts == 0);
}

TEST_CASE("RFC 6675 §4 IsLost: two SACKed segments above SND.UNA are no loss yet; a third is",
          "[tcp][recovery][sack][issue11]") {
  Sender s(full_peer(), 6);
  // Segment 0 is lost; the peer SACKs 1, then 1-2, then 1-3.
  CHECK(data_seqs(s.ack(s.seg(0), {{1, 2}})).empty());
  CHECK(data_seqs(s.ack(s.seg(0), {{1, 3}})).empty());  // (DupThresh - 1) * SMSS: not more
  CHECK(s.ctr().fast_retransmits == 0);
  CHECK(data_seqs(s.ack(s.seg(0), {{1, 4}})) == std::vector<uint32_t>{s.seg(0).raw()});
  CHECK(s.ctr().fast_retransmits == 1);
}

TEST_CASE("RFC 6675 §5 (C): a closing sender resends every lost segment cwnd allows; its FIN is no octet of pipe",
          "[tcp][recovery][sack][issue11]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq start = sc.peer.stack_nxt;
  const uint32_t mss = 1448;
  const std::vector<uint8_t> data(5 * mss + 760, 0x5a);
  REQUIRE(sc.h.stack.send(sc.id, data) == data.size());
  REQUIRE(sc.h.stack.close(sc.id));
  const auto flight = sc.collect();
  REQUIRE(data_seqs(flight).size() == 6);
  REQUIRE(sc.peer.stack_nxt.raw() == (start + 8001).raw());  // the FIN went out
  // Segments 0 and 1 are lost; everything from 2 on arrived.
  SegmentIn a = sc.peer.make(flag::kAck, sc.peer.nxt, start);
  a.opts.sack[a.opts.sack_count++] = wire::SackBlock{(start + 2 * mss).raw(), (start + 8000).raw()};
  const auto out = sc.send(a);
  // Recovery: cwnd = ssthresh = 2 segments (RFC 5681 eq. (4) of 8001 in
  // flight); pipe after the first retransmission is one segment, so the
  // second lost segment goes too (as Linux).
  CHECK(data_seqs(out) == std::vector<uint32_t>{start.raw(), (start + mss).raw()});
  CHECK(sc.h.stack.counters().fast_retransmits == 1);
}

TEST_CASE("RFC 6298 / RFC 6582 §3.2: an RTO during recovery ends it and goes back to SND.UNA",
          "[tcp][recovery][rto]") {
  const bool sack = GENERATE(false, true);
  Sender s(sack ? full_peer() : plain_peer());
  s.ack(s.seg(1));
  for (int k = 0; k < 3; ++k) s.ack(s.seg(1), {{2, 3}});
  REQUIRE(s.info().in_recovery);
  // The fast retransmission is lost too: the timer fires.
  const ConnInfo before = s.info();
  s.sc.h.advance_by(Duration::ms(before.rto_ms + 1));
  const auto out = s.sc.collect();
  REQUIRE_FALSE(data_seqs(out).empty());
  CHECK(data_seqs(out)[0] == s.seg(1).raw());
  CHECK(s.ctr().rto_timeouts == 1);
  CHECK(s.ctr().rto_after_recovery == 1);
  const ConnInfo i = s.info();
  CHECK_FALSE(i.in_recovery);
  CHECK(i.cwnd == s.mss);  // RFC 5681 §3.1: the loss window, one segment
  CHECK(i.rto_ms == 2 * before.rto_ms);  // RFC 6298 §5.5
  // Duplicate ACKs for data sent before the timeout start no second recovery.
  for (int k = 0; k < 4; ++k) s.ack(s.seg(1), {{2, 3}});
  CHECK(s.ctr().fast_retransmits == 1);
  CHECK_FALSE(s.info().in_recovery);
}

TEST_CASE("RFC 9293 §3.8.6.1: a zero window is probed for as long as the peer answers",
          "[tcp][persist]") {
  StackConfig cfg = small_config();
  cfg.rto_max = Duration::s(2);
  cfg.data_retries = 4;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  sc.peer.opts.window = 0;
  sc.send(sc.peer.ack());  // the peer closes its window
  const std::string msg(3000, 'z');
  const Seq start = sc.peer.stack_nxt;
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes(msg)) == msg.size());
  CHECK(sc.collect().empty());  // nothing may be sent into a zero window
  int probes = 0;
  for (int round = 0; round < 3 * cfg.data_retries; ++round) {
    sc.h.advance_by(cfg.rto_max);
    const auto out = sc.collect();
    REQUIRE(out.size() == 1);  // one probe per timeout
    CHECK(out[0].payload.size() == 1);
    CHECK(out[0].seg.seq.raw() == start.raw());  // the first unacknowledged byte each time
    ++probes;
    // The peer answers every probe with its window still closed.
    sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start));
  }
  CHECK(sc.h.stack.alive(sc.id));  // never gave up, well past data_retries
  CHECK(sc.h.stack.counters().zero_window_probes == static_cast<uint64_t>(probes));
  // The window opens: the data flows.
  sc.peer.opts.window = 65535;
  const auto out = sc.send(sc.peer.make(flag::kAck, sc.peer.nxt, start));
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().end().raw() == (start + static_cast<uint32_t>(msg.size())).raw());
  CHECK(sc.h.stack.alive(sc.id));
}

TEST_CASE("RFC 9293 §3.8.6.1: unanswered zero-window probes give up after data_retries",
          "[tcp][persist]") {
  StackConfig cfg = small_config();
  cfg.rto_max = Duration::s(2);
  cfg.data_retries = 4;
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  sc.peer.opts.window = 0;
  sc.send(sc.peer.ack());
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("hello")) == 5);
  for (int round = 0; round < 10 && sc.h.stack.alive(sc.id); ++round) {
    sc.h.advance_by(cfg.rto_max);
    sc.collect();
  }
  CHECK_FALSE(sc.h.stack.alive(sc.id));
  CHECK(sc.h.app.closed_reason() == std::optional<CloseReason>(CloseReason::kTimeout));
  sc.h.check_idle();
}

TEST_CASE("Nagle (RFC 1122 §4.2.3.4) is off by default and per connection on request",
          "[tcp][nagle]") {
  const bool nagle = GENERATE(false, true);
  Scenario sc;
  sc.to(State::kEstablished);
  if (nagle) REQUIRE(sc.h.stack.set_nodelay(sc.id, false));
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("a")) == 1);
  CHECK(sc.collect().size() == 1);  // nothing outstanding: sent either way
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("b")) == 1);
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("c")) == 1);
  const auto held = sc.collect();
  CHECK(held.size() == (nagle ? 0u : 2u));
  // The ACK of "a" releases what Nagle held, as one segment.
  const auto out = sc.send(sc.peer.ack());
  if (nagle) {
    REQUIRE(out.size() == 1);
    CHECK(std::string(out[0].payload.begin(), out[0].payload.end()) == "bc");
  }
}

}  // namespace
}  // namespace synmill::tcp::test
