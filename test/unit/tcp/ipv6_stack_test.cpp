// IPv6 through the stack (issue 15): the handshake, data both ways, close and
// TIME_WAIT on 16-byte addresses mapped to 12-byte tuples (addr_table6.hpp);
// SYN cookies and ISNs that cover the full addresses; IPv4 and IPv6
// connections on the same ports side by side; segments to addresses not ours
// and the land attack dropped; the address table back to empty.
#include <string_view>

#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

using wire::Ipv6Addr;

// 2001:2::/48, the IPv6 benchmarking range (RFC 5180).
const Ipv6Addr kStack6 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 1});
const Ipv6Addr kPeer6 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});
const Ipv6Addr kOther6 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 3});

struct Sent6 {
  SegmentOut seg;
  bool v6 = false;
  Ipv6Addr local, remote;
  std::vector<uint8_t> payload;
};

// Copies the addresses the segment points at: they are valid during emit only.
class Sink6 final : public TxSink {
 public:
  void emit(const SegmentOut& s) override {
    Sent6 out{s, s.local6 != nullptr, {}, {}, {}};
    REQUIRE((s.local6 != nullptr) == (s.remote6 != nullptr));
    REQUIRE((s.local6 != nullptr) == is_ipv6(s.tuple));
    if (out.v6) {
      out.local = *s.local6;
      out.remote = *s.remote6;
    }
    out.seg.local6 = out.seg.remote6 = nullptr;
    out.seg.payload_src = nullptr;
    if (s.payload_len > 0) {
      out.payload.resize(s.payload_len);
      s.payload_src->copy_to(s.payload_offset, s.payload_len, out.payload.data());
    }
    sent.push_back(std::move(out));
  }
  std::vector<Sent6> take() { return std::exchange(sent, {}); }
  std::vector<Sent6> sent;
};

struct World6 {
  explicit World6(StackConfig cfg = small_config()) : stack(cfg, test_secrets(), sink, now) {
    tag = *stack.add_local6(kStack6);
    REQUIRE(stack.listen(kServerPort, app));
  }
  Instant now = kT0;
  Sink6 sink;
  RecordingApp app;
  Stack stack;
  uint32_t tag = 0;

  static SegmentIn seg6(const Ipv6Addr& from, uint16_t from_port, uint8_t flags, Seq seq, Seq ack = Seq{}) {
    SegmentIn s;
    s.local6 = &kStack6;
    s.remote6 = &from;
    s.tuple.local_port = kServerPort;
    s.tuple.remote_port = from_port;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 65535;
    return s;
  }
  void deliver(const SegmentIn& s) { stack.on_segment(s, now); }

  // SYN, SYN-ACK, ACK from `from`: returns the SYN-ACK.
  Sent6 handshake(const Ipv6Addr& from, uint16_t port) {
    SegmentIn syn = seg6(from, port, flag::kSyn, kPeerIss);
    syn.opts.has_mss = true;
    syn.opts.mss = 1440;
    deliver(syn);
    auto out = sink.take();
    REQUIRE(out.size() == 1);
    const Sent6 synack = out[0];
    REQUIRE(synack.seg.flags == (flag::kSyn | flag::kAck));
    deliver(seg6(from, port, flag::kAck, kPeerIss + 1, synack.seg.seq + 1));
    return synack;
  }
};

}  // namespace

