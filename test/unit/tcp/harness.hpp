#pragma once
// Test harness for the TCP core (lib/tcp) driven through the real Stack:
//
//   RecordingSink  a TxSink that keeps a copy of every emitted segment, with
//                  its payload bytes copied out at emit time
//   RecordingApp   an App that logs every callback and can close / shut down /
//                  abort from inside on_open, on_data or on_peer_close
//   Harness        one Stack with its sink, its app and a manual clock
//   Peer           the remote end, scripted by the test: builds SegmentIn as
//                  the stack sees them (tuple.local = the stack's side) and
//                  learns the stack's ISS, SND.NXT, RCV.NXT and advertised
//                  window from the segments the stack emits
//   Scenario       a Harness plus one Peer, with builders that drive the
//                  connection into each RFC 9293 state through real segments
//
// Everything is deterministic: fixed secrets, Instants chosen by the test.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "tcp/stack.hpp"


namespace synmill::tcp::test {

// Strings for Catch's failure messages. (No Catch::StringMaker specialisation
// for library types: another test file instantiating the primary template for
// the same type would make it an ODR violation.)
inline std::string str(State s) { return std::string(to_string(s)); }
inline std::string str(CloseReason r) { return to_string(r); }
inline std::string str(std::optional<CloseReason> r) { return r ? str(*r) : std::string("(none)"); }

// ---- addresses (benchmarking range 198.18.0.0/15) and fixed inputs -----------
inline constexpr uint32_t kStackIp = 0xC6120001;  // 198.18.0.1
inline constexpr uint32_t kPeerIp = 0xC6120002;   // 198.18.0.2
inline constexpr uint16_t kServerPort = 80;       // the stack listens here
inline constexpr uint16_t kClosedPort = 81;       // nobody listens here
inline constexpr uint16_t kPeerPort = 40000;      // the peer's port for passive opens
inline constexpr uint16_t kActivePort = 50000;    // the stack's port for active opens
inline constexpr Instant kT0{1'000'000'000'000};  // 1000 s after the epoch of the clock
inline constexpr Seq kPeerIss{0x10000000};

// Tuple of a connection to our listener, as the stack sees it.
inline FourTuple passive_tuple(uint16_t peer_port = kPeerPort) {
  return FourTuple{kStackIp, kPeerIp, kServerPort, peer_port};
}
// Tuple of a connection the stack opens, as the stack sees it.
inline FourTuple active_tuple(uint16_t local_port = kActivePort) {
  return FourTuple{kStackIp, kPeerIp, local_port, kServerPort};
}

// Small pools so that building a Stack per test case is cheap.
inline StackConfig small_config() {
  StackConfig c;
  c.max_conns = 32;
  c.max_time_wait = 32;
  c.send_chunks = 256;
  c.chunk_size = 2048;
  c.send_buf = 64 * 1024;
  c.rcv_wnd = 8192;  // a multiple of 2^7: exact with our window scale 7
  c.backlog = 16;
  c.accept_queue = 16;
  return c;
}

inline StackSecrets test_secrets() {
  StackSecrets s;
  s.isn_key = SipKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  s.cookie_key = SipKey{0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL};
  s.table_seed = 0x5eed5eed5eed5eedULL;
  s.ts_offset = 0x01000000;
  return s;
}

// ---- what the stack sent -------------------------------------------------------
struct Sent {
  SegmentOut seg;                // payload_src cleared: the bytes are below
  std::vector<uint8_t> payload;  // copied at emit time

