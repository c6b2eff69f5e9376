// Options through the real Stack: PAWS and TS.Recent (RFC 7323 §3.2, §4.3,
// §5.2, §5.3), window scale (RFC 7323 §2.2, §2.3), MSS (RFC 9293 §3.7.1,
// RFC 6691).
#include "harness.hpp"

namespace synmill::tcp::test {
namespace {

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + 1);
  return v;
}

// ---- PAWS ------------------------------------------------------------------------

TEST_CASE("RFC 7323 §5.3 R1: PAWS drops a segment with an older TSval and sends an ACK",
          "[tcp][options][paws]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const uint32_t recent = sc.peer.ts_clock - 1;  // TSval of the handshake's last ACK
  SegmentIn s = sc.peer.make(flag::kAck | flag::kPsh, sc.peer.nxt, sc.peer.stack_nxt, Peer::bytes("old"));
  s.opts.ts_val = recent - 1;
  const auto out = sc.send(s);
  INFO("sent " << describe(out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.seq.raw() == (sc.peer.stack_nxt).raw());
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  CHECK(out[0].seg.opts.has_timestamps);
  CHECK(out[0].seg.opts.ts_ecr == recent);  // TS.Recent unchanged
  CHECK(sc.h.app.received.empty());
  CHECK(sc.h.stack.counters().drop.paws == 1);

  // The same bytes with TSval = TS.Recent are fine (not older).
  SegmentIn again = sc.peer.make(flag::kAck | flag::kPsh, sc.peer.nxt, sc.peer.stack_nxt, Peer::bytes("new"));
  again.opts.ts_val = recent;
  const auto out2 = sc.send_data(again);
  REQUIRE(out2.size() == 1);
  CHECK(out2[0].seg.ack.raw() == (sc.peer.nxt + 3).raw());
  CHECK(sc.h.app.received.size() == 3);
}

TEST_CASE("RFC 7323 §3.2: once negotiated, a non-RST segment without timestamps is dropped",
          "[tcp][options][paws]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  SegmentIn s = sc.peer.make(flag::kAck | flag::kPsh, sc.peer.nxt, sc.peer.stack_nxt, Peer::bytes("x"));
  s.opts.has_timestamps = false;
  CHECK(sc.send(s).empty());
  CHECK(sc.h.app.received.empty());
  CHECK(str(sc.state()) == str(State::kEstablished));
}

TEST_CASE("RFC 7323 §5.2: an RST is acceptable whatever its timestamp", "[tcp][options][paws]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  SegmentIn r = sc.peer.make(flag::kRst, sc.peer.stack_ack, Seq{});
  r.opts.has_timestamps = true;
  r.opts.ts_val = sc.peer.ts_clock - 1000;  // far older than TS.Recent
  CHECK(sc.send(r).empty());
  CHECK_FALSE(sc.has_tcb());
  CHECK(str(sc.h.app.closed_reason()) == str(CloseReason::kReset));
}

TEST_CASE("RFC 7323 §4.3: TS.Recent follows only segments that start at the left edge",
          "[tcp][options][paws]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const uint32_t base = sc.peer.ts_clock;
  // Out of order (beyond RCV.NXT) with a TSval far in the future: duplicate
  // ACK, TS.Recent not taken from it.
  SegmentIn ooo = sc.peer.make(flag::kAck, sc.peer.nxt + 100, sc.peer.stack_nxt, Peer::bytes("zz"));
  ooo.opts.ts_val = base + 100000;
  const auto out = sc.send(ooo);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.ack.raw() == (sc.peer.nxt).raw());
  // The in-order segment with a smaller (but newer than TS.Recent) TSval is
  // accepted, and echoed.
  SegmentIn in = sc.peer.make(flag::kAck, sc.peer.nxt, sc.peer.stack_nxt, Peer::bytes("ab"));
  in.opts.ts_val = base + 1;
  const auto out2 = sc.send(in);
  REQUIRE(out2.size() == 1);
  CHECK(out2[0].seg.ack.raw() == (sc.peer.nxt + 2).raw());
  CHECK(out2[0].seg.opts.ts_ecr == base + 1);
  CHECK(sc.h.app.received.size() == 2);
}

TEST_CASE("RFC 7323 §5.3 / RFC 5961 §4.2: an in-window SYN that draws a challenge ACK leaves TS.Recent",
          "[tcp][options][paws][rfc5961][issue11]") {
  const uint8_t flags = GENERATE(uint8_t{flag::kSyn}, uint8_t{flag::kSyn | flag::kAck});
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const uint32_t last = sc.peer.ts_clock - 1;  // TSval of the handshake's ACK: TS.Recent
  // A SYN (or SYN-ACK) at RCV.NXT with a much newer TSval: challenge ACK,
  // segment dropped, TS.Recent unchanged (as Linux: tcp_validate_incoming
  // answers it before tcp_ack replaces ts_recent).
  SegmentIn syn = sc.peer.make(flags, sc.peer.nxt, sc.peer.stack_nxt);
  syn.opts.ts_val = last + 100000;
  const auto out = sc.send(syn);
  REQUIRE(out.size() == 1);
  CHECK(flags_str(out[0].seg.flags) == "ACK");
  CHECK(out[0].seg.ack.raw() == sc.peer.nxt.raw());
  CHECK(out[0].seg.opts.ts_ecr == last);
  // The peer's next segment, with its own (older than the SYN's) TSval, is
  // not a PAWS victim: it is taken and echoed.
  SegmentIn in = sc.peer.make(flag::kAck, sc.peer.nxt, sc.peer.stack_nxt, Peer::bytes("ab"));
  const auto out2 = sc.send_data(in);
  REQUIRE(out2.size() == 1);
  CHECK(out2[0].seg.ack.raw() == (sc.peer.nxt + 2).raw());
  CHECK(out2[0].seg.opts.ts_ecr == in.opts.ts_val);
  CHECK(sc.h.app.received.size() == 2);
  CHECK(sc.h.stack.counters().drop.paws == 0);
}

