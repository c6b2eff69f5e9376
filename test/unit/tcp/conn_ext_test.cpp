// Issue 12: the connection record and its extension (conn.hpp, stack_ext.cpp).
// An idle connection holds no ConnExt, nor does one whose application takes
// every byte it receives; data to send, data held or out of order, or
// recovery take one from the stack's pool, and it goes back
// once the connection is idle again. With the pool empty, what needed one is
// refused the way an empty chunk pool refuses it, and nothing is corrupted:
// the bytes on the wire, the sequence numbers and the data delivered stay
// right, and the connection carries on once an extension is free.
#include <string>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

static_assert(sizeof(ConnHot) == 120, "the record: what an idle connection keeps, its timer node included");

std::string text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

SegmentIn at(Peer& p, Seq base, uint32_t off, std::string_view d) {
  return p.make(flag::kAck | flag::kPsh, base + off, p.stack_nxt, Peer::bytes(d));
}

TEST_CASE("connection extension: taken for data and given back when the connection is idle again",
          "[tcp][ext]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  Stack& st = sc.h.stack;
  const ConnId id = *st.find(sc.peer.tuple);
  CHECK(st.exts_in_use() == 0);  // established and idle: the record only

  SECTION("received data the application takes needs none, nor does the delayed ACK") {
    auto out = sc.send(sc.peer.data("hello"));
    CHECK(out.empty());             // the ACK is delayed (its deadline is in the record)
    CHECK(st.exts_in_use() == 0);
    CHECK(text(sc.h.app.received) == "hello");
    sc.h.advance_by(st.config().delayed_ack);
    out = sc.collect();
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.ack == sc.peer.nxt);
    CHECK(st.exts_in_use() == 0);
  }
  SECTION("data sent, then acknowledged") {
    REQUIRE(st.send(id, Peer::bytes("response")) == 8);
    auto out = sc.collect();
    REQUIRE(out.size() == 1);
    CHECK(text(out[0].payload) == "response");
    CHECK(st.exts_in_use() == 1);  // unacknowledged bytes
    CHECK(st.chunks_in_use() == 1);
    out = sc.send(sc.peer.ack());
    CHECK(out.empty());
    CHECK(st.exts_in_use() == 0);
    CHECK(st.chunks_in_use() == 0);
    CHECK(st.info(id)->snd_una == sc.peer.stack_nxt);
  }
  SECTION("out-of-order data held, then the hole filled") {
    const Seq base = sc.peer.nxt;
    auto out = sc.send(at(sc.peer, base, 3, "BBB"));
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].seg.opts.sack_count == 1);  // RFC 2018 §4: the block is reported
    CHECK(st.exts_in_use() == 1);
    CHECK(st.chunks_in_use() == 1);
    out = sc.send(at(sc.peer, base, 0, "AAA"));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.ack == base + 6);
    CHECK(text(sc.h.app.received) == "AAABBB");
    CHECK(st.exts_in_use() == 0);
    CHECK(st.chunks_in_use() == 0);
  }
  SECTION("the application does not take the data: held until it reads") {
    sc.h.app.take_limit = 0;
    sc.send_data(sc.peer.data("later"));
    CHECK(st.exts_in_use() == 1);
    CHECK(st.info(id)->rcv_queued > 0);
    sc.h.app.take_limit = UINT32_MAX;
    st.resume_receive(id);
    CHECK(text(sc.h.app.received) == "later");
    sc.collect();
    CHECK(st.exts_in_use() == 0);
  }
  SECTION("fast retransmit and recovery keep it until the data is acknowledged") {
    std::vector<uint8_t> data(4 * 1400, 0x61);
    REQUIRE(st.send(id, data) == data.size());
    auto out = sc.collect();
    REQUIRE(out.size() >= 4);
    // The first segment is lost; three duplicate ACKs with SACK blocks.
    const Seq una = out[0].seg.seq;
    for (int k = 1; k <= 3; ++k) {
      SegmentIn d = sc.peer.make(flag::kAck, sc.peer.nxt, una);
      d.opts.sack_count = 1;
      d.opts.sack[0] = wire::SackBlock{out[1].seg.seq.raw(), out[static_cast<size_t>(k)].end().raw()};
      sc.send(d);
    }
    CHECK(st.info(id)->in_recovery);
    CHECK(st.exts_in_use() == 1);
    sc.send(sc.peer.ack());  // everything acknowledged
    CHECK(!st.info(id)->in_recovery);
    CHECK(st.exts_in_use() == 0);
  }
  // The idle connection still answers and closes normally.
  st.close(id);
  sc.collect();
  sc.send(sc.peer.ack());
  sc.send(sc.peer.fin());
  CHECK(st.exts_in_use() == 0);
}