TEST_CASE("IPv6: handshake, data both ways, close; the address table empties", "[tcp][ipv6]") {
  World6 w;
  const Sent6 synack = w.handshake(kPeer6, kPeerPort);
  CHECK(synack.v6);
  CHECK(synack.local == kStack6);
  CHECK(synack.remote == kPeer6);
  CHECK(synack.seg.ack == kPeerIss + 1);
  CHECK(synack.seg.opts.mss == small_config().mss - 20);  // RFC 8200 §8.3: MTU - 60
  REQUIRE(w.app.count(RecordingApp::Kind::kOpen) == 1);
  const ConnId id = w.app.last_open;
  CHECK(w.stack.remote6_entries() == 1);
  CHECK(w.stack.state_of(w.stack.tuple6(w.tag, kServerPort, kPeer6, kPeerPort)) == State::kEstablished);
  CHECK(w.stack.state_of(w.stack.tuple6(w.tag, kServerPort, kOther6, kPeerPort)) == State::kListen);

  // Data in: delivered; data out: carries the IPv6 addresses.
  const std::string_view hello = "hello over IPv6";
  SegmentIn data = World6::seg6(kPeer6, kPeerPort, flag::kAck | flag::kPsh, kPeerIss + 1, synack.seg.seq + 1);
  data.payload = {reinterpret_cast<const uint8_t*>(hello.data()), hello.size()};
  w.deliver(data);
  CHECK(std::string_view(reinterpret_cast<const char*>(w.app.received.data()), w.app.received.size()) == hello);
  const uint8_t reply[3] = {'a', 'b', 'c'};
  CHECK(w.stack.send(id, reply) == 3);
  auto out = w.sink.take();
  REQUIRE_FALSE(out.empty());
  const Sent6& d = out.back();
  CHECK(d.v6);
  CHECK(d.remote == kPeer6);
  CHECK(d.payload == std::vector<uint8_t>{'a', 'b', 'c'});
  CHECK(d.seg.ack == kPeerIss + 1 + static_cast<uint32_t>(hello.size()));

  // We close first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT; the entry holds the address.
  const Seq our_next = synack.seg.seq + 1 + 3;
  REQUIRE(w.stack.close(id));
  out = w.sink.take();
  REQUIRE_FALSE(out.empty());
  CHECK((out.back().seg.flags & flag::kFin) != 0);
  const Seq peer_next = kPeerIss + 1 + static_cast<uint32_t>(hello.size());
  w.deliver(World6::seg6(kPeer6, kPeerPort, flag::kAck | flag::kFin, peer_next, our_next + 1));
  CHECK(w.stack.time_wait_count() == 1);
  CHECK(w.stack.conn_count() == 0);
  CHECK(w.stack.remote6_entries() == 1);
  CHECK(w.stack.state_of(w.stack.tuple6(w.tag, kServerPort, kPeer6, kPeerPort)) == State::kTimeWait);
  // A retransmitted FIN in TIME_WAIT is answered with the addresses the entry holds.
  w.sink.take();
  w.deliver(World6::seg6(kPeer6, kPeerPort, flag::kAck | flag::kFin, peer_next, our_next + 1));
  out = w.sink.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].v6);
  CHECK(out[0].local == kStack6);
  CHECK(out[0].remote == kPeer6);
  // TIME_WAIT expires: nothing holds the address any more.
  w.now = w.now + small_config().time_wait + Duration::s(1);
  w.stack.advance(w.now);
  CHECK(w.stack.time_wait_count() == 0);
  CHECK(w.stack.remote6_entries() == 0);
  CHECK(w.stack.timers_armed() == 0);
  CHECK(w.stack.chunks_in_use() == 0);
}

TEST_CASE("IPv6: an RST for a closed port and a refused peer hold nothing", "[tcp][ipv6]") {
  World6 w;
  SegmentIn syn = World6::seg6(kPeer6, kPeerPort, flag::kSyn, kPeerIss);
  syn.tuple.local_port = kClosedPort;
  w.deliver(syn);
  auto out = w.sink.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == (flag::kRst | flag::kAck));
  CHECK(out[0].v6);
  CHECK(out[0].remote == kPeer6);
  CHECK(w.stack.remote6_entries() == 0);
  // Not our address: dropped, counted, unanswered.
  SegmentIn stray = World6::seg6(kPeer6, kPeerPort, flag::kSyn, kPeerIss);
  stray.local6 = &kOther6;
  w.deliver(stray);
  CHECK(w.sink.take().empty());
  CHECK(w.stack.counters().drop.not_local6 == 1);
  // Land attack and the unspecified source: dropped, unanswered.
  SegmentIn land = World6::seg6(kStack6, kServerPort, flag::kSyn, kPeerIss);
  w.deliver(land);
  const Ipv6Addr unspecified{};
  w.deliver(World6::seg6(unspecified, kPeerPort, flag::kSyn, kPeerIss));
  CHECK(w.sink.take().empty());
  CHECK(w.stack.counters().drop.land == 2);
  CHECK(w.stack.conn_count() == 0);
}

