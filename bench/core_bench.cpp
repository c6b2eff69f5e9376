// One-core benchmarks of the TCP core without DPDK:
//  syn_cookie   ns per SYN turned into a cookie SYN-ACK (Stack::on_segment,
//               cookies always, the SYN-ACK frame built by lib/wire)
//  syn_backlog  the same with cookies off (a SYN_RCVD entry per SYN)
//  connection   ns per full passive open + HTTP request/response + client-
//               first close (4 segments in, 3 out, frames parsed and built)
// Reference measured in the same run: parse the SYN frame and build a SYN-ACK
// frame with no TCP logic (lib/wire's fast path: parse_tcp_frame and the
// frame template, both checksums) (what any endpoint must pay), so each figure is also
// reported as a ratio to it. Machines are noisy: the best of several rounds.
//
// `core_bench --op NAME` (NAME: reference, syn_cookie, syn_backlog,
// connection) runs one round of one operation, for instruction counts under
// callgrind (bench/instr_count.py): the measured part is exactly what runs
// inside measured_loop(), and in the connection scenario the scripted peer's
// frame building (peer_frame_into()) is toggled out, so the count is
// synmill's side only.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tcp/apps/discard.hpp"
#include "tcp/apps/http.hpp"
#include "tcp/segment_codec.hpp"
#include "tcp/stack.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_parse.hpp"
#include "wire/tcp_template.hpp"

using namespace synmill;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kServerIp = 0xC6120002;
constexpr uint32_t kClientIp = 0xC6120010;

// Builds a frame for every emitted segment (as the data plane does) and keeps
// the last one's numbers the scripted peer needs (its sequence number and
// payload length: not a copy of the whole SegmentOut, which the data plane
// does not make either).
class FrameSink final : public tcp::TxSink {
 public:
  struct Last {
    tcp::Seq seq;
    uint32_t payload_len = 0;
  };
  void emit(const tcp::SegmentOut& s) override {
    len_ = tcp::frame_from_segment(buf_, s, tpl_, dst_mac_, 0);
    last_ = Last{s.seq, s.payload_len};
    ++count_;
  }
  const Last& last() const { return last_; }
  uint64_t count() const { return count_; }
  size_t len() const { return len_; }

 private:
  std::array<uint8_t, 2048> buf_{};
  wire::TcpFrameTemplate tpl_{};  // a per-worker template, as the data plane keeps
  wire::MacAddr dst_mac_{};
  Last last_{};
  size_t len_ = 0;
  uint64_t count_ = 0;
};