TEST_CASE("RFC 7323 §5.2: TSval comparison is serial, across 2^32", "[tcp][options][paws]") {
  PeerOptions po = full_peer();
  po.ts_start = 0xFFFFFFFFu - 2;  // wraps during the data below
  Scenario sc(po);
  sc.to(State::kEstablished);
  for (int i = 0; i < 10; ++i) {
    const auto out = sc.send_data(sc.peer.data("d"));
    REQUIRE(out.size() == 1);
  }
  CHECK(sc.peer.ts_clock < 100);  // wrapped
  CHECK(sc.h.app.received.size() == 10);
  CHECK(sc.h.stack.counters().drop.paws == 0);
}

TEST_CASE("RFC 7323 §5.4: the stack's TSval is a 1 ms clock offset by the secret",
          "[tcp][options][ts]") {
  Scenario sc(full_peer());
  sc.to(State::kEstablished);
  const auto ts_at = [&](Instant t) {
    return static_cast<uint32_t>(t.ns() / 1000000) + test_secrets().ts_offset;
  };
  const auto a = sc.send_data(sc.peer.data("a"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].seg.opts.ts_val == ts_at(sc.h.now));
  sc.h.advance_by(Duration::ms(7));
  const auto b = sc.send_data(sc.peer.data("b"));
  REQUIRE(b.size() == 1);
  // 7 ms of clock plus the delayed-ACK wait before each ACK (RFC 1122 §4.2.3.2)
  CHECK(b[0].seg.opts.ts_val ==
        a[0].seg.opts.ts_val + 7 + static_cast<uint32_t>(sc.h.stack.config().delayed_ack.count_ms()));
}

// ---- window scale --------------------------------------------------------------------

TEST_CASE("RFC 7323 §2.3: a window scale above 14 from the peer is used as 14",
          "[tcp][options][wscale]") {
  const uint8_t offered = GENERATE(uint8_t{14}, uint8_t{15}, uint8_t{200});
  PeerOptions po = plain_peer();
  po.wscale = true;
  po.wscale_value = offered;
  Scenario sc(po);
  sc.to(State::kSynRcvd);
  sc.peer.opts.window = 3;
  sc.send(sc.peer.ack());
  REQUIRE(str(sc.state()) == str(State::kEstablished));
  const auto info = sc.h.stack.info(*sc.h.stack.find(sc.peer.tuple));
  REQUIRE(info.has_value());
  CHECK(info->snd_wnd == (3u << 14));
}

TEST_CASE("RFC 7323 §2.3: our own shift above 14 is clamped to 14", "[tcp][options][wscale]") {
  StackConfig cfg = small_config();
  cfg.wscale = 20;
  cfg.rcv_wnd = 1u << 20;
  cfg.send_chunks = 1024;  // the pool must hold the whole 1 MiB window, or the window shrinks to it
  PeerOptions po = plain_peer();
  po.wscale = true;
  Scenario sc(po, Origin::kPassive, cfg);
  sc.to(State::kSynRcvd);
  // (the SYN-ACK was checked by the builder; look at what the peer learned)
  CHECK(sc.peer.stack_offered_ws);
  CHECK(sc.peer.stack_ws == 14);
  const auto out = sc.send_data(sc.peer.data("x"));  // completes the handshake and carries a byte
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.window == ((1u << 20) >> 14));
}

