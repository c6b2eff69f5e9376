// libFuzzer target: the TCP state machine (tcp::Stack) driven by a byte
// stream decoded into steps:
//
//   segments from four passive peers and from the far end of four active
//   opens (flags, SEQ/ACK relative to what the stack sent or arbitrary,
//   window, options, payload), application calls (send / close / shutdown /
//   abort / connect, accepting on or off, partial takes), callbacks that call
//   back into the stack, time steps (us to days), stop_listening,
//   close_all.
//
// After every step the bookkeeping must agree with itself (FUZZ_CHECK aborts):
// per-state gauges sum to the slot count, the connections for_each_conn
// lists match the gauges and conn_count(), timers <= connections, chunk use
// covers the queued bytes, the application's view (on_open .. on_closed)
// matches alive(). At the end abort_all() and a long time step must bring
// every pool back to zero. ASan/UBSan catch use-after-free and overflows.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tcp/stack.hpp"

using namespace synmill;
using namespace synmill::tcp;

namespace {

// Reads the input front to back (so seeds are easy to write by hand, see
// make_corpus.py); past the end every value is 0.
class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  size_t remaining_bytes() const { return n_ - i_; }
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((u8() << 8) | u8()); }
  uint32_t u32() { return (static_cast<uint32_t>(u16()) << 16) | u16(); }
  template <class T>
  T ConsumeIntegral() {
    if constexpr (sizeof(T) == 1) return static_cast<T>(u8());
    else if constexpr (sizeof(T) == 2) return static_cast<T>(u16());
    else return static_cast<T>(u32());
  }
  // lo + (value mod span); one byte when the span fits in 256, else two or four.
  template <class T>
  T ConsumeIntegralInRange(T lo, T hi) {
    const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(hi) - static_cast<int64_t>(lo)) + 1;
    const uint64_t v = span <= 256 ? u8() : span <= 65536 ? u16() : u32();
    return static_cast<T>(static_cast<int64_t>(lo) + static_cast<int64_t>(v % span));
  }
  bool ConsumeBool() { return (u8() & 1) != 0; }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      __builtin_printf("fuzz_stack: invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

constexpr uint32_t kLocalIp = 0xC6120002;   // 198.18.0.2
constexpr uint32_t kRemoteIp = 0xC6120001;  // 198.18.0.1
constexpr uint16_t kPort = 80;              // listener, served by App A
constexpr uint16_t kPort2 = 81;             // listener, served by App B
constexpr uint16_t kActiveRemotePort = 90;
constexpr int kPeers = 8;                   // 0-3 passive (remote ports 40000+), 4-7 active

FourTuple peer_tuple(int p) {
  if (p < 4) return FourTuple{kLocalIp, kRemoteIp, static_cast<uint16_t>(p == 3 ? kPort2 : kPort),
                              static_cast<uint16_t>(40000 + p)};
  return FourTuple{kLocalIp, kRemoteIp, static_cast<uint16_t>(50000 + p), kActiveRemotePort};
}

int peer_of(const FourTuple& t) {
  for (int p = 0; p < kPeers; ++p)
    if (peer_tuple(p) == t) return p;
  return -1;
}

// What the peer learned from the stack's segments.
struct PeerView {
  bool seen = false;
  Seq snd_nxt;  // the stack's highest SEQ + len
  Seq rcv_nxt;  // the stack's last ACK field
  uint32_t ts = 0;
};

class Sink final : public TxSink {
 public:
  std::array<PeerView, kPeers> view{};
  uint64_t emitted = 0;
  uint16_t max_payload = 0;          // the stack's configured MSS
  const SegmentIn* input = nullptr;  // the segment being processed, if any
  void emit(const SegmentOut& s) override {
    ++emitted;
    FUZZ_CHECK(s.tuple.local_ip != s.tuple.remote_ip);  // never answer a land packet
    FUZZ_CHECK(s.payload_len <= max_payload);
    FUZZ_CHECK(!((s.flags & flag::kSyn) && (s.flags & flag::kRst)));
    FUZZ_CHECK(s.payload_len == 0 || !(s.flags & (flag::kSyn | flag::kRst)));
    // RFC 9293 §3.10.7: an RST is never answered with an RST.
    if (input != nullptr && (input->flags & flag::kRst) && s.tuple == input->tuple) FUZZ_CHECK(!(s.flags & flag::kRst));
    if (s.payload_len > 0) {
      FUZZ_CHECK(s.payload_src != nullptr);
      buf_.resize(s.payload_len);
      s.payload_src->copy_to(s.payload_offset, s.payload_len, buf_.data());  // ASan: stale chunks
    }
    record(s);
    const int p = peer_of(s.tuple);
    if (p < 0) return;
    PeerView& v = view[p];
    const uint32_t len = s.payload_len + ((s.flags & flag::kSyn) ? 1u : 0u) + ((s.flags & flag::kFin) ? 1u : 0u);
    if (!(s.flags & flag::kRst)) {
      if (!v.seen || (s.flags & flag::kSyn) || s.seq + len > v.snd_nxt) v.snd_nxt = s.seq + len;
      if (s.flags & flag::kAck) v.rcv_nxt = s.ack;
      v.seen = true;
    }
    if (s.opts.has_timestamps) v.ts = s.opts.ts_val;
  }
  // Every segment emitted since the last clear, serialised: the two worlds
  // (header prediction on and off) must emit the same bytes.
  std::string log;

 private:
  void record(const SegmentOut& s) {
    const auto put = [this](const void* p, size_t n) { log.append(static_cast<const char*>(p), n); };
    put(&s.tuple, sizeof s.tuple);
    const uint32_t seq = s.seq.raw(), ack = s.ack.raw();
    put(&seq, 4);
    put(&ack, 4);
    put(&s.flags, 1);
    put(&s.window, 2);
    const wire::TcpOptions& o = s.opts;
    const uint8_t has = static_cast<uint8_t>(o.has_mss | (o.has_wscale << 1) | (o.sack_permitted << 2) |
                                             (o.has_timestamps << 3));
    put(&has, 1);
    if (o.has_mss) put(&o.mss, 2);
    if (o.has_wscale) put(&o.wscale, 1);
    if (o.has_timestamps) {
      put(&o.ts_val, 4);
      put(&o.ts_ecr, 4);
    }
    put(&o.sack_count, 1);
    for (int i = 0; i < o.sack_count; ++i) {
      put(&o.sack[i].left, 4);
      put(&o.sack[i].right, 4);
    }
    put(&s.payload_len, 4);
    log.append(reinterpret_cast<const char*>(buf_.data()), s.payload_len);
    log.push_back('|');
  }
  std::vector<uint8_t> buf_;
};

Sink* g_sink = nullptr;

// Segments the application causes from inside a callback (abort -> RST) are
// its own, not an answer to the segment being processed.
struct AppCall {
  const SegmentIn* saved;
  AppCall() : saved(g_sink ? g_sink->input : nullptr) {
    if (g_sink) g_sink->input = nullptr;
  }
  ~AppCall() {
    if (g_sink) g_sink->input = saved;
  }
  AppCall(const AppCall&) = delete;
  AppCall& operator=(const AppCall&) = delete;
};

// An application whose behaviour the input chooses; it records the ids it
// was told about and checks the stack never calls it for a dead one.
class FuzzApp final : public App {
 public:
  std::map<uint32_t, ConnId> live;  // slot -> id, between on_open (or connect) and on_closed
  std::map<uint32_t, ConnId> connecting;  // active opens not yet on_open
  uint8_t on_data_mode = 0;         // 0 take all, 1 take some, 2 echo, 3 close, 4 abort, 5 shutdown
  uint8_t on_peer_close_mode = 0;   // 0 nothing, 1 close, 2 abort, 3 send then close
  uint8_t on_open_mode = 0;         // 0 nothing, 1 send, 2 close, 3 abort
  uint32_t take = UINT32_MAX;
  uint32_t space = UINT32_MAX;
  bool accept_new = true;
  int depth = 0;

  void on_open(Stack& s, ConnId id) override {
    FUZZ_CHECK(s.alive(id));
    const auto c = connecting.find(id.idx);
    if (c != connecting.end()) {  // an active open: known since connect()
      FUZZ_CHECK(c->second.gen == id.gen);
      connecting.erase(c);
    } else {
      FUZZ_CHECK(live.find(id.idx) == live.end());
      live[id.idx] = id;
    }
    static const uint8_t hello[64] = {1, 2, 3};
    const AppCall call;
    switch (on_open_mode) {
      case 1: s.send(id, hello); break;
      case 2: s.close(id); break;
      case 3: s.abort(id); break;
      default: break;
    }
  }
  uint32_t on_data(Stack& s, ConnId id, std::span<const uint8_t> d) override {
    check_live(s, id);
    FUZZ_CHECK(!d.empty());
    volatile uint8_t sink = 0;
    for (uint8_t b : d) sink = static_cast<uint8_t>(sink + b);  // ASan: the bytes are readable
    uint32_t n = static_cast<uint32_t>(d.size());
    const AppCall call;
    switch (on_data_mode) {
      case 1: n = std::min(n, take); break;
      case 2: s.send(id, d.first(n)); break;
      case 3: s.close(id); break;
      case 4: s.abort(id); break;
      case 5: s.shutdown(id); break;
      default: break;
    }
    return n;
  }
  void on_writable(Stack& s, ConnId id) override { check_live(s, id); }
  void on_peer_close(Stack& s, ConnId id) override {
    check_live(s, id);
    static const uint8_t bye[3] = {'b', 'y', 'e'};
    const AppCall call;
    switch (on_peer_close_mode) {
      case 1: s.close(id); break;
      case 2: s.abort(id); break;
      case 3: s.send(id, bye); s.close(id); break;
      default: break;
    }
  }
  void on_closed(Stack&, ConnId id, CloseReason) override {
    const auto it = live.find(id.idx);
    FUZZ_CHECK(it != live.end());
    FUZZ_CHECK(it->second.gen == id.gen);
    live.erase(it);
    connecting.erase(id.idx);
  }
  uint32_t rcv_space(const Stack&, ConnId) const override { return space; }
  bool accepting() const override { return accept_new; }

 private:
  void check_live(Stack& s, ConnId id) {
    const auto it = live.find(id.idx);
    FUZZ_CHECK(it != live.end() && it->second.gen == id.gen);
    FUZZ_CHECK(s.alive(id));
  }
};

void check_invariants(const Stack& st, const FuzzApp& a, const FuzzApp& b, uint32_t listeners) {
  const StackConfig& cfg = st.config();
  const StateGauges g = st.gauges();
  uint64_t sum = 0;
  for (uint32_t c : g.count) sum += c;
  FUZZ_CHECK(sum == static_cast<uint64_t>(cfg.max_conns) + listeners + st.time_wait_count());
  FUZZ_CHECK(g[State::kListen] == listeners);
  FUZZ_CHECK(g[State::kClosed] == cfg.max_conns - st.conn_count());
  FUZZ_CHECK(st.conn_count() <= cfg.max_conns);
  FUZZ_CHECK(st.time_wait_count() <= cfg.max_time_wait);
  FUZZ_CHECK(st.timers_armed() <= st.conn_count());
  FUZZ_CHECK(st.chunks_in_use() <= cfg.send_chunks);
  FUZZ_CHECK(st.exts_in_use() <= st.max_exts() && st.exts_in_use() <= st.conn_count());

  std::array<uint32_t, kNumStates> seen{};
  uint32_t n = 0;
  uint64_t queued = 0;
  st.for_each_conn(UINT32_MAX, [&](const ConnInfo& ci) {
    ++n;
    ++seen[static_cast<int>(ci.state)];
    queued += ci.send_queued;
    FUZZ_CHECK(ci.send_queued <= cfg.send_buf);
    FUZZ_CHECK(ci.snd_una <= ci.snd_nxt);
    FUZZ_CHECK(st.state_of(ci.tuple) == ci.state);
  });
  FUZZ_CHECK(n == st.conn_count());
  for (int s = 0; s < kNumStates; ++s) {
    const auto state = static_cast<State>(s);
    if (state == State::kClosed || state == State::kListen) {
      FUZZ_CHECK(seen[s] == 0);
    } else if (state == State::kTimeWait) {
      FUZZ_CHECK(g.count[s] == seen[s] + st.time_wait_count());
    } else {
      FUZZ_CHECK(g.count[s] == seen[s]);
    }
  }
  FUZZ_CHECK(queued <= static_cast<uint64_t>(st.chunks_in_use()) * cfg.chunk_size);
  if (st.conn_count() == 0) FUZZ_CHECK(st.chunks_in_use() == 0 && st.timers_armed() == 0 && st.exts_in_use() == 0);
  FUZZ_CHECK(a.live.size() + b.live.size() <= st.conn_count());
  for (const FuzzApp* app : {&a, &b})
    for (const auto& [idx, id] : app->live) FUZZ_CHECK(st.alive(id));
}

// SACK blocks are absolute, or with bit 32 of the first byte offsets from
// `base` (the stack's SND.NXT as the peer saw it), so that a few bytes reach
// the scoreboard's edges (a block at SND.UNA, below it, beyond SND.NXT).
wire::TcpOptions fuzz_options(Reader& in, Seq base) {
  wire::TcpOptions o;
  const uint8_t which = in.ConsumeIntegral<uint8_t>();
  if (which & 1) {
    o.has_mss = true;
    o.mss = (which & 0x80) ? in.ConsumeIntegral<uint16_t>() : 1460;
  }
  if (which & 2) {
    o.has_wscale = true;
    o.wscale = in.ConsumeIntegralInRange<uint8_t>(0, 20);
  }
  if (which & 4) o.sack_permitted = true;
  if (which & 8) {
    o.has_timestamps = true;
    o.ts_val = in.ConsumeIntegral<uint32_t>();
    o.ts_ecr = in.ConsumeIntegral<uint32_t>();
  }
  if (which & 16) {
    o.sack_count = in.ConsumeIntegralInRange<uint8_t>(1, wire::kMaxSackBlocks);
    const uint32_t rel = (which & 32) ? base.raw() : 0;
    for (int i = 0; i < o.sack_count; ++i) {
      o.sack[i].left = rel + in.ConsumeIntegral<uint32_t>();
      o.sack[i].right = rel + in.ConsumeIntegral<uint32_t>();
    }
  }
  return o;
}


// One stack with its sink and applications. The input drives two of them in
// lockstep: header prediction on (as shipped) and off (every segment through
// the full RFC 9293 §3.10.7.4 ladder); after every step both must have sent
// the same segments, byte for byte, and hold the same states and pools.
struct World {
  Sink sink;
  FuzzApp app_a, app_b;
  Stack st;
  World(const StackConfig& cfg, const StackSecrets& sec, Instant now) : st(cfg, sec, sink, now) {
    sink.max_payload = cfg.mss;
    FUZZ_CHECK(st.listen(kPort, app_a));
    FUZZ_CHECK(st.listen(kPort2, app_b));
  }
};

// One step decoded from the input, applied to each world.
struct Step {
  uint8_t op = 0;
  int p = 0;
  SegmentIn seg;
  std::vector<uint8_t> data;  // the segment's payload (exactly sized: ASan sees reads past it), or what send() sends
  bool app_is_a = true;       // op 12
  uint8_t on_data_mode = 0, on_peer_close_mode = 0, on_open_mode = 0;
  uint32_t take = 0, space = 0;
  bool accept_new = true;
  uint8_t w = 0;  // op 14
};

void apply(World& w, Step& s, Instant now, bool stop_listening) {
  g_sink = &w.sink;
  Stack& st = w.st;
  const FourTuple t = peer_tuple(s.p);
  const auto id = st.find(t);
  switch (s.op % 16) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 13:
      s.seg.payload = s.data;
      w.sink.input = &s.seg;
      st.on_segment(s.seg, now);
      w.sink.input = nullptr;
      break;
    case 6: if (id) st.send(*id, s.data); break;
    case 7: if (id) st.close(*id); break;
    case 8: if (id) st.shutdown(*id); break;
    case 9: if (id) st.abort(*id); break;
    case 10: st.advance(now); break;
    case 11:
      if (s.p >= 4) {
        const ConnId c = st.connect(t, w.app_a, now);
        if (c.valid() && st.alive(c)) {
          FUZZ_CHECK(w.app_a.live.find(c.idx) == w.app_a.live.end());
          w.app_a.live[c.idx] = c;
          w.app_a.connecting[c.idx] = c;
        }
      }
      break;
    case 12: {
      FuzzApp& a = s.app_is_a ? w.app_a : w.app_b;
      a.on_data_mode = s.on_data_mode;
      a.on_peer_close_mode = s.on_peer_close_mode;
      a.on_open_mode = s.on_open_mode;
      a.take = s.take;
      a.space = s.space;
      a.accept_new = s.accept_new;
      break;
    }
    case 14:
      if (stop_listening) st.stop_listening();
      else if (s.w == 2) st.close_all(now);
      break;
    default: break;
  }
}