// Client number i -> a distinct (address, port) pair.
size_t client_frame_into(std::span<uint8_t> out, uint32_t i, uint32_t seq, uint32_t ack,
                         uint8_t flags, std::string_view payload, bool syn_opts) {
  wire::TcpFrameSpec spec;
  spec.src_ip = kClientIp + i / 60000;
  spec.dst_ip = kServerIp;
  spec.src_port = static_cast<uint16_t>(1024 + i % 60000);
  spec.dst_port = 80;
  spec.seq = seq;
  spec.ack = ack;
  spec.flags = flags;
  spec.window = 65535;
  if (syn_opts) {
    spec.opts.has_mss = true;
    spec.opts.mss = 1460;
    spec.opts.has_wscale = true;
    spec.opts.wscale = 7;
    spec.opts.sack_permitted = true;
  }
  return wire::build_tcp_frame(
      out, spec, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
}

// The scripted peer's frames inside a measured loop: callgrind toggles this
// function's instructions out of the count (only synmill's side is counted).
[[gnu::noinline]] size_t peer_frame_into(std::span<uint8_t> out, uint32_t i, uint32_t seq, uint32_t ack,
                                         uint8_t flags, std::string_view payload, bool syn_opts) {
  return client_frame_into(out, i, seq, ack, flags, payload, syn_opts);
}

std::vector<uint8_t> client_frame(uint32_t port, uint32_t seq, uint32_t ack, uint8_t flags,
                                  std::string_view payload, bool syn_opts) {
  std::vector<uint8_t> f(2048);
  f.resize(client_frame_into(f, port, seq, ack, flags, payload, syn_opts));
  return f;
}

// As the data plane does: the frame parsed in place into one SegmentIn,
// reused for every frame (Worker::handle).
tcp::SegmentIn g_seg;

void feed(tcp::Stack& s, std::span<const uint8_t> frame, tcp::Instant now) {
  tcp::SegmentIn& seg = g_seg;
  wire::TcpFrameView view;
  wire::ParseError err{};
  if (tcp::segment_from_bytes(frame, wire::kVerifyChecksums, seg, view, err) != wire::TcpFrameParse::kTcp) std::abort();
  s.on_segment(seg, now);
}


tcp::StackSecrets secrets() {
  tcp::StackSecrets k;
  k.isn_key = {1, 2};
  k.cookie_key = {3, 4};
  k.table_seed = 5;
  return k;
}

// body() sets up, then calls the timer it is given around the timed part.
struct Timer {
  Clock::time_point t0;
  double ns = 0;
  void start() { t0 = Clock::now(); }
  void stop() { ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }
};

// The timed part of every scenario runs inside this function: callgrind
// counts instructions only here (--toggle-collect=*measured_loop*).
template <class F>
[[gnu::noinline]] void measured_loop(Timer& timer, F&& loop) {
  timer.start();
  loop();
  timer.stop();
}

int g_rounds = 5;  // 1 with --op
// The ISN / cookie PRF (keyed_prf.hpp): SYNMILL_BENCH_PRF=siphash forces the
// fallback that CPUs without AES-NI use; unset: AES-128 where the CPU has it.
tcp::PrfKind g_prf = tcp::PrfKind::kAuto;
bool g_failed = false;  // a scenario did not do what it claims

template <class F>
double best_ns_per_op(int rounds, uint64_t ops, F&& body) {
  double best = 1e30;
  for (int r = 0; r < rounds; ++r) {
    Timer t;
    body(t);
    best = std::min(best, t.ns / static_cast<double>(ops));
  }
  return best;
}

// SYNs from many source ports (a flood), each parsed, fed, answered.
double bench_syn(tcp::CookieMode mode, uint32_t n) {
  std::vector<std::vector<uint8_t>> syns;
  syns.reserve(n);
  for (uint32_t i = 0; i < n; ++i)
    syns.push_back(client_frame(i, i * 7919u, 0, tcp::flag::kSyn, {}, true));
  tcp::StackConfig cfg;
  cfg.prf = g_prf;
  cfg.cookies = mode;
  cfg.max_conns = n + 16;
  cfg.backlog = n + 16;
  cfg.send_chunks = 64;
  FrameSink sink;
  uint64_t sent = 0;
  const double ns = best_ns_per_op(g_rounds, n, [&](Timer& timer) {
    tcp::Stack stack(cfg, secrets(), sink, tcp::Instant{});
    tcp::HttpApp app;
    stack.listen(80, app);
    const auto t = tcp::Instant{} + tcp::Duration::ms(1);
    measured_loop(timer, [&] {
      for (const auto& f : syns) feed(stack, f, t);
    });
    sent = stack.counters().synack_out;
  });
  if (sent != n) {
    g_failed = true;
    std::fprintf(stderr, "syn bench: %lu SYN-ACKs for %u SYNs\n", sent, n);
  }
  return ns;
}

double bench_reference(uint32_t n) {
  std::vector<std::vector<uint8_t>> syns;
  for (uint32_t i = 0; i < n; ++i)
    syns.push_back(client_frame(i, i * 7919u, 0, tcp::flag::kSyn, {}, true));
  std::array<uint8_t, 2048> out{};
  const wire::TcpFrameTemplate tpl{};
  const wire::MacAddr mac{};
  uint64_t total = 0;
  const double ns = best_ns_per_op(g_rounds, n, [&](Timer& timer) {
    measured_loop(timer, [&] {
      for (const auto& fr : syns) {
        wire::TcpFrameView v;
        wire::TcpOptions opts;
        wire::ParseError err{};
        if (wire::parse_tcp_frame(fr, wire::kVerifyChecksums, v, opts, err) != wire::TcpFrameParse::kTcp) std::abort();
        wire::TcpHeaderFields h;
        h.src_ip = v.dst_ip();
        h.dst_ip = v.src_ip();
        h.src_port = v.dst_port();
        h.dst_port = v.src_port();
        h.seq = v.seq() ^ 0x5bd1e995u;
        h.ack = v.seq() + 1;
        h.flags = tcp::flag::kSyn | tcp::flag::kAck;
        h.window = 65535;
        const size_t olen = wire::tcp_options_len(opts);
        tpl.write_headers(out.data(), mac, h, opts, olen, 0, 0, true);
        wire::fill_tcp_checksum(out.data(), 20 + olen);
        total += 54 + olen;
      }
    });
  });
  if (total == 0) std::abort();
  return ns;
}

// Full connections against the HTTP responder, driven by a scripted client.
// The client's three non-SYN frames are built inside the timed loop (their
// numbers depend on the server's ISS): that peer-side cost is included.
double bench_connections(uint32_t n) {
  tcp::StackConfig cfg;
  cfg.prf = g_prf;
  cfg.max_conns = 4096;
  cfg.send_chunks = 8192;
  cfg.cookies = tcp::CookieMode::kOff;
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::vector<uint8_t>> syns;
  syns.reserve(n);
  for (uint32_t i = 0; i < n; ++i)
    syns.push_back(client_frame(i, i * 104729u, 0, tcp::flag::kSyn, {}, true));
  std::array<uint8_t, 2048> buf{};
  FrameSink sink;
  uint64_t established = 0;
  const double ns = best_ns_per_op(g_rounds, n, [&](Timer& timer) {
    tcp::Stack stack(cfg, secrets(), sink, tcp::Instant{});
    tcp::HttpApp app;
    stack.listen(80, app);
    tcp::Instant now = tcp::Instant{} + tcp::Duration::ms(1);
    measured_loop(timer, [&] {
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t port = i;
        const uint32_t cseq = i * 104729u;
        feed(stack, syns[i], now);
        const uint32_t sseq = sink.last().seq.raw();
        size_t len = peer_frame_into(buf, port, cseq + 1, sseq + 1, tcp::flag::kAck | tcp::flag::kPsh, req, false);
        feed(stack, std::span<const uint8_t>(buf.data(), len), now);
        const uint32_t resp_end = sink.last().seq.raw() + sink.last().payload_len;
        const uint32_t cfin = cseq + 1 + static_cast<uint32_t>(req.size());
        len = peer_frame_into(buf, port, cfin, resp_end, tcp::flag::kAck | tcp::flag::kFin, {}, false);
        feed(stack, std::span<const uint8_t>(buf.data(), len), now);
        len = peer_frame_into(buf, port, cfin + 1, resp_end + 1, tcp::flag::kAck, {}, false);
        feed(stack, std::span<const uint8_t>(buf.data(), len), now);
        if ((i & 1023) == 0) {
          now = now + tcp::Duration::us(10);
          stack.advance(now);
        }
      }
    });
    established = stack.counters().established;
    if (stack.conn_count() != 0) {
    g_failed = true;
    std::fprintf(stderr, "connection bench: %u left open\n", stack.conn_count());
  }
  });
  if (established != n) {
    g_failed = true;
    std::fprintf(stderr, "connection bench: %lu of %u established\n", established, n);
  }
  return ns;
}

