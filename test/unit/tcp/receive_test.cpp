// The receiving side against a scripted peer: the out-of-order queue and its
// SACK blocks (RFC 2018, RFC 2883 D-SACK), delayed ACKs (RFC 1122 §4.2.3.2,
// RFC 5681 §4.2), a zero window when the application does not read and the
// answers to the peer's probes (RFC 9293 §3.8.6), window-scale edge cases
// (RFC 7323 §2), and the echo application under backpressure.
#include <string>

#include "harness.hpp"
#include "tcp/apps/echo.hpp"

namespace synmill::tcp::test {
namespace {

using K = RecordingApp::Kind;

std::string text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// A data segment from the peer at an offset from `base`, not moving peer.nxt.
SegmentIn at(Scenario& sc, Seq base, uint32_t off, std::string_view d) {
  return sc.peer.make(flag::kAck | flag::kPsh, base + off, sc.peer.stack_nxt, Peer::bytes(d));
}

TEST_CASE("RFC 9293 §3.10.7.4 / RFC 5681 §4.2: out-of-order data is held and delivered once the hole fills",
          "[tcp][receive][ooo]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  // "BBB" and "DDD" arrive before "AAA" and "CCC".
  auto out = sc.send(at(sc, base, 3, "BBB"));
  REQUIRE(out.size() == 1);  // immediate duplicate ACK ...
  CHECK(out[0].seg.ack.raw() == base.raw());
  REQUIRE(out[0].seg.opts.sack_count == 1);  // ... with the block (RFC 2018 §4)
  CHECK(out[0].seg.opts.sack[0].left == (base + 3).raw());
  CHECK(out[0].seg.opts.sack[0].right == (base + 6).raw());
  out = sc.send(at(sc, base, 9, "DDD"));
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seg.opts.sack_count == 2);
  CHECK(out[0].seg.opts.sack[0].left == (base + 9).raw());  // the newest block first
  CHECK(out[0].seg.opts.sack[1].left == (base + 3).raw());
  CHECK(sc.h.app.received.empty());
  CHECK(sc.h.stack.counters().ooo_queued == 2);
  // "AAA" fills the first hole: "AAABBB" delivered, the ACK goes at once.
  out = sc.send(at(sc, base, 0, "AAA"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (base + 6).raw());
  REQUIRE(out[0].seg.opts.sack_count == 1);
  CHECK(text(sc.h.app.received) == "AAABBB");
  out = sc.send(at(sc, base, 6, "CCC"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (base + 12).raw());
  CHECK(out[0].seg.opts.sack_count == 0);
  CHECK(text(sc.h.app.received) == "AAABBBCCCDDD");
  CHECK(sc.h.stack.counters().ooo_filled == 2);
  CHECK(sc.h.stack.chunks_in_use() == 0);  // the buffer is empty again
}

TEST_CASE("out-of-order queue: a FIN beyond a hole is kept and acted on when the hole fills",
          "[tcp][receive][ooo][fin]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  SegmentIn fin = sc.peer.make(flag::kAck | flag::kFin, base + 4, sc.peer.stack_nxt, Peer::bytes("tail"));
  auto out = sc.send(fin);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == base.raw());
  CHECK(str(sc.state()) == str(State::kEstablished));
  out = sc.send(at(sc, base, 0, "head"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (base + 9).raw());  // 8 bytes and the FIN
  CHECK(text(sc.h.app.received) == "headtail");
  CHECK(str(sc.state()) == str(State::kCloseWait));
  CHECK(sc.h.app.count(K::kPeerClose) == 1);
}

TEST_CASE("out-of-order queue: bounded to 8 blocks; the ninth range is dropped and counted",
          "[tcp][receive][ooo]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  for (uint32_t k = 0; k < 9; ++k) sc.send(at(sc, base, 2 + 4 * k, "xx"));
  CHECK(sc.h.stack.counters().ooo_queued == 8);
  CHECK(sc.h.stack.counters().drop.ooo_dropped == 1);
  // A range touching an existing block still fits (it merges).
  sc.send(at(sc, base, 4, "yy"));
  CHECK(sc.h.stack.counters().ooo_queued == 9);
  const auto out = sc.send(at(sc, base, 0, "zz"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (base + 8).raw());  // up to the next hole at +8
  CHECK(text(sc.h.app.received) == "zzxxyyxx");
}

TEST_CASE("RFC 2883: a duplicate segment is reported in a D-SACK block", "[tcp][receive][dsack]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const Seq base = sc.peer.nxt;
  sc.send_data(sc.peer.data("hello"));
  const auto out = sc.send(at(sc, base, 0, "hello"));
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seg.opts.sack_count == 1);
  CHECK(out[0].seg.opts.sack[0].left == base.raw());
  CHECK(out[0].seg.opts.sack[0].right == (base + 5).raw());
  CHECK(sc.h.stack.counters().dsack_sent == 1);
  CHECK(text(sc.h.app.received) == "hello");
}

TEST_CASE("RFC 1122 §4.2.3.2 / RFC 5681 §4.2: ACK every second full segment, else after the delay",
          "[tcp][receive][delack]") {
  Scenario sc;
  sc.to(State::kEstablished);
  const std::string full(1460, 'f');
  CHECK(sc.send(sc.peer.data(full)).empty());  // first full segment: the ACK waits
  auto out = sc.send(sc.peer.data(full));      // second: ACK now
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == sc.peer.nxt.raw());
  // A small segment alone: ACKed when the timer fires, not before.
  CHECK(sc.send(sc.peer.data("x")).empty());
  sc.h.advance_by(sc.h.stack.config().delayed_ack - Duration::ms(2));
  CHECK(sc.collect().empty());
  sc.h.advance_by(Duration::ms(2));
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == sc.peer.nxt.raw());
  CHECK(sc.h.stack.counters().delayed_acks == 1);
  // An answer from the application carries the ACK: none is sent separately.
  CHECK(sc.send(sc.peer.data("y")).empty());
  REQUIRE(sc.h.stack.send(sc.id, Peer::bytes("reply")) == 5);
  out = sc.collect();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == 5);
  CHECK(out[0].seg.ack.raw() == sc.peer.nxt.raw());
  sc.h.advance_by(sc.h.stack.config().delayed_ack);
  CHECK(sc.collect().empty());
  CHECK(sc.h.stack.timers_armed() == 1);  // only the retransmission timer of "reply"
}

