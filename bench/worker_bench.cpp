// The DPDK worker (lib/dp Worker) per packet, in one process: the EAL on
// --no-huge, a net_ring port built from two rte_rings (rte_eth_from_rings),
// and the bench on the worker's thread playing the peers. It enqueues client
// frames into the port's RX ring, runs one pass of the worker's poll loop
// (Worker::pass: RX burst, parse, stack, replies built in the mbufs, TX
// flush), then takes the replies off the TX ring, reads what the next client
// frames need (the server's sequence numbers) and frees them.
//
// The clock is the bench's: the worker starts at TSC 0 with 10^9 ticks a
// second (one tick a nanosecond) and each pass advances it by kNsPerFrame per
// frame received (2 Mpps), so timers run as they would at that rate and the
// instructions a pass executes depend on nothing but the frames: under
// callgrind (bench/worker_instr.py, --toggle-collect=*measured_pass*) the
// count per packet is the same every run.
//
//   worker_bench --op cps     N connections as core_bench's connection
//                             scenario (SYN, ACK+GET, FIN, ACK in; SYN-ACK,
//                             response, FIN out; HTTP app), pipelined: pass k
//                             carries the final ACKs of group k-3, the FINs
//                             of k-2, the requests of k-1 and the SYNs of k,
//                             kGroup connections a group (16-frame bursts)
//   worker_bench --op cps_dispatch  the same with two workers and software
//                             dispatch (dispatch.hpp: worker 0 hashes each
//                             flow to its owner, owners hand their replies
//                             back to worker 0): both workers' passes counted
//   worker_bench --op flood   N SYNs in full 32-frame bursts, cookies always
//                             (bench/run.py's syn-cookies): after a warm-up of
//                             kWarmupPasses (not counted) the worker is in
//                             overload (LoadShed) as under a real flood
//
// N is SYNMILL_BENCH_N (default 2000). SYNMILL_BENCH_HELD=M (cps only, one
// worker; default 0): first M more clients open connections (SYN, ACK; not
// measured) and hold them idle in ESTABLISHED, as bench/run.py's scale
// scenario (synmill-gen --hold M), with the tables sized as synmill sizes
// them for it (--max-conns M + 65536, --time-wait 1; TIME_WAIT and chunk
// pool at synmill's defaults). Then the cps scenario runs among them. Under
// valgrind the held set is opened uninstrumented (--instr-atstart=no): the
// bench asks callgrind to start instrumenting after it (a client request, a
// no-op otherwise), so cache simulation (--cache-sim=yes) starts there.
// SYNMILL_BENCH_WARM=W: the first W passes of the cps scenario are run but
// not measured (warm caches; default 0). bench/worker_instr.py --held runs
// it. Prints one JSON line: the frames the
// measured passes received and sent, and the worker's counters that show the
// scenario did what it claims (exit 1 if not). Without --op: every scenario
// with wall-clock ns per frame (noisy; instructions are the figure to trust).
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dp/dispatch.hpp"
#include "dp/eal.hpp"
#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/rte.hpp"
#include "dp/worker.hpp"
#include "tcp/apps/http.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_parse.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_eth_ring.h>
#include <rte_ring.h>
#pragma GCC diagnostic pop

#if __has_include(<valgrind/callgrind.h>)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#include <valgrind/callgrind.h>
#pragma GCC diagnostic pop
#define SYNMILL_START_INSTRUMENTATION() CALLGRIND_START_INSTRUMENTATION
#else
#define SYNMILL_START_INSTRUMENTATION() ((void)0)
#endif

using namespace synmill;

namespace {

constexpr uint32_t kServerIp = 0xC6120002;  // 198.18.0.2
constexpr uint32_t kClientIp = 0xC6120010;  // 198.18.0.16 and up
constexpr uint16_t kServerPort = 80;
constexpr wire::MacAddr kClientMac{0x02, 0, 0, 0, 0, 0x10};
constexpr uint32_t kGroup = 4;          // connections a group (cps)
constexpr uint16_t kFlood = 32;         // SYNs a burst (flood: full bursts)
constexpr uint32_t kWarmupPasses = 16;  // flood: past LoadShed::kEnterStreak
constexpr uint64_t kNsPerFrame = 500;   // the bench's clock: 2 Mpps
constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "worker_bench: %s\n", what.c_str());
  std::exit(1);
}

