// Orphans (issue 10): the bound per core, fewer FIN retries than live
// connections, reclaim first when the table runs short, and a SYN that
// replaces an orphan whose peer has moved on (RFC 6191 rules, as TIME_WAIT).
#include <deque>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

Peer make_peer(uint16_t port, uint32_t iss_offset = 0, PeerOptions o = plain_peer()) {
  return Peer(passive_tuple(port), kPeerIss + iss_offset, o);
}

// Opens peers[i] (ports kPeerPort + i) against the listener on kServerPort.
std::vector<ConnId> open_all(Harness& h, std::deque<Peer>& peers, size_t n) {
  std::vector<ConnId> ids;
  for (size_t i = 0; i < n; ++i) {
    peers.push_back(make_peer(static_cast<uint16_t>(kPeerPort + i), static_cast<uint32_t>(i) * 100000));
    ids.push_back(open_passive(h, peers.back()));
  }
  return ids;
}

const Sent* find_to(const std::vector<Sent>& v, const FourTuple& t, uint8_t flags) {
  for (const Sent& s : v)
    if (s.seg.tuple == t && s.seg.flags == flags) return &s;
  return nullptr;
}

std::optional<CloseReason> reason_of(const RecordingApp& app, ConnId id) {
  for (const auto& e : app.events)
    if (e.kind == K::kClosed && e.id == id) return e.reason;
  return std::nullopt;
}

TEST_CASE("orphans: one over max_orphans resets the oldest, never a live connection",
          "[tcp][overload][orphan]") {
  StackConfig cfg = small_config();
  cfg.max_orphans = 2;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::deque<Peer> peers;
  const auto ids = open_all(h, peers, 4);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(h.stack.close(ids[i]));
    const auto out = h.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == (flag::kFin | flag::kAck));
    CHECK(h.stack.orphan_count() == static_cast<uint32_t>(i + 1));
  }
  // A half close keeps the application attached: not an orphan.
  REQUIRE(h.stack.shutdown(ids[3]));
  h.take();
  CHECK(h.stack.orphan_count() == 2);
  // The third orphan: the oldest (peer 0) is reset.
  REQUIRE(h.stack.close(ids[2]));
  const auto out = h.take();
  INFO(describe(out));
  REQUIRE(out.size() == 2);
  const Sent* rst = find_to(out, peers[0].tuple, flag::kRst | flag::kAck);
  REQUIRE(rst != nullptr);
  CHECK(rst->seg.seq.raw() == (peers[0].stack_nxt + 1).raw());  // after our FIN: the peer's RCV.NXT
  CHECK(find_to(out, peers[2].tuple, flag::kFin | flag::kAck) != nullptr);
  CHECK(h.stack.orphan_count() == 2);
  CHECK(h.stack.counters().reclaim_orphan_limit == 1);
  CHECK(h.stack.counters().orphans_closed == 3);
  CHECK(str(h.stack.state_of(peers[0].tuple)) == str(State::kListen));
  CHECK(str(reason_of(h.app, ids[0])) == str(CloseReason::kReclaimed));
  CHECK(h.stack.alive(ids[1]));
  CHECK(h.stack.alive(ids[3]));  // half-closed, application attached
}

TEST_CASE("orphans: a full table resets the oldest orphan for a new SYN; live connections stay",
          "[tcp][overload][orphan][table]") {
  StackConfig cfg = small_config();
  cfg.max_conns = 4;
  cfg.cookies = CookieMode::kOff;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  std::deque<Peer> peers;
  auto ids = open_all(h, peers, 4);
  REQUIRE(h.stack.close(ids[1]));  // FIN_WAIT_1 orphan
  h.take();

  peers.push_back(make_peer(kPeerPort + 4, 400000));
  h.deliver(peers[4].syn());
  auto out = h.take();
  INFO(describe(out));
  REQUIRE(out.size() == 2);
  CHECK(find_to(out, peers[1].tuple, flag::kRst | flag::kAck) != nullptr);
  const Sent* synack = find_to(out, peers[4].tuple, flag::kSyn | flag::kAck);
  REQUIRE(synack != nullptr);
  peers[4].observe(out);
  h.deliver(peers[4].ack());
  CHECK(str(h.stack.state_of(peers[4].tuple)) == str(State::kEstablished));
  CHECK(h.stack.counters().reclaim_orphan_table == 1);
  CHECK(str(reason_of(h.app, ids[1])) == str(CloseReason::kReclaimed));
  CHECK(h.stack.orphan_count() == 0);

  // Table full of live connections: the SYN is dropped, nobody is reset.
  peers.push_back(make_peer(kPeerPort + 5, 500000));
  h.deliver(peers[5].syn());
  CHECK(h.take().empty());
  CHECK(h.stack.counters().drop.conn_table_full == 1);
  for (size_t i : {0u, 2u, 3u}) CHECK(h.stack.alive(ids[i]));
  CHECK(h.stack.conn_count() == 4);
}