  bool has(uint8_t f) const { return (seg.flags & f) != 0; }
  uint32_t seg_len() const {
    return static_cast<uint32_t>(payload.size()) + (has(flag::kSyn) ? 1u : 0u) +
           (has(flag::kFin) ? 1u : 0u);
  }
  Seq end() const { return seg.seq + seg_len(); }
};

inline std::string flags_str(uint8_t f) {
  std::string s;
  const auto add = [&](uint8_t bit, const char* name) {
    if (!(f & bit)) return;
    if (!s.empty()) s += '|';
    s += name;
  };
  add(flag::kSyn, "SYN");
  add(flag::kFin, "FIN");
  add(flag::kRst, "RST");
  add(flag::kPsh, "PSH");
  add(flag::kAck, "ACK");
  add(flag::kUrg, "URG");
  return s.empty() ? std::string("none") : s;
}

inline std::string describe(const Sent& s) {
  std::string r = "<" + flags_str(s.seg.flags) + " seq=" + std::to_string(s.seg.seq.raw()) +
                  " ack=" + std::to_string(s.seg.ack.raw()) +
                  " win=" + std::to_string(s.seg.window) +
                  " len=" + std::to_string(s.payload.size());
  if (s.seg.opts.has_mss) r += " mss=" + std::to_string(s.seg.opts.mss);
  if (s.seg.opts.has_wscale) r += " ws=" + std::to_string(s.seg.opts.wscale);
  if (s.seg.opts.sack_permitted) r += " sackok";
  if (s.seg.opts.has_timestamps)
    r += " ts=" + std::to_string(s.seg.opts.ts_val) + "/" + std::to_string(s.seg.opts.ts_ecr);
  return r + ">";
}

inline std::string describe(const std::vector<Sent>& v) {
  if (v.empty()) return "(nothing)";
  std::string r;
  for (const Sent& s : v) r += describe(s) + " ";
  return r;
}

class RecordingSink final : public TxSink {
 public:
  void emit(const SegmentOut& s) override {
    Sent out{s, {}};
    out.seg.payload_src = nullptr;
    if (s.payload_len > 0) {
      REQUIRE(s.payload_src != nullptr);
      out.payload.resize(s.payload_len);
      s.payload_src->copy_to(s.payload_offset, s.payload_len, out.payload.data());
    }
    sent.push_back(std::move(out));
  }
  std::vector<Sent> sent;
};

// ---- the application -----------------------------------------------------------
class RecordingApp final : public App {
 public:
  enum class Action : uint8_t { kNone, kClose, kShutdown, kAbort };
  enum class Kind : uint8_t { kOpen, kData, kWritable, kPeerClose, kClosed };
  struct Event {
    Kind kind;
    ConnId id;
    std::vector<uint8_t> data;
    CloseReason reason = CloseReason::kNormal;
  };

  Action on_open_action = Action::kNone;
  Action on_data_action = Action::kNone;
  Action on_peer_close_action = Action::kNone;
  uint32_t take_limit = UINT32_MAX;  // bytes on_data takes per call
  uint32_t space = UINT32_MAX;       // what rcv_space() answers
  bool accept_new = true;            // what accepting() answers

  std::vector<Event> events;
  std::vector<uint8_t> received;  // every byte taken, in order
  ConnId last_open{};

  void on_open(Stack& s, ConnId id) override {
    events.push_back(Event{Kind::kOpen, id, {}, {}});
    last_open = id;
    act(s, id, on_open_action);
  }
  uint32_t on_data(Stack& s, ConnId id, std::span<const uint8_t> d) override {
    const auto n = static_cast<uint32_t>(std::min<size_t>(take_limit, d.size()));
    events.push_back(Event{Kind::kData, id, std::vector<uint8_t>(d.begin(), d.begin() + n), {}});
    received.insert(received.end(), d.begin(), d.begin() + n);
    act(s, id, on_data_action);
    return n;
  }
  void on_writable(Stack&, ConnId id) override { events.push_back(Event{Kind::kWritable, id, {}, {}}); }
  void on_peer_close(Stack& s, ConnId id) override {
    events.push_back(Event{Kind::kPeerClose, id, {}, {}});
    act(s, id, on_peer_close_action);
  }
  void on_closed(Stack&, ConnId id, CloseReason r) override {
    events.push_back(Event{Kind::kClosed, id, {}, r});
  }
  uint32_t rcv_space(const Stack&, ConnId) const override { return space; }
  bool accepting() const override { return accept_new; }

  size_t count(Kind k) const {
    return static_cast<size_t>(
        std::count_if(events.begin(), events.end(), [k](const Event& e) { return e.kind == k; }));
  }
  // The reason of the latest on_closed.
  std::optional<CloseReason> closed_reason() const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == Kind::kClosed) return it->reason;
    return std::nullopt;
  }

 private:
  static void act(Stack& s, ConnId id, Action a) {
    switch (a) {
      case Action::kNone: break;
      case Action::kClose: s.close(id); break;
      case Action::kShutdown: s.shutdown(id); break;
      case Action::kAbort: s.abort(id); break;
    }
  }
};

// ---- one stack, its sink, its app, a manual clock ----------------------------------
class Harness {
 public:
  explicit Harness(const StackConfig& cfg = small_config(), Instant start = kT0)
      : now(start), stack(cfg, test_secrets(), sink, start) {}
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  RecordingSink sink;
  RecordingApp app;
  Instant now;
  Stack stack;