TEST_CASE("delayed ACK off (delayed_ack = 0): every data segment is ACKed at once",
          "[tcp][receive][delack]") {
  StackConfig cfg = small_config();
  cfg.delayed_ack = Duration{};
  Scenario sc(plain_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  CHECK(sc.send(sc.peer.data("a")).size() == 1);
  CHECK(sc.send(sc.peer.data("b")).size() == 1);
}

TEST_CASE("zero window: an application that does not read closes the window; probes get ACKs; reading reopens it",
          "[tcp][receive][zero_window]") {
  const bool via_rcv_space = GENERATE(false, true);
  Scenario sc;
  sc.to(State::kEstablished);
  const uint32_t wnd = sc.h.stack.config().rcv_wnd;  // 8192
  if (via_rcv_space) sc.h.app.space = 0;  // the application says it has no room
  sc.h.app.take_limit = 0;                // ... and takes nothing
  const std::string chunk(1024, 'q');
  uint32_t sent = 0;
  std::vector<Sent> out;
  if (via_rcv_space) {
    // The window was already advertised; the next ACK announces zero.
    out = sc.send_data(sc.peer.data(chunk));
    sent += 1024;
    REQUIRE_FALSE(out.empty());
    CHECK(out.back().seg.window == 0);
  } else {
    for (uint32_t k = 0; k < wnd / 1024; ++k) {
      out = sc.send_data(sc.peer.data(chunk));
      sent += 1024;
    }
    REQUIRE_FALSE(out.empty());
    CHECK(out.back().seg.window == 0);  // bytes buffered = the whole window
    CHECK(out.back().seg.ack.raw() == sc.peer.nxt.raw());  // all acknowledged, none dropped
  }
  CHECK(sc.h.stack.counters().zero_window_sent >= 1);
  CHECK(sc.peer.rcv_wnd() <= wnd - sent + 1024);
  // The peer probes once the edge is reached: answered with window 0, not taken.
  if (!via_rcv_space) {
    const Seq probe_at = sc.peer.nxt;
    out = sc.send(sc.peer.make(flag::kAck, probe_at, sc.peer.stack_nxt, Peer::bytes("p")));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.ack.raw() == probe_at.raw());
    CHECK(out[0].seg.window == 0);
    CHECK(sc.h.stack.counters().zero_window_probes_answered == 1);
    CHECK(sc.h.stack.counters().drop.zero_window == 1);
  }
  // The application reads again: the held bytes arrive, a window update follows.
  sc.h.app.take_limit = UINT32_MAX;
  sc.h.app.space = UINT32_MAX;
  sc.h.stack.resume_receive(sc.id);
  out = sc.collect();
  CHECK(sc.h.app.received.size() == sent);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.window == wnd);
  CHECK(sc.h.stack.counters().window_updates >= 1);
  CHECK(sc.h.stack.chunks_in_use() == 0);
}