// One round of the workers' loops: worker 0 polls the port (and with
// software dispatch hands other workers their flows), each owner takes its
// own, then worker 0 once more transmits what owners handed back (as on a
// port with one TX queue). Returns what worker 0 received.
uint16_t round(dp::Worker* const* ws, size_t n, uint64_t tsc) {
  const uint16_t got = ws[0]->pass(tsc);
  if (n == 1) return got;
  for (size_t i = 1; i < n; ++i) ws[i]->pass(tsc);
  ws[0]->pass(tsc);
  return got;
}
// The rounds counted: callgrind collects inside this function only (noipa:
// never inlined, nor folded into its twin below).
[[gnu::noipa]] uint16_t measured_pass(dp::Worker* const* ws, size_t n, uint64_t tsc) { return round(ws, n, tsc); }
// The flood's warm-up passes: the same, not collected.
[[gnu::noipa]] uint16_t warmup_pass(dp::Worker* const* ws, size_t n, uint64_t tsc) { return round(ws, n, tsc); }

struct Bench {
  rte_ring* rx = nullptr;  // the port's RX: the bench enqueues client frames here
  rte_ring* tx = nullptr;  // the port's TX: the worker's replies
  dp::PortInfo port;
  rte_mempool* pool = nullptr;
  std::atomic<bool> link_up{true};
  std::vector<rte_mbuf*> burst;
  std::vector<dp::Worker*> workers;  // worker 0 polls the port
  uint64_t tsc = 0;
  uint64_t measured_rx = 0;
  uint64_t measured_tx = 0;
  uint64_t all_rx = 0;  // every pass's, measured or not
  uint64_t rst_out = 0;
  uint64_t ns = 0;  // wall clock inside the measured passes
};

Bench& bench() {
  static Bench b;
  return b;
}