  void deliver(const SegmentIn& s) { stack.on_segment(s, now); }
  std::vector<Sent> take() {
    std::vector<Sent> v = std::move(sink.sent);
    sink.sent.clear();
    return v;
  }
  void advance_to(Instant t) {
    now = t;
    stack.advance(now);
  }
  void advance_by(Duration d) { advance_to(now + d); }

  // Every pool back to idle: no connection, no armed timer, no send chunk.
  void check_idle(uint32_t time_wait_expected = 0) const {
    CHECK(stack.conn_count() == 0);
    CHECK(stack.timers_armed() == 0);
    CHECK(stack.chunks_in_use() == 0);
    CHECK(stack.exts_in_use() == 0);
    CHECK(stack.time_wait_count() == time_wait_expected);
  }
};

// ---- the remote end ------------------------------------------------------------------
struct PeerOptions {
  bool mss = true;
  uint16_t mss_value = 1460;
  bool wscale = false;
  uint8_t wscale_value = 7;
  bool sack = false;
  bool ts = false;
  uint32_t ts_start = 1000;  // the peer's TSval clock, +1 per segment sent
  uint16_t window = 65535;   // raw window field the peer sends
};

// MSS only.
inline PeerOptions plain_peer() { return PeerOptions{}; }
// MSS, window scale 7, SACK-permitted, timestamps starting just below 2^32 so
// that the peer's TSval wraps while a test runs (RFC 7323 §5.2 serial order).
inline PeerOptions full_peer() {
  PeerOptions o;
  o.wscale = true;
  o.sack = true;
  o.ts = true;
  o.ts_start = 0xFFFFFFF8u;
  return o;
}

class Peer {
 public:
  Peer(FourTuple t, Seq iss_in, PeerOptions o)
      : tuple(t), opts(o), iss(iss_in), nxt(iss_in), ts_clock(o.ts_start) {}

  FourTuple tuple;  // as the stack sees it: local = the stack's side
  PeerOptions opts;
  Seq iss;  // the peer's ISS
  Seq nxt;  // the peer's SND.NXT

  // Learned from the stack's segments.
  bool saw_syn = false;
  Seq stack_iss;          // ISS of the stack's SYN or SYN-ACK
  Seq stack_nxt;          // highest sequence number the stack sent + 1 (its SND.NXT)
  Seq stack_ack;          // last ACK field from the stack (its RCV.NXT)
  Seq right_edge;         // largest RCV.NXT + RCV.WND the stack advertised
  bool stack_offered_ws = false;
  uint8_t stack_ws = 0;   // the stack's shift, if both sides offered window scale
  bool stack_offered_ts = false;
  uint32_t stack_ts = 0;  // last TSval from the stack (echoed in our TSecr)
  uint16_t stack_mss = 0;
  uint32_t ts_clock;
  bool have_edge = false;

  bool scaled() const { return opts.wscale && stack_offered_ws; }
  bool ts_on() const { return opts.ts && stack_offered_ts; }
  // The receive window the stack advertised, RCV.WND = right edge - RCV.NXT.
  uint32_t rcv_wnd() const { return static_cast<uint32_t>(right_edge - stack_ack); }
  // The window field the stack puts in non-SYN headers for `bytes` of window.
  uint16_t window_field(uint32_t bytes) const {
    return static_cast<uint16_t>(std::min<uint32_t>(bytes >> (scaled() ? stack_ws : 0), 65535));
  }

  void observe(const Sent& s) {
    if (!(s.seg.tuple == tuple)) return;
    if (s.has(flag::kSyn)) {
      saw_syn = true;
      stack_iss = s.seg.seq;
      stack_nxt = s.end();
      stack_offered_ws = s.seg.opts.has_wscale;
      stack_ws = s.seg.opts.wscale;
      stack_offered_ts = s.seg.opts.has_timestamps;
      if (s.seg.opts.has_mss) stack_mss = s.seg.opts.mss;
    } else if (!s.has(flag::kRst) && s.end() > stack_nxt) {
      stack_nxt = s.end();  // (an RST's sequence number may be SEG.ACK: not ours)
    }
    if (s.seg.opts.has_timestamps) stack_ts = s.seg.opts.ts_val;
    if (s.has(flag::kAck) && !s.has(flag::kRst)) {
      const uint32_t shift = (!s.has(flag::kSyn) && scaled()) ? stack_ws : 0;
      const Seq edge = s.seg.ack + (static_cast<uint32_t>(s.seg.window) << shift);
      stack_ack = s.seg.ack;
      if (!have_edge || edge > right_edge) right_edge = edge;
      have_edge = true;
    }
  }
  void observe(const std::vector<Sent>& v) {
    for (const Sent& s : v) observe(s);
  }