TEST_CASE("RFC 7323 §2.2: window scale applies only when both sides sent the option, never in a SYN",
          "[tcp][options][wscale]") {
  StackConfig cfg = small_config();
  cfg.rcv_wnd = 256 * 1024;
  SECTION("the peer offers no window scale: none in our SYN-ACK, windows unscaled") {
    Scenario sc(plain_peer(), Origin::kPassive, cfg);
    sc.to(State::kListen);
    const auto synack = sc.send(sc.peer.syn());
    REQUIRE(synack.size() == 1);
    CHECK_FALSE(synack[0].seg.opts.has_wscale);
    CHECK(synack[0].seg.window == 65535);
    sc.peer.opts.window = 1000;
    sc.send(sc.peer.ack());
    const auto info = sc.h.stack.info(*sc.h.stack.find(sc.peer.tuple));
    CHECK(info->snd_wnd == 1000);
    const auto out = sc.send_data(sc.peer.data("x"));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.window == 65535);
  }
  SECTION("the peer offers 2: its SYN's window is taken as is, later windows << 2") {
    PeerOptions po = plain_peer();
    po.wscale = true;
    po.wscale_value = 2;
    po.window = 1000;
    Scenario sc(po, Origin::kPassive, cfg);
    sc.to(State::kSynRcvd);
    CHECK(sc.h.stack.info(*sc.h.stack.find(sc.peer.tuple))->snd_wnd == 1000);
    sc.peer.opts.window = 100;
    sc.send(sc.peer.ack());
    CHECK(sc.h.stack.info(sc.h.app.last_open)->snd_wnd == 400);
    // ... and the stack sends no more than that.
    const auto data = pattern(2000);
    CHECK(sc.h.stack.send(sc.h.app.last_open, data) == 2000);
    uint32_t sent = 0;
    for (const Sent& s : sc.collect()) sent += static_cast<uint32_t>(s.payload.size());
    CHECK(sent == 400);
  }
  SECTION("active open: our SYN offers it; a SYN-ACK without it turns scaling off") {
    Scenario sc(plain_peer(), Origin::kActive, cfg);
    sc.to(State::kSynSent);
    CHECK(sc.peer.stack_offered_ws);
    CHECK(sc.peer.stack_ws == 7);
    sc.send(sc.peer.synack());
    const auto out = sc.send_data(sc.peer.data("x"));
    REQUIRE(out.size() == 1);
    CHECK(out[0].seg.window == 65535);
  }
}

// ---- MSS ----------------------------------------------------------------------------

struct MssCase {
  bool has_mss;
  uint16_t mss;
  bool ts;
  uint32_t max_payload;  // largest payload allowed: peer MSS (536 if absent), capped by ours, minus options
};

TEST_CASE("RFC 9293 §3.7.1: never send more than the peer's MSS (536 when absent)",
          "[tcp][options][mss]") {
  const MssCase c = GENERATE(MssCase{false, 0, false, 536}, MssCase{true, 1000, false, 1000},
                             MssCase{true, 1000, true, 1000 - 12}, MssCase{true, 9000, false, 1460},
                             MssCase{false, 0, true, 536 - 12}, MssCase{true, 100, false, 100});
  const Origin origin = GENERATE(Origin::kPassive, Origin::kActive);
  INFO("peer MSS " << (c.has_mss ? std::to_string(c.mss) : std::string("absent"))
                   << (c.ts ? " with timestamps" : "") << ", "
                   << (origin == Origin::kActive ? "active" : "passive"));
  PeerOptions po = c.ts ? full_peer() : plain_peer();
  po.mss = c.has_mss;
  po.mss_value = c.mss;
  Scenario sc(po, origin);
  sc.to(State::kEstablished);
  const auto data = pattern(40000);
  REQUIRE(sc.h.stack.send(sc.id, data) == data.size());
  // Let it all flow: the peer acknowledges whatever arrives.
  std::vector<uint8_t> got;
  uint32_t largest = 0;
  for (int round = 0; round < 200 && got.size() < data.size(); ++round) {
    const auto out = sc.collect();
    for (const Sent& s : out) {
      largest = std::max<uint32_t>(largest, static_cast<uint32_t>(s.payload.size()));
      if (s.seg.seq == sc.peer.stack_iss + 1 + static_cast<uint32_t>(got.size()))
        got.insert(got.end(), s.payload.begin(), s.payload.end());
    }
    sc.h.deliver(sc.peer.ack());
  }
  CHECK(got == data);
  CHECK(largest == c.max_payload);
}

// Documented deviation (syn_cookie.hpp, stack_input.cpp kMinSndMss): a peer MSS
// below 64 is raised to 64 against tiny-segment resource attacks (Linux
// tcp_min_snd_mss, CVE-2019-11479); RFC 9293 §3.7.1 would send at most the
// peer's value.
TEST_CASE("MSS below 64 is raised to 64 (documented deviation from RFC 9293 §3.7.1)",
          "[tcp][options][mss]") {
  PeerOptions po = plain_peer();
  po.mss_value = 20;
  Scenario sc(po);
  sc.to(State::kEstablished);
  const auto data = pattern(200);
  sc.h.stack.send(sc.id, data);
  const auto out = sc.collect();
  REQUIRE_FALSE(out.empty());
  for (const Sent& s : out) CHECK(s.payload.size() <= 64);
  CHECK(out[0].payload.size() == 64);
}

TEST_CASE("RFC 9293 §3.7.1: the SYN and SYN-ACK carry our MSS", "[tcp][options][mss]") {
  StackConfig cfg = small_config();
  cfg.mss = 1200;
  Scenario passive(plain_peer(), Origin::kPassive, cfg);
  passive.to(State::kSynRcvd);
  CHECK(passive.peer.stack_mss == 1200);
  Scenario active(plain_peer(), Origin::kActive, cfg);
  active.to(State::kSynSent);
  CHECK(active.peer.stack_mss == 1200);
}

}  // namespace
}  // namespace synmill::tcp::test