TEST_CASE("zero window: a FIN after unread bytes waits until the application took them",
          "[tcp][receive][zero_window][fin]") {
  Scenario sc;
  sc.to(State::kEstablished);
  sc.h.app.take_limit = 2;
  sc.send_data(sc.peer.data("abcdef"));
  CHECK(text(sc.h.app.received) == "ab");
  // The FIN is in order but "cdef" is unread: it is not acknowledged yet.
  auto out = sc.send(sc.peer.fin());
  CHECK(str(sc.state()) == str(State::kEstablished));
  CHECK(sc.h.app.count(K::kPeerClose) == 0);
  sc.h.app.take_limit = UINT32_MAX;
  sc.send(sc.peer.make(flag::kAck | flag::kFin, sc.peer.nxt - 1, sc.peer.stack_nxt));
  CHECK(text(sc.h.app.received) == "abcdef");
  CHECK(str(sc.state()) == str(State::kCloseWait));
  CHECK(sc.h.app.count(K::kPeerClose) == 1);
}

TEST_CASE("RFC 7323 §2.3: a window below 2^shift is advertised as 0, and the right edge never moves left",
          "[tcp][receive][wscale]") {
  StackConfig cfg = small_config();
  cfg.rcv_wnd = 8192;  // field 64 with shift 7
  Scenario sc(full_peer(), Origin::kPassive, cfg);
  sc.to(State::kEstablished);
  sc.h.app.take_limit = 0;
  const Seq edge = sc.peer.right_edge;
  // 8192 - 8100 = 92 bytes of room: less than 128, so the field is 0 ...
  const std::string big(8100, 'w');
  sc.send_data(sc.peer.data(big.substr(0, 4050)));
  const auto last = sc.send_data(sc.peer.data(big.substr(4050)));
  REQUIRE_FALSE(last.empty());
  CHECK(last.back().seg.window == 0);
  // ... but the bytes up to the edge offered earlier are still accepted.
  CHECK(sc.peer.right_edge.raw() == edge.raw());
  const auto more = sc.send_data(sc.peer.data(std::string(92, 'e')));
  REQUIRE_FALSE(more.empty());
  CHECK(more.back().seg.ack.raw() == (edge).raw());
  CHECK(sc.h.stack.counters().drop.out_of_window == 0);
}

TEST_CASE("RFC 7323 §2.2: the peer's largest scaled window (65535 << 14) is held without overflow",
          "[tcp][receive][wscale]") {
  PeerOptions po = full_peer();
  po.wscale_value = 14;
  Scenario sc(po);
  sc.to(State::kEstablished);
  const auto info = sc.h.stack.info(sc.id);
  CHECK(info->snd_wnd == (65535u << 14));
  // A window field of 1 means 16 KiB.
  sc.peer.opts.window = 1;
  sc.send(sc.peer.ack());
  CHECK(sc.h.stack.info(sc.id)->snd_wnd == (1u << 14));
}

TEST_CASE("apps: echo under backpressure keeps every byte (receive buffer, zero window, on_writable)",
          "[tcp][apps][echo][backpressure]") {
  StackConfig cfg = small_config();
  cfg.send_buf = 2048;
  cfg.rcv_wnd = 8192;
  Harness h(cfg);
  EchoApp echo;
  REQUIRE(h.stack.listen(kServerPort, echo));
  Peer peer(passive_tuple(), kPeerIss, plain_peer());
  peer.opts.window = 1024;  // the peer reads slowly: echoes go out 1 KiB at a time
  h.deliver(peer.syn());
  peer.observe(h.take());
  h.deliver(peer.ack());
  h.take();
  std::string input;
  for (int i = 0; i < 6000; ++i) input.push_back(static_cast<char>('a' + i % 26));
  std::string echoed;
  Seq next_in = peer.stack_nxt;  // next byte of the echo we expect
  size_t fed = 0;
  for (int round = 0; round < 400 && echoed.size() < input.size(); ++round) {
    // Feed as much as the stack's window allows.
    if (fed < input.size() && peer.rcv_wnd() > 0) {
      const size_t n = std::min<size_t>({input.size() - fed, peer.rcv_wnd(), 1000});
      h.deliver(peer.data(std::string_view(input).substr(fed, n)));
      fed += n;
    }
    for (const Sent& s : h.take()) {
      peer.observe(s);
      if (s.seg.seq == next_in && !s.payload.empty()) {
        echoed.append(s.payload.begin(), s.payload.end());
        next_in += static_cast<uint32_t>(s.payload.size());
      }
    }
    // The peer acknowledges what it got.
    h.deliver(peer.make(flag::kAck, peer.nxt, next_in));
    h.advance_by(Duration::ms(50));
  }
  CHECK(echoed == input);
  CHECK(h.stack.counters().drop.rcv_buffer_full == 0);
}

}  // namespace
}  // namespace synmill::tcp::test