void start_port() {
  Bench& b = bench();
  const std::string tag = std::to_string(::getpid());
  b.rx = rte_ring_create(("wb-rx-" + tag).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  b.tx = rte_ring_create(("wb-tx-" + tag).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (b.rx == nullptr || b.tx == nullptr) die("rte_ring_create failed");
  const int id = rte_eth_from_rings(("wb_ring_" + tag).c_str(), &b.rx, 1, &b.tx, 1, 0);
  if (id < 0) die("rte_eth_from_rings failed");
  const auto port = static_cast<uint16_t>(id);
  auto profile = dp::find_profile(SYNMILL_DRIVERS_CONFIG_DIR, dp::driver_name_of(port));
  if (!profile) die(profile.error());
  auto plan = dp::configure_port(*profile, dp::PortRequest{port, 1, {}});
  if (!plan) die(plan.error());
  auto pool = dp::create_mbuf_pool(dp::mbuf_pool_spec_for(plan->info, 1, 4096, 2));
  if (!pool) die(pool.error());
  auto info = dp::start_port(*plan, *pool);
  if (!info) die(info.error());
  b.port = *info;
  b.pool = *pool;
}

// SYNMILL_BENCH_HELD / _WARM (see the top), 0 when unset.
uint32_t env_u32(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? static_cast<uint32_t>(std::strtoul(v, nullptr, 10)) : 0;
}

dp::WorkerSettings settings(tcp::CookieMode cookies, uint32_t held = 0) {
  Bench& b = bench();
  dp::WorkerSettings s;
  s.port_id = b.port.port_id;
  s.port = &b.port;
  s.pool = b.pool;
  s.addrs = {dp::Address{kServerIp, 24}};
  s.gratuitous_arp = false;
  s.link_up = &b.link_up;  // as synmill gives a port whose link state it trusts
  s.tcp.max_conns = 4096;
  s.tcp.max_time_wait = 4096;
  s.tcp.send_chunks = 4096;
  if (held > 0) {  // as bench/run.py's scale scenario runs synmill (scenarios.py hold_and_cps)
    s.tcp.max_conns = held + 65536;
    s.tcp.max_time_wait = 65536;
    s.tcp.send_chunks = 65536;
    s.tcp.time_wait = tcp::Duration::s(1);
  }
  s.tcp.cookies = cookies;
  s.secrets.isn_key = {1, 2};
  s.secrets.cookie_key = {3, 4};
  s.secrets.table_seed = 5;
  const char* prf = std::getenv("SYNMILL_BENCH_PRF");
  if (prf != nullptr && std::strcmp(prf, "siphash") == 0) s.tcp.prf = tcp::PrfKind::kSipHash;
  return s;
}

// Client number i: a distinct (address, port) pair, as core_bench.
wire::TcpFrameSpec client_spec(uint32_t i, uint32_t seq, uint32_t ack, uint8_t flags) {
  wire::TcpFrameSpec spec;
  spec.src_mac = kClientMac;
  spec.dst_mac = bench().port.mac;
  spec.src_ip = kClientIp + i / 60000;
  spec.dst_ip = kServerIp;
  spec.src_port = static_cast<uint16_t>(1024 + i % 60000);
  spec.dst_port = kServerPort;
  spec.seq = seq;
  spec.ack = ack;
  spec.flags = flags;
  spec.window = 65535;
  if ((flags & tcp::flag::kSyn) != 0) {
    spec.opts.has_mss = true;
    spec.opts.mss = 1460;
    spec.opts.has_wscale = true;
    spec.opts.wscale = 7;
    spec.opts.sack_permitted = true;
  }
  return spec;
}

void add_frame(const wire::TcpFrameSpec& spec, std::string_view payload = {}) {
  Bench& b = bench();
  rte_mbuf* m = rte_pktmbuf_alloc(b.pool);
  if (m == nullptr) die("mbuf pool empty");
  std::array<uint8_t, 256> buf{};
  const size_t len = wire::build_tcp_frame(
      buf, spec, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(std::max<size_t>(len, 60))));
  if (len == 0 || p == nullptr) die("client frame");
  std::memcpy(p, buf.data(), len);
  b.burst.push_back(m);
}

// Hands the frames added so far to the port and runs one round over them.
void run_pass(bool measured) {
  Bench& b = bench();
  const auto n = static_cast<unsigned>(b.burst.size());
  if (rte_ring_enqueue_burst(b.rx, reinterpret_cast<void* const*>(b.burst.data()), n, nullptr) != n) die("rx ring full");
  b.burst.clear();
  b.tsc += n * kNsPerFrame;
  const auto t0 = std::chrono::steady_clock::now();
  const uint16_t got = measured ? measured_pass(b.workers.data(), b.workers.size(), b.tsc)
                                : warmup_pass(b.workers.data(), b.workers.size(), b.tsc);
  b.ns += static_cast<uint64_t>(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  if (got != n || rte_ring_count(b.rx) != 0) die("the pass did not take the whole burst");
  if (measured) b.measured_rx += got;
  b.all_rx += got;
}

// Takes the worker's replies off the TX ring; for each TCP one to client i,
// next[i] becomes the sequence number after it (what the client acknowledges).
void take_replies(std::vector<uint32_t>& next, bool measured) {
  Bench& b = bench();
  std::array<rte_mbuf*, 64> out{};
  unsigned n;
  while ((n = rte_ring_dequeue_burst(b.tx, reinterpret_cast<void**>(out.data()), out.size(), nullptr)) > 0) {
    for (unsigned k = 0; k < n; ++k) {
      rte_mbuf* m = out[k];
      wire::TcpFrameView v;
      wire::TcpOptions opts;
      wire::ParseError err{};
      const std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
      if (wire::parse_tcp_frame(frame, wire::kVerifyChecksums, v, opts, err) != wire::TcpFrameParse::kTcp) {
        die("the worker sent a frame that is not a valid TCP segment");
      }
      if ((v.flags() & tcp::flag::kRst) != 0) ++b.rst_out;
      const uint32_t i = (v.dst_ip() - kClientIp) * 60000 + (v.dst_port() - 1024u);
      if (i < next.size()) {
        next[i] = v.seq() + static_cast<uint32_t>(v.payload().size()) +
                  ((v.flags() & (tcp::flag::kSyn | tcp::flag::kFin)) != 0 ? 1u : 0u);
      }
      rte_pktmbuf_free(m);
    }
    if (measured) b.measured_tx += n;
  }
}

void report(const char* op, const dp::Worker& w, bool ok, const std::string& extra) {
  const Bench& b = bench();
  std::printf(
      "{\"op\": \"%s\", \"measured_rx\": %lu, \"measured_tx\": %lu, \"rx_packets\": %lu, \"tx_packets\": %lu, "
      "\"ns_per_rx\": %.1f, \"ok\": %s%s}\n",
      op, b.measured_rx, b.measured_tx, w.counters().rx_packets, w.counters().tx_packets,
      b.measured_rx ? static_cast<double>(b.ns) / static_cast<double>(b.measured_rx) : 0.0, ok ? "true" : "false",
      extra.c_str());
}

void reset_counts() {
  Bench& b = bench();
  b.tsc = 0;
  b.measured_rx = b.measured_tx = b.all_rx = b.rst_out = b.ns = 0;
}

// `workers` > 1: software dispatch (dispatch.hpp), as synmill runs on a port
// without RSS with several worker cores; owners hand their frames back to
// worker 0 (one TX queue).
// The held set: clients n .. n + held - 1 open (SYN, then ACK in the next
// pass, 15 of each a pass: bursts below kBurst, or the worker would take
// itself for overloaded and shed SYNs) and stay idle; not measured.
void open_held(dp::Worker& w, uint32_t n, uint32_t held, std::vector<uint32_t>& next) {
  constexpr uint32_t kHeldGroup = 15;
  const auto cseq = [](uint32_t i) { return i * 104729u; };
  const uint32_t groups = (held + kHeldGroup - 1) / kHeldGroup;
  const auto each = [&](int64_t g, auto&& f) {
    if (g < 0 || g >= groups) return;
    const uint32_t first = n + static_cast<uint32_t>(g) * kHeldGroup;
    for (uint32_t i = first; i < std::min(n + held, first + kHeldGroup); ++i) f(i);
  };
  for (int64_t k = 0; k < int64_t{groups} + 1; ++k) {
    each(k - 1, [&](uint32_t i) { add_frame(client_spec(i, cseq(i) + 1, next[i], tcp::flag::kAck)); });
    each(k, [&](uint32_t i) { add_frame(client_spec(i, cseq(i), 0, tcp::flag::kSyn)); });
    run_pass(false);
    take_replies(next, false);
  }
  if (w.stack().conn_count() != held || w.stack().counters().established != held || bench().rst_out != 0) {
    std::string why;
    w.stack().counters().for_each([&](std::string_view k, uint64_t v) {
      if (v != 0 && k.starts_with("drop_")) why += " " + std::string(k) + "=" + std::to_string(v);
    });
    die("the held connections did not all open (" + std::to_string(w.stack().conn_count()) + " of " +
        std::to_string(held) + ";" + why + ")");
  }
}

bool bench_cps(uint32_t n, uint16_t workers) {
  reset_counts();
  const uint32_t held = workers == 1 ? env_u32("SYNMILL_BENCH_HELD") : 0;
  const uint32_t warm = env_u32("SYNMILL_BENCH_WARM");
  Bench& b = bench();
  std::unique_ptr<dp::Dispatch> dispatch;
  if (workers > 1) dispatch = std::make_unique<dp::Dispatch>(workers, 1024, false);
  std::vector<std::unique_ptr<dp::Worker>> ws;
  std::vector<std::unique_ptr<tcp::HttpApp>> apps;
  b.workers.clear();
  for (uint16_t i = 0; i < workers; ++i) {
    dp::WorkerSettings s = settings(tcp::CookieMode::kOverflow, held);
    s.index = i;
    s.dispatch = dispatch.get();
    ws.push_back(std::make_unique<dp::Worker>(s));
    apps.push_back(std::make_unique<tcp::HttpApp>());
    if (!ws.back()->listen(kServerPort, *apps.back())) die("listen");
    ws.back()->start(1'000'000'000, b.tsc);
    b.workers.push_back(ws.back().get());
  }
  std::vector<uint32_t> next(size_t{n} + held, 0);  // the server's next sequence number, per client
  if (held > 0) {
    open_held(*ws[0], n, held, next);
    b.all_rx = 0;
  }
  SYNMILL_START_INSTRUMENTATION();
  const auto cseq = [](uint32_t i) { return i * 104729u; };
  const uint32_t groups = (n + kGroup - 1) / kGroup;
  const auto each = [&](int64_t g, auto&& f) {
    if (g < 0 || g >= groups) return;
    for (uint32_t i = static_cast<uint32_t>(g) * kGroup; i < std::min(n, static_cast<uint32_t>(g + 1) * kGroup); ++i) f(i);
  };
  const auto req_len = static_cast<uint32_t>(kRequest.size());
  for (int64_t k = 0; k < int64_t{groups} + 3; ++k) {
    each(k - 3, [&](uint32_t i) { add_frame(client_spec(i, cseq(i) + 2 + req_len, next[i], tcp::flag::kAck)); });
    each(k - 2, [&](uint32_t i) {
      add_frame(client_spec(i, cseq(i) + 1 + req_len, next[i], tcp::flag::kAck | tcp::flag::kFin));
    });
    each(k - 1, [&](uint32_t i) {
      add_frame(client_spec(i, cseq(i) + 1, next[i], tcp::flag::kAck | tcp::flag::kPsh), kRequest);
    });
    each(k, [&](uint32_t i) { add_frame(client_spec(i, cseq(i), 0, tcp::flag::kSyn)); });
    const bool measured = k >= int64_t{warm};
    run_pass(measured);
    take_replies(next, measured);
  }
  uint64_t established = 0, open = 0, requests = 0, busy = 0;
  for (uint16_t i = 0; i < workers; ++i) {
    established += ws[i]->stack().counters().established;
    open += ws[i]->stack().conn_count();
    requests += apps[i]->requests();
    busy += ws[i]->stack().counters().established > 0;
  }
  const bool ok = established == n + held && open == held && b.rst_out == 0 && b.all_rx == uint64_t{4} * n &&
                  (warm > 0 || b.measured_rx == uint64_t{4} * n) && requests == n && busy == workers;
  report(workers > 1 ? "cps_dispatch" : "cps", *ws[0], ok,
         ", \"workers\": " + std::to_string(workers) + ", \"held\": " + std::to_string(held) +
             ", \"warm_passes\": " + std::to_string(warm) + ", \"established\": " + std::to_string(established) +
             ", \"open\": " + std::to_string(open) + ", \"requests\": " + std::to_string(requests) +
             ", \"rst_out\": " + std::to_string(b.rst_out));
  b.workers.clear();
  return ok;
}

bool bench_flood(uint32_t n) {
  reset_counts();
  Bench& b = bench();
  dp::Worker w(settings(tcp::CookieMode::kAlways));
  tcp::HttpApp app;
  if (!w.listen(kServerPort, app)) die("listen");
  w.start(1'000'000'000, b.tsc);
  b.workers = {&w};
  std::vector<uint32_t> next(n + kWarmupPasses * kFlood, 0);
  uint32_t i = 0;
  for (uint32_t p = 0; p < kWarmupPasses; ++p) {
    for (uint16_t k = 0; k < kFlood; ++k, ++i) add_frame(client_spec(i, i * 7919u, 0, tcp::flag::kSyn));
    run_pass(false);
    take_replies(next, false);
  }
  const uint64_t cookies0 = w.stack().counters().cookies_sent;
  for (uint32_t end = i + n; i < end;) {
    for (uint16_t k = 0; k < kFlood && i < end; ++k, ++i) add_frame(client_spec(i, i * 7919u, 0, tcp::flag::kSyn));
    run_pass(true);
    take_replies(next, true);
  }
  const uint64_t cookies = w.stack().counters().cookies_sent - cookies0;
  const bool overloaded = w.counters().overload_entered == 1;
  const bool ok = cookies == n && b.measured_tx == n && b.rst_out == 0 && w.stack().conn_count() == 0 && overloaded;
  report("flood", w, ok,
         ", \"cookies\": " + std::to_string(cookies) + ", \"overloaded\": " + (overloaded ? "true" : "false") +
             ", \"rst_out\": " + std::to_string(b.rst_out));
  b.workers.clear();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_n = std::getenv("SYNMILL_BENCH_N");
  const uint32_t n = env_n ? static_cast<uint32_t>(std::strtoul(env_n, nullptr, 10)) : 2000;
  std::string op;
  if (argc > 2 && std::strcmp(argv[1], "--op") == 0) op = argv[2];
  if (!op.empty() && op != "cps" && op != "cps_dispatch" && op != "flood") {
    die("unknown op " + op + " (cps, cps_dispatch, flood)");
  }
  // No shared config, no hugepages, no PCI, one lcore, no telemetry socket: nothing
  // outside this process, and valgrind runs it.
  auto eal = dp::Eal::init({"worker_bench", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
                            "-l", "0", "--log-level=warning", "--file-prefix=synmill-wbench-" + std::to_string(::getpid())});
  if (!eal) die(eal.error());
  start_port();
  bool ok = true;
  if (op.empty() || op == "cps") ok = bench_cps(n, 1) && ok;
  if (op.empty() || op == "cps_dispatch") ok = bench_cps(n, 2) && ok;
  if (op.empty() || op == "flood") ok = bench_flood(n) && ok;
  if (!dp::close_port(bench().port.port_id)) die("close_port");
  rte_mempool_free(bench().pool);
  rte_ring_free(bench().rx);
  rte_ring_free(bench().tx);
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  eal->cleanup();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);  // this process's own (its --file-prefix)
  return ok ? 0 : 1;
}