// The two worlds agree: the same segments sent, the same states and pools.
void check_same(World& x, World& y) {
  FUZZ_CHECK(x.sink.log == y.sink.log);
  x.sink.log.clear();
  y.sink.log.clear();
  for (int p = 0; p < kPeers; ++p) FUZZ_CHECK(x.st.state_of(peer_tuple(p)) == y.st.state_of(peer_tuple(p)));
  FUZZ_CHECK(x.st.conn_count() == y.st.conn_count());
  FUZZ_CHECK(x.st.time_wait_count() == y.st.time_wait_count());
  FUZZ_CHECK(x.st.chunks_in_use() == y.st.chunks_in_use());
  FUZZ_CHECK(x.st.timers_armed() == y.st.timers_armed());
  FUZZ_CHECK(x.app_a.live.size() == y.app_a.live.size() && x.app_b.live.size() == y.app_b.live.size());
  // Every connection's variables, in table order.
  const auto digest = [](const Stack& st) {
    std::string d;
    st.for_each_conn(UINT32_MAX, [&](const ConnInfo& ci) {
      const uint32_t v[] = {static_cast<uint32_t>(ci.state), ci.snd_una.raw(), ci.snd_nxt.raw(), ci.rcv_nxt.raw(),
                            ci.snd_wnd, ci.send_queued, ci.rto_ms, ci.retries,
                            static_cast<uint32_t>(ci.rtx_at.ns()), static_cast<uint32_t>(ci.state_at.ns()),
                            ci.cwnd, ci.ssthresh, ci.rcv_queued, ci.in_recovery};
      d.append(reinterpret_cast<const char*>(v), sizeof v);
      d.append(reinterpret_cast<const char*>(&ci.tuple), sizeof ci.tuple);
    });
    return d;
  };
  FUZZ_CHECK(digest(x.st) == digest(y.st));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);

  StackConfig cfg;
  cfg.max_conns = 8;
  cfg.max_time_wait = 4;
  cfg.send_chunks = 12;
  cfg.chunk_size = 256;
  cfg.send_buf = 2048;
  cfg.rcv_wnd = 4096;
  cfg.backlog = 3;
  cfg.accept_queue = 2;
  const uint8_t knobs = in.ConsumeIntegral<uint8_t>();
  cfg.cookies = static_cast<CookieMode>(knobs % 3);
  cfg.timestamps = (knobs & 4) != 0;
  cfg.sack = (knobs & 8) != 0;
  cfg.time_wait_rst = (knobs & 16) ? TimeWaitRstPolicy::kClose : TimeWaitRstPolicy::kIgnore;
  cfg.wscale = (knobs & 32) ? 0 : 7;
  cfg.mss = (knobs & 64) ? 536 : 1460;
  cfg.time_wait = Duration::s(1);
  cfg.fin_wait2_timeout = Duration::s(2);
  cfg.close_wait_timeout = (knobs & 128) ? Duration::s(3) : Duration{};
  cfg.cookie_lifetime = Duration::s(4);
  cfg.rto_initial = Duration::ms(200);
  cfg.rto_max = Duration::s(2);
  cfg.syn_retries = 2;
  cfg.synack_retries = 2;
  cfg.data_retries = 3;
  cfg.fin_retries = 2;
  const uint8_t knobs2 = in.ConsumeIntegral<uint8_t>();  // tight pools and odd sizes
  if (knobs2 & 1) cfg.max_time_wait = 1;
  if (knobs2 & 2) cfg.backlog = 1;
  if (knobs2 & 4) cfg.accept_queue = 1;
  if (knobs2 & 8) cfg.send_chunks = 2;
  if (knobs2 & 16) cfg.rcv_wnd = 512;
  if (knobs2 & 32) cfg.chunk_size = 64;
  if (knobs2 & 64) cfg.challenge_acks_per_sec = 1;
  if (knobs2 & 128) cfg.max_exts = 2;  // connection extensions run short (stack_ext.cpp)
  StackConfig full = cfg;
  full.header_prediction = false;

  StackSecrets sec;
  sec.isn_key = SipKey{1, 2};
  sec.cookie_key = SipKey{3, 4};
  sec.table_seed = 5;
  sec.ts_offset = 6;
  Instant now{1'000'000'000'000};
  uint32_t listeners = 2;
  {
    World fast(cfg, sec, now);
    World ladder(full, sec, now);
    std::array<uint32_t, kPeers> peer_iss{};
    for (int p = 0; p < kPeers; ++p) peer_iss[p] = 0x10000000u * static_cast<uint32_t>(p + 1);
    std::vector<uint8_t> payload(1600);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);

    int steps = 0;
    while (in.remaining_bytes() > 0 && steps++ < 400) {
      Step step;
      step.op = in.ConsumeIntegral<uint8_t>();
      step.p = in.ConsumeIntegralInRange<int>(0, kPeers - 1);
      const FourTuple t = peer_tuple(step.p);
      const Sink& sink = fast.sink;  // both worlds are the same so far: decode against one
      bool stop = false;
      switch (step.op % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5: {  // a segment from peer p
          SegmentIn& s = step.seg;
          s.tuple = t;
          s.flags = in.ConsumeIntegral<uint8_t>();
          const PeerView& v = sink.view[step.p];
          const uint8_t mode = in.ConsumeIntegral<uint8_t>();
          const auto dseq = static_cast<uint32_t>(in.ConsumeIntegralInRange<int32_t>(-4, 4));
          const auto dack = static_cast<uint32_t>(in.ConsumeIntegralInRange<int32_t>(-4, 4));
          if (mode & 1) s.seq = Seq{in.ConsumeIntegral<uint32_t>()};
          else if (v.seen && !(s.flags & flag::kSyn)) s.seq = v.rcv_nxt + dseq;
          else s.seq = Seq{peer_iss[step.p]} + dseq;
          if (mode & 2) s.ack = Seq{in.ConsumeIntegral<uint32_t>()};
          else s.ack = v.snd_nxt + dack;
          if (mode & 4) s.seq = s.seq + static_cast<uint32_t>(in.ConsumeIntegralInRange<uint32_t>(0, 70000));
          s.window = (mode & 8) ? in.ConsumeIntegral<uint16_t>() : 65535;
          if (mode & 16) s.opts = fuzz_options(in, v.snd_nxt);
          else if (v.ts != 0 && cfg.timestamps) {
            s.opts.has_timestamps = true;
            s.opts.ts_val = 1000u + static_cast<uint32_t>(steps);
            s.opts.ts_ecr = v.ts;
          }
          if (mode & 32) {
            const size_t len = in.ConsumeIntegralInRange<size_t>(0, payload.size());
            step.data.assign(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(len));
          }
          break;
        }
        case 6: {  // application send
          if (!fast.st.find(t)) break;
          const size_t len = in.ConsumeIntegralInRange<size_t>(0, payload.size());
          step.data.assign(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(len));
          break;
        }
        case 10: {  // time step
          const uint8_t unit = in.ConsumeIntegral<uint8_t>();
          const uint16_t amount = in.ConsumeIntegral<uint16_t>();
          Duration d = (unit & 1) ? Duration::ms(amount % 5000) : Duration::us(amount);
          if ((unit & 6) == 6) d = Duration::s(amount % 400);
          if ((unit & 0xF8) == 0xF8) d = Duration::s(static_cast<int64_t>(amount) * 60);  // up to 45 days
          now = now + d;
          break;
        }
        case 12:  // application knobs
          step.app_is_a = in.ConsumeBool();
          step.on_data_mode = in.ConsumeIntegralInRange<uint8_t>(0, 5);
          step.on_peer_close_mode = in.ConsumeIntegralInRange<uint8_t>(0, 3);
          step.on_open_mode = in.ConsumeIntegralInRange<uint8_t>(0, 3);
          step.take = in.ConsumeIntegralInRange<uint32_t>(0, 100);
          step.space = in.ConsumeBool() ? UINT32_MAX : in.ConsumeIntegralInRange<uint32_t>(0, 5000);
          step.accept_new = in.ConsumeBool();
          break;
        case 13: {  // a segment with an unrelated tuple (no listener, land, other ports)
          SegmentIn& s = step.seg;
          s.tuple.local_ip = in.ConsumeBool() ? kLocalIp : in.ConsumeIntegral<uint32_t>();
          s.tuple.remote_ip = in.ConsumeBool() ? s.tuple.local_ip : kRemoteIp;
          s.tuple.local_port = in.ConsumeIntegral<uint16_t>();
          s.tuple.remote_port = in.ConsumeIntegral<uint16_t>();
          s.flags = in.ConsumeIntegral<uint8_t>();
          s.seq = Seq{in.ConsumeIntegral<uint32_t>()};
          s.ack = Seq{in.ConsumeIntegral<uint32_t>()};
          s.window = in.ConsumeIntegral<uint16_t>();
          break;
        }
        case 14:
          step.w = in.ConsumeIntegral<uint8_t>();
          if (step.w == 1 && listeners > 0) {
            stop = true;
            listeners = 0;
          }
          break;
        default: break;
      }
      apply(fast, step, now, stop);
      apply(ladder, step, now, stop);
      g_sink = nullptr;
      check_invariants(fast.st, fast.app_a, fast.app_b, listeners);
      check_same(fast, ladder);
    }

    // Everything back to zero: abort what is left, then let every timer run out.
    for (World* w : {&fast, &ladder}) {
      g_sink = &w->sink;
      Stack& st = w->st;
      st.abort_all(now);
      check_invariants(st, w->app_a, w->app_b, listeners);
      FUZZ_CHECK(st.conn_count() == 0);
      FUZZ_CHECK(w->app_a.live.empty() && w->app_b.live.empty());
      Instant later = now;
      for (int i = 0; i < 4; ++i) {
        later = later + Duration::s(100);
        st.advance(later);
      }
      check_invariants(st, w->app_a, w->app_b, listeners);
      FUZZ_CHECK(st.conn_count() == 0);
      FUZZ_CHECK(st.timers_armed() == 0);
      FUZZ_CHECK(st.chunks_in_use() == 0);
      FUZZ_CHECK(st.time_wait_count() == 0);
    }
    check_same(fast, ladder);
    FUZZ_CHECK(fast.st.counters().rx_segments == ladder.st.counters().rx_segments);
    FUZZ_CHECK(ladder.st.counters().predicted == 0);
  }
  g_sink = nullptr;
  return 0;
}