// In-order data segments (1,000 bytes) into the discard app on one
// established connection: the receive path per segment, delayed ACKs
// included. predict = false sends every segment up the full RFC 9293
// §3.10.7.4 ladder instead of header prediction (stack_predict.cpp).
double bench_data(uint32_t n, bool predict) {
  tcp::StackConfig cfg;
  cfg.prf = g_prf;
  cfg.header_prediction = predict;
  cfg.send_chunks = 64;
  const std::string payload(1000, 'x');
  std::array<uint8_t, 2048> buf{};
  FrameSink sink;
  uint64_t got = 0, predicted = 0;
  const double ns = best_ns_per_op(g_rounds, n, [&](Timer& timer) {
    tcp::Stack stack(cfg, secrets(), sink, tcp::Instant{});
    tcp::DiscardApp app;
    stack.listen(80, app);
    const tcp::Instant now = tcp::Instant{} + tcp::Duration::ms(1);
    const uint32_t cseq = 12345;
    feed(stack, client_frame(0, cseq, 0, tcp::flag::kSyn, {}, true), now);
    const uint32_t sseq = sink.last().seq.raw();
    feed(stack, client_frame(0, cseq + 1, sseq + 1, tcp::flag::kAck, {}, false), now);
    const uint64_t rx0 = stack.counters().rx_bytes;
    measured_loop(timer, [&] {
      for (uint32_t i = 0; i < n; ++i) {
        const size_t len = peer_frame_into(buf, 0, cseq + 1 + i * 1000u, sseq + 1, tcp::flag::kAck | tcp::flag::kPsh,
                                           payload, false);
        feed(stack, std::span<const uint8_t>(buf.data(), len), now);
      }
    });
    got = stack.counters().rx_bytes - rx0;
    predicted = stack.counters().predicted;
  });
  if (got != uint64_t{n} * 1000 || (predict && predicted < n) || (!predict && predicted != 0)) {
    g_failed = true;
    std::fprintf(stderr, "data bench: %lu of %lu bytes received, %lu predicted\n", got, uint64_t{n} * 1000, predicted);
  }
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_n = std::getenv("SYNMILL_BENCH_N");
  const uint32_t n = env_n ? static_cast<uint32_t>(std::strtoul(env_n, nullptr, 10)) : 200000;
  const char* env_prf = std::getenv("SYNMILL_BENCH_PRF");
  if (env_prf != nullptr && std::strcmp(env_prf, "siphash") == 0) g_prf = tcp::PrfKind::kSipHash;
  if (argc > 2 && std::strcmp(argv[1], "--op") == 0) {
    g_rounds = 1;
    const std::string op = argv[2];
    if (op == "reference") bench_reference(n);
    else if (op == "syn_cookie") bench_syn(tcp::CookieMode::kAlways, n);
    else if (op == "syn_backlog") bench_syn(tcp::CookieMode::kOff, n);
    else if (op == "connection") bench_connections(n);
    else if (op == "data") bench_data(n, true);
    else if (op == "data_ladder") bench_data(n, false);
    else {
      std::fprintf(stderr, "unknown op %s (reference, syn_cookie, syn_backlog, connection, data, data_ladder)\n",
                   op.c_str());
      return 2;
    }
    return g_failed ? 1 : 0;
  }
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  const double ref = bench_reference(n);
  const double cookie = bench_syn(tcp::CookieMode::kAlways, n);
  const double backlog = bench_syn(tcp::CookieMode::kOff, n);
  const double conn = bench_connections(n);
  if (json) {
    std::printf(
        "{\"reference_ns\": %.1f, \"syn_cookie_ns\": %.1f, \"syn_backlog_ns\": %.1f, "
        "\"connection_ns\": %.1f, \"cps_per_core\": %.0f}\n",
        ref, cookie, backlog, conn, 1e9 / conn);
    return 0;
  }
  std::printf("synmill core bench (one core, no DPDK, best of 5 rounds of %u)\n", n);
  std::printf("%-44s %10s %10s\n", "scenario", "ns/op", "x ref");
  std::printf("%-44s %10.1f %10.2f\n", "reference: parse SYN + build SYN-ACK frame", ref, 1.0);
  std::printf("%-44s %10.1f %10.2f\n", "SYN -> cookie SYN-ACK (aim < 50 ns)", cookie, cookie / ref);
  std::printf("%-44s %10.1f %10.2f\n", "SYN -> SYN_RCVD entry + SYN-ACK", backlog, backlog / ref);
  std::printf("%-44s %10.1f %10.2f\n", "open + request + close (aim < 400 ns)", conn, conn / ref);
  std::printf("connections per second per core: %.0f\n", 1e9 / conn);
  return 0;
}