  // A segment with the given fields; timestamps are added when negotiated
  // (or offered, on a SYN), never on RST (RFC 7323 §5.2).
  SegmentIn make(uint8_t flags, Seq seq, Seq ack, std::span<const uint8_t> payload = {}) {
    SegmentIn s;
    s.tuple = tuple;
    s.seq = seq;
    s.ack = (flags & flag::kAck) ? ack : Seq{};
    s.flags = flags;
    s.window = opts.window;
    if (!payload.empty()) {
      store_.emplace_back(payload.begin(), payload.end());
      s.payload = std::span<const uint8_t>(store_.back());
    }
    const bool syn = (flags & flag::kSyn) != 0;
    if (syn) {
      s.opts.has_mss = opts.mss;
      s.opts.mss = opts.mss ? opts.mss_value : 0;
      s.opts.has_wscale = opts.wscale;
      s.opts.wscale = opts.wscale ? opts.wscale_value : 0;
      s.opts.sack_permitted = opts.sack;
    }
    const bool bare_syn = syn && !(flags & flag::kAck);
    const bool with_ts = (flags & flag::kRst) == 0 && (bare_syn ? opts.ts : ts_on());
    if (with_ts) {
      s.opts.has_timestamps = true;
      s.opts.ts_val = ts_clock++;
      s.opts.ts_ecr = (flags & flag::kAck) ? stack_ts : 0;
    }
    return s;
  }
  static std::span<const uint8_t> bytes(std::string_view sv) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sv.data()), sv.size());
  }

  // Segments that follow the protocol and advance the peer's SND.NXT.
  SegmentIn syn() {
    nxt = iss + 1;
    return make(flag::kSyn, iss, Seq{});
  }
  SegmentIn synack() {
    nxt = iss + 1;
    return make(flag::kSyn | flag::kAck, iss, stack_nxt);
  }
  SegmentIn ack() { return make(flag::kAck, nxt, stack_nxt); }
  SegmentIn data(std::span<const uint8_t> d) {
    SegmentIn s = make(flag::kAck | flag::kPsh, nxt, stack_nxt, d);
    nxt += static_cast<uint32_t>(d.size());
    return s;
  }
  SegmentIn data(std::string_view d) { return data(bytes(d)); }
  SegmentIn fin() {
    SegmentIn s = make(flag::kFin | flag::kAck, nxt, stack_nxt);
    nxt += 1;
    return s;
  }
  SegmentIn rst() { return make(flag::kRst, nxt, Seq{}); }

 private:
  std::deque<std::vector<uint8_t>> store_;  // payloads stay valid for the test's life
};

// Passive open of `p` against a listener already on kServerPort: SYN, SYN-ACK,
// ACK. Returns the connection's id (from on_open).
inline ConnId open_passive(Harness& h, Peer& p) {
  h.deliver(p.syn());
  auto out = h.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seg.flags == (flag::kSyn | flag::kAck));
  p.observe(out);
  h.deliver(p.ack());
  out = h.take();
  REQUIRE(out.empty());
  REQUIRE(str(h.stack.state_of(p.tuple)) == str(State::kEstablished));
  const auto id = h.stack.find(p.tuple);
  REQUIRE(id.has_value());
  return *id;
}

// ---- a stack and one peer, driven into a state ------------------------------------------
enum class Origin : uint8_t { kPassive, kActive };

class Scenario {
 public:
  explicit Scenario(PeerOptions po = plain_peer(), Origin o = Origin::kPassive,
                    const StackConfig& cfg = small_config())
      : h(cfg), origin(o),
        peer(o == Origin::kPassive ? passive_tuple() : active_tuple(), kPeerIss, po) {}

  Harness h;
  Origin origin;
  Peer peer;
  ConnId id{};