TEST_CASE("orphans: FIN retried orphan_retries times, a half-closed connection fin_retries",
          "[tcp][overload][orphan][timers]") {
  const bool orphan = GENERATE(true, false);
  INFO((orphan ? "close()" : "shutdown()"));
  StackConfig cfg = small_config();
  cfg.fin_retries = 6;
  cfg.orphan_retries = 2;
  cfg.rto_max = Duration::s(8);
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kCloseWait);
  const bool called = orphan ? sc.h.stack.close(sc.id) : sc.h.stack.shutdown(sc.id);
  REQUIRE(called);
  auto out = sc.collect();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seg.flags == (flag::kFin | flag::kAck));
  CHECK(str(sc.state()) == str(State::kLastAck));
  int fins = 0, rsts = 0;
  for (int step = 0; step < 12000 && rsts == 0; ++step) {
    sc.h.advance_by(Duration::ms(10));
    for (const Sent& s : sc.collect()) {
      if (s.has(flag::kRst)) ++rsts;
      else if (s.has(flag::kFin)) ++fins;
    }
  }
  CHECK(fins == (orphan ? 2 : 6));
  CHECK(rsts == 1);
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kTimeout));
  CHECK(sc.h.stack.counters().reclaim_orphan_retries == (orphan ? 1u : 0u));
  sc.h.check_idle();
}

// ---- a SYN for a tuple an orphan holds -------------------------------------------------

// The orphan's peer opens the same tuple anew with ISS `iss`: what the stack sends back.
std::vector<Sent> new_syn(Scenario& sc, Peer& p) {
  sc.h.deliver(p.syn());
  auto out = sc.h.take();
  p.observe(out);
  return out;
}

TEST_CASE("orphans: a SYN beyond the window replaces the orphan in every closing state",
          "[tcp][overload][orphan][reuse]") {
  const State st = GENERATE(State::kFinWait1, State::kFinWait2, State::kClosing, State::kLastAck);
  INFO(str(st));
  Scenario sc(plain_peer(), Origin::kPassive);
  sc.to(st);
  const ConnId old = sc.id;
  const Seq old_snd_max = sc.peer.stack_nxt;
  CHECK(sc.h.stack.orphan_count() == 1);
  Peer p(passive_tuple(), sc.peer.nxt + 100000, plain_peer());  // beyond RCV.NXT + 8192
  const auto out = new_syn(sc, p);
  INFO(describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(out[0].seg.ack.raw() == (p.iss + 1).raw());
  // RFC 6191 §2 as in TIME_WAIT: the new ISS lies above the old SND.NXT.
  CHECK(out[0].seg.seq.raw() == (old_snd_max + 65535 + 2).raw());
  CHECK(str(reason_of(sc.h.app, old)) == str(CloseReason::kReplaced));
  CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 1);
  CHECK(sc.h.stack.orphan_count() == 0);
  sc.h.deliver(p.ack());
  CHECK(sc.h.take().empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kOpen) == 2);
}

TEST_CASE("orphans: an in-window SYN replaces an orphan only after its FIN went unanswered",
          "[tcp][overload][orphan][reuse]") {
  Scenario sc(plain_peer(), Origin::kPassive);
  sc.to(State::kLastAck);
  Peer p(passive_tuple(), sc.peer.nxt + 100, plain_peer());  // inside the window
  auto out = new_syn(sc, p);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);  // RFC 5961 §4: challenge ACK
  CHECK(str(sc.state()) == str(State::kLastAck));
  CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 0);
  // Our FIN is retransmitted once (RTO 1 s): the peer has not answered it.
  sc.h.advance_by(Duration::s(1));
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(flag::kFin));
  Peer p2(passive_tuple(), sc.peer.nxt + 100, plain_peer());
  out = new_syn(sc, p2);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 1);
}

TEST_CASE("orphans: a duplicate of the SYN that opened the orphan never replaces it",
          "[tcp][overload][orphan][reuse]") {
  Scenario sc(plain_peer(), Origin::kPassive);
  sc.to(State::kLastAck);
  sc.h.advance_by(Duration::s(1));  // FIN retransmitted once
  sc.collect();
  Peer dup(passive_tuple(), kPeerIss, plain_peer());
  const auto out = new_syn(sc, dup);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(str(sc.state()) == str(State::kLastAck));
  CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 0);
}

TEST_CASE("orphans: with timestamps, a SYN beyond the window must not carry an older TSval",
          "[tcp][overload][orphan][reuse]") {
  const bool newer = GENERATE(true, false);
  INFO((newer ? "newer TSval" : "older TSval"));
  Scenario sc(full_peer(), Origin::kPassive);
  sc.to(State::kLastAck);
  PeerOptions o = full_peer();
  o.ts_start = newer ? sc.peer.ts_clock + 1000 : sc.peer.ts_clock - 1000;
  Peer p(passive_tuple(), sc.peer.nxt + 100000, o);  // beyond the window: the timestamp decides
  auto out = new_syn(sc, p);
  REQUIRE(out.size() <= 1);
  if (newer) {
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
    CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 1);
    return;
  }
  CHECK((out.empty() || out[0].seg.flags == flag::kAck));  // PAWS: dropped or challenged
  CHECK(str(sc.state()) == str(State::kLastAck));
  // Once our FIN went unanswered the older TSval no longer matters (peers
  // that randomise their timestamp clock per connection, as Linux does).
  sc.h.advance_by(Duration::s(1));
  sc.collect();
  Peer p2(passive_tuple(), sc.peer.nxt + 200, o);  // even in the window
  out = new_syn(sc, p2);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
  CHECK(sc.h.stack.counters().reclaim_orphan_replaced == 1);
}

}  // namespace
}  // namespace synmill::tcp::test