TEST_CASE("connection extension: an empty pool refuses what needs one and corrupts nothing",
          "[tcp][ext][overload]") {
  StackConfig cfg = small_config();
  cfg.max_exts = 1;
  Harness h(cfg);
  REQUIRE(h.stack.listen(kServerPort, h.app));
  Peer a(passive_tuple(kPeerPort), kPeerIss, plain_peer());
  Peer b(passive_tuple(kPeerPort + 1), kPeerIss + 100000, plain_peer());
  const ConnId ida = open_passive(h, a);
  const ConnId idb = open_passive(h, b);
  Stack& st = h.stack;
  REQUIRE(st.max_exts() == 1);

  // A holds the only extension: bytes in flight.
  REQUIRE(st.send(ida, Peer::bytes("from-a")) == 6);
  auto out = h.take();
  a.observe(out);
  REQUIRE(out.size() == 1);
  CHECK(st.exts_in_use() == 1);

  // B cannot queue data: nothing is taken, counted, nothing sent.
  const uint64_t refused0 = st.counters().drop.ext_pool_empty;
  CHECK(st.send(idb, Peer::bytes("from-b")) == 0);
  CHECK(st.counters().drop.ext_pool_empty == refused0 + 1);
  CHECK(h.take().empty());
  CHECK(st.info(idb)->send_queued == 0);

  // In-order data B's application takes needs no buffer, nor an extension.
  h.deliver(b.data("req1"));
  CHECK(h.take().empty());  // the ACK is delayed
  h.advance_by(st.config().delayed_ack);
  out = h.take();
  b.observe(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack == b.nxt);
  CHECK(out[0].payload.empty());
  CHECK(text(h.app.received) == "req1");

  // Out-of-order data for B is not held: a duplicate ACK without SACK, the
  // sequence space untouched, no chunk taken.
  const Seq bnext = b.nxt;
  const uint32_t chunks = st.chunks_in_use();
  h.deliver(b.make(flag::kAck | flag::kPsh, bnext + 4, b.stack_nxt, Peer::bytes("late")));
  out = h.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack == bnext);
  CHECK(out[0].seg.opts.sack_count == 0);
  CHECK(st.chunks_in_use() == chunks);
  CHECK(st.info(idb)->rcv_nxt == bnext);

  // Data B's application only half takes: the rest is not acknowledged.
  h.app.take_limit = 2;
  h.deliver(b.make(flag::kAck | flag::kPsh, bnext, b.stack_nxt, Peer::bytes("abcd")));
  h.advance_by(st.config().delayed_ack);
  out = h.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack == bnext + 2);  // the two bytes taken, not the two refused
  CHECK(st.info(idb)->rcv_nxt == bnext + 2);
  CHECK(text(h.app.received) == "req1ab");
  h.app.take_limit = UINT32_MAX;
  b.nxt = bnext + 2;

  // A's data is acknowledged: its extension goes back, B can send now.
  h.deliver(a.ack());
  CHECK(h.take().empty());
  CHECK(st.exts_in_use() == 0);
  CHECK(st.send(idb, Peer::bytes("from-b")) == 6);
  out = h.take();
  b.observe(out);
  REQUIRE(out.size() == 1);
  CHECK(text(out[0].payload) == "from-b");
  CHECK(out[0].seg.tuple == b.tuple);
  CHECK(out[0].seg.ack == b.nxt);
  CHECK(st.exts_in_use() == 1);
  // And B's peer resends what was refused: taken in full.
  h.deliver(b.make(flag::kAck | flag::kPsh, b.nxt, b.stack_nxt, Peer::bytes("cd")));
  b.nxt = b.nxt + 2;
  CHECK(text(h.app.received) == "req1abcd");
  h.deliver(b.ack());
  h.advance_by(st.config().delayed_ack);
  b.observe(h.take());
  CHECK(st.exts_in_use() == 0);

  // Both close cleanly; every pool is back to idle.
  for (auto [id, p] : {std::pair{ida, &a}, std::pair{idb, &b}}) {
    st.close(id);
    p->observe(h.take());
    h.deliver(p->ack());
    h.deliver(p->fin());
    p->observe(h.take());
  }
  h.advance_by(st.config().time_wait + Duration::s(1));
  h.check_idle();
}

// The application's word lies beside the record (Stack::user_): it reads 0
// on every new use of a slot, whatever the slot's last use left there.
TEST_CASE("the application's word: 0 on each new use of a slot", "[tcp][ext]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  Stack& st = sc.h.stack;
  ConnId id = *st.find(sc.peer.tuple);
  CHECK(st.user(id) == 0);
  for (uint16_t i = 1; i <= 3; ++i) {
    st.user(id) = 0x5a5a0000u + i;
    st.abort(id);
    sc.h.advance_by(Duration::ms(1));
    sc.h.take();
    Peer p(passive_tuple(static_cast<uint16_t>(kPeerPort + i)), kPeerIss + 1000u * i, full_peer());
    const ConnId next = open_passive(sc.h, p);
    INFO("slot " << id.idx << " -> " << next.idx);
    CHECK(st.user(next) == 0);
    id = next;
  }
}

// The delayed-ACK deadline is kept in 16 bits of 64 µs (ConnHot::ack_at16):
// a clock that jumps seconds past it still finds it due.
TEST_CASE("delayed ACK: due when the clock jumps seconds past its deadline", "[tcp][ext]") {
  const int64_t jump_ms = GENERATE(40, 1000, 3000, 10000);
  INFO(jump_ms << " ms");
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  auto out = sc.send(sc.peer.data("hello"));
  CHECK(out.empty());  // delayed
  sc.h.advance_by(Duration::ms(jump_ms));
  out = sc.collect();
  REQUIRE(!out.empty());
  CHECK(out[0].seg.ack == sc.peer.nxt);
  CHECK(sc.h.stack.counters().delayed_acks == 1);
}

}  // namespace
}  // namespace synmill::tcp::test