TEST_CASE("IPv4 to 240.0.0.0/4 (the tag of IPv6 tuples) is dropped, never taken for IPv6", "[tcp][ipv6]") {
  World6 w;
  SegmentIn syn;
  syn.tuple = FourTuple{kLocal6Tag | 0, kPeerIp, kServerPort, kPeerPort};  // 240.0.0.0 from 198.18.0.2
  syn.seq = kPeerIss;
  syn.flags = flag::kSyn;
  w.deliver(syn);
  syn.flags = flag::kAck;  // would draw an RST if it reached the listener
  w.deliver(syn);
  CHECK(w.sink.take().empty());
  CHECK(w.stack.counters().drop.class_e == 2);
  CHECK(w.stack.conn_count() == 0);
  CHECK_FALSE(w.stack.connect(FourTuple{0xF0000001u, kPeerIp, kActivePort, kServerPort}, w.app, w.now).valid());
}

TEST_CASE("IPv6: SYN cookies cover the full addresses", "[tcp][ipv6][cookie]") {
  StackConfig cfg = small_config();
  cfg.cookies = CookieMode::kAlways;
  World6 w(cfg);
  SegmentIn syn = World6::seg6(kPeer6, kPeerPort, flag::kSyn, kPeerIss);
  w.deliver(syn);
  auto out = w.sink.take();
  REQUIRE(out.size() == 1);
  const Sent6 synack = out[0];
  CHECK(synack.v6);
  CHECK(synack.remote == kPeer6);
  CHECK(w.stack.conn_count() == 0);
  CHECK(w.stack.remote6_entries() == 0);  // a cookie holds nothing
  // The same ports and cookie from another address: both map to the same
  // 12-byte tuple (no entry for either), but the MAC covers the address.
  w.deliver(World6::seg6(kOther6, kPeerPort, flag::kAck, kPeerIss + 1, synack.seg.seq + 1));
  CHECK(w.stack.conn_count() == 0);
  CHECK(w.stack.counters().cookies_rejected == 1);
  w.sink.take();
  // From the right address: established.
  w.deliver(World6::seg6(kPeer6, kPeerPort, flag::kAck, kPeerIss + 1, synack.seg.seq + 1));
  CHECK(w.stack.counters().cookies_validated == 1);
  CHECK(w.stack.conn_count() == 1);
  CHECK(w.stack.remote6_entries() == 1);
  CHECK(w.app.count(RecordingApp::Kind::kOpen) == 1);
  w.stack.abort(w.app.last_open);
  w.stack.advance(w.now);
  CHECK(w.stack.conn_count() == 0);
  CHECK(w.stack.remote6_entries() == 0);
}

TEST_CASE("IPv6: ISNs differ for peers whose tuples share table indexes", "[tcp][ipv6]") {
  // Two stacks with the same secrets: each sees one peer first, so both
  // peers get remote index 0 and the same 12-byte tuple; RFC 6528's F must
  // still differ because it covers the addresses.
  World6 a, b;
  const Sent6 sa = a.handshake(kPeer6, kPeerPort);
  const Sent6 sb = b.handshake(kOther6, kPeerPort);
  CHECK(a.stack.tuple6(a.tag, kServerPort, kPeer6, kPeerPort) ==
        b.stack.tuple6(b.tag, kServerPort, kOther6, kPeerPort));
  CHECK(sa.seg.seq != sb.seg.seq);
}

TEST_CASE("IPv6 and IPv4 connections on the same ports stay apart", "[tcp][ipv6]") {
  World6 w;
  w.handshake(kPeer6, kPeerPort);
  // IPv4 on the same ports.
  SegmentIn syn4;
  syn4.tuple = passive_tuple();
  syn4.seq = kPeerIss;
  syn4.flags = flag::kSyn;
  syn4.window = 65535;
  w.deliver(syn4);
  auto out = w.sink.take();
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].v6);
  CHECK(out[0].seg.opts.mss == small_config().mss);
  CHECK(w.stack.conn_count() == 2);
  CHECK(w.stack.state_of(passive_tuple()) == State::kSynRcvd);
  CHECK(w.stack.state_of(w.stack.tuple6(w.tag, kServerPort, kPeer6, kPeerPort)) == State::kEstablished);
  // An active open over IPv6.
  const ConnId c = w.stack.connect6(w.tag, kActivePort, kOther6, kServerPort, w.app, w.now);
  REQUIRE(c.valid());
  out = w.sink.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kSyn);
  CHECK(out[0].remote == kOther6);
  CHECK(out[0].seg.opts.mss == small_config().mss - 20);
  CHECK(w.stack.remote6_entries() == 2);
  w.stack.abort_all(w.now);
  CHECK(w.stack.conn_count() == 0);
  CHECK(w.stack.remote6_entries() == 0);
}

}  // namespace synmill::tcp::test