  // Delivers one segment from the peer; returns what the stack sent (all of
  // it, for any tuple), after letting the peer learn from it.
  std::vector<Sent> send(const SegmentIn& s) {
    h.deliver(s);
    return collect();
  }
  // Delivers a segment carrying data; when the stack delays its ACK (RFC 1122
  // §4.2.3.2, RFC 5681 §4.2) waits for the delayed-ACK timer and returns what
  // it sent then.
  std::vector<Sent> send_data(const SegmentIn& s) {
    std::vector<Sent> out = send(s);
    if (out.empty()) {
      h.advance_by(h.stack.config().delayed_ack);
      out = collect();
    }
    return out;
  }
  std::vector<Sent> collect() {
    std::vector<Sent> out = h.take();
    peer.observe(out);
    return out;
  }
  State state() const { return h.stack.state_of(peer.tuple); }
  bool has_tcb() const { return h.stack.find(peer.tuple).has_value(); }
  // What state_of() reports once the TCB is gone: LISTEN when a listener owns
  // the local port, else CLOSED.
  State gone_state() const {
    return h.stack.has_listener(peer.tuple.local_port) ? State::kListen : State::kClosed;
  }

  // Drives a fresh scenario into `target` through real segments.
  void to(State target) {
    switch (target) {
      case State::kClosed: return;
      case State::kListen:
        REQUIRE(h.stack.listen(kServerPort, h.app));
        return;
      case State::kSynSent: {
        id = h.stack.connect(peer.tuple, h.app, h.now);
        REQUIRE(id.valid());
        const auto out = collect();
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == flag::kSyn);
        REQUIRE(str(state()) == str(State::kSynSent));
        return;
      }
      case State::kSynRcvd: {
        if (origin == Origin::kActive) {  // simultaneous open, RFC 9293 §3.10.7.3
          to(State::kSynSent);
          const auto out = send(peer.syn());
          REQUIRE(out.size() == 1);
          REQUIRE(out[0].seg.flags == (flag::kSyn | flag::kAck));
        } else {
          to(State::kListen);
          const auto out = send(peer.syn());
          REQUIRE(out.size() == 1);
          REQUIRE(out[0].seg.flags == (flag::kSyn | flag::kAck));
          REQUIRE(out[0].seg.ack.raw() == (peer.iss + 1).raw());
        }
        REQUIRE(str(state()) == str(State::kSynRcvd));
        return;
      }
      case State::kEstablished: {
        if (origin == Origin::kActive) {
          to(State::kSynSent);
          const auto out = send(peer.synack());
          REQUIRE(out.size() == 1);
          REQUIRE(out[0].seg.flags == flag::kAck);
        } else {
          to(State::kSynRcvd);
          const auto out = send(peer.ack());
          REQUIRE(out.empty());
        }
        REQUIRE(str(state()) == str(State::kEstablished));
        REQUIRE(h.app.count(RecordingApp::Kind::kOpen) == 1);
        id = h.app.last_open;
        return;
      }
      case State::kFinWait1: {
        to(State::kEstablished);
        REQUIRE(h.stack.close(id));
        const auto out = collect();
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == (flag::kFin | flag::kAck));
        REQUIRE(str(state()) == str(State::kFinWait1));
        return;
      }
      case State::kFinWait2: {
        to(State::kFinWait1);
        REQUIRE(send(peer.ack()).empty());
        REQUIRE(str(state()) == str(State::kFinWait2));
        return;
      }
      case State::kClosing: {
        to(State::kFinWait1);
        // The peer's FIN crosses ours: it acknowledges our data, not our FIN.
        SegmentIn f = peer.make(flag::kFin | flag::kAck, peer.nxt, peer.stack_nxt - 1);
        peer.nxt += 1;
        const auto out = send(f);
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == flag::kAck);
        REQUIRE(out[0].seg.ack.raw() == (peer.nxt).raw());
        REQUIRE(str(state()) == str(State::kClosing));
        return;
      }
      case State::kTimeWait: {
        to(State::kFinWait2);
        const auto out = send(peer.fin());
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == flag::kAck);
        REQUIRE(out[0].seg.ack.raw() == (peer.nxt).raw());
        REQUIRE(str(state()) == str(State::kTimeWait));
        return;
      }
      case State::kCloseWait: {
        to(State::kEstablished);
        const auto out = send(peer.fin());
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == flag::kAck);
        REQUIRE(out[0].seg.ack.raw() == (peer.nxt).raw());
        REQUIRE(str(state()) == str(State::kCloseWait));
        return;
      }
      case State::kLastAck: {
        to(State::kCloseWait);
        REQUIRE(h.stack.close(id));
        const auto out = collect();
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].seg.flags == (flag::kFin | flag::kAck));
        REQUIRE(str(state()) == str(State::kLastAck));
        return;
      }
    }
  }
};

}  // namespace synmill::tcp::test

