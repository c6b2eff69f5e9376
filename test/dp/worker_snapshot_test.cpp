// Telemetry's view of a running worker: the published snapshot (a seqlock)
// and table queries the worker answers itself, read in a tight loop from
// another thread while the worker churns connections. Under ThreadSanitizer
// (meson setup build-tsan -Db_sanitize=thread) this is the data-race check of
// the telemetry path.
//
// The worker owns 198.18.0.1 and 198.18.0.2 on net_ring0, which returns every
// frame it sends: a driver opens connections 198.18.0.1:P -> 198.18.0.2:7,
// the same stack serves them with echo, each client sends 100 bytes and
// closes first (client side to TIME_WAIT).
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/rte.hpp"
#include "dp/worker.hpp"
#include "tcp/apps/factory.hpp"
#include "test_eal.hpp"

using namespace synmill;
using namespace synmill::dp;
namespace t = synmill::dp::test;

namespace {

constexpr uint32_t kClientIp = 0xc6120001;  // 198.18.0.1
constexpr uint32_t kServerIp = 0xc6120002;  // 198.18.0.2
constexpr uint32_t kConnections = 3000;

// Opens connections one after another, at most 32 open at a time.
class Churn final : public LoopDriver {
 public:
  explicit Churn(tcp::App& app) : app_(app) {}
  void on_loop(Worker& w, tcp::Instant now) override {
    if (!w.resolve(kServerIp, kClientIp)) return;
    for (int i = 0; i < 4 && opened_ < kConnections && w.stack().conn_count() < 64; ++i) {
      const tcp::FourTuple tuple{kClientIp, kServerIp, static_cast<uint16_t>(20000 + opened_), 7};
      if (w.stack_mut().connect(tuple, app_, now).valid()) ++opened_;
    }
  }
  std::atomic<uint32_t> opened_{0};

 private:
  tcp::App& app_;
};

bool counters_not_below(const tcp::Counters& a, const tcp::Counters& b) {
  bool ok = true;
  std::vector<uint64_t> av;
  a.for_each([&](std::string_view, uint64_t v) { av.push_back(v); });
  size_t i = 0;
  b.for_each([&](std::string_view, uint64_t v) { ok = ok && av[i++] >= v; });
  return ok;
}

}  // namespace

TEST_CASE("a running worker's snapshot and table queries, read in a tight loop", "[dp][eal][snapshot]") {
  t::eal();
  const uint16_t port = t::port_by_name("net_ring0");
  auto profile = find_profile(t::drivers_config_dir(), driver_name_of(port));
  REQUIRE(profile.ok());
  auto plan = configure_port(*profile, PortRequest{port, 1, {}});
  REQUIRE(plan.ok());
  auto pool = create_mbuf_pool(mbuf_pool_spec_for(plan->info, 1, 256, 2));
  REQUIRE(pool.ok());
  auto info = start_port(*plan, *pool);
  REQUIRE(info.ok());

  WorkerSettings s;
  s.port_id = port;
  s.port = &*info;
  s.pool = *pool;
  s.addrs = {Address{kClientIp, 24}, Address{kServerIp, 24}};
  s.tcp.max_conns = 256;
  s.tcp.max_time_wait = 8192;
  s.tcp.send_chunks = 1024;
  s.secrets.table_seed = 7;
  std::string error;
  auto echo = tcp::make_app("echo", error);
  auto client = tcp::make_app("send:100", error);
  REQUIRE(echo != nullptr);
  REQUIRE(client != nullptr);
  Churn churn(*client);
  s.driver = &churn;
  Worker w(s);
  REQUIRE(w.listen(7, *echo));
  CHECK(w.snapshot().states[tcp::State::kListen] == 1);  // published by listen()

  std::atomic<int> state{static_cast<int>(RunState::kRunning)};
  std::thread runner([&] { w.run(state); });

  WorkerSnapshot last = w.snapshot();
  uint64_t reads = 0, queries = 0, rows = 0, bad_rows = 0, below = 0, ahead = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  TableQuery q;
  q.rows.reserve(64);
  while (std::chrono::steady_clock::now() < deadline) {
    const WorkerSnapshot snap = w.snapshot();
    ++reads;
    // One moment of one worker: every segment the stack saw came in as a frame.
    if (snap.tcp.rx_segments > snap.dp.rx_packets) ++ahead;
    if (!counters_not_below(snap.tcp, last.tcp)) ++below;
    last = snap;
    if (reads % 16 == 0) {
      q.kind = TableQuery::Kind::kConns;
      q.skip = 0;
      q.want = 64;
      if (w.ask(q, 5000)) {
        ++queries;
        rows += q.rows.size();
        for (const tcp::ConnInfo& ci : q.rows) {
          if (ci.state == tcp::State::kClosed || (ci.tuple.local_port != 7 && ci.tuple.remote_port != 7)) ++bad_rows;
        }
      }
      q.kind = TableQuery::Kind::kState;
      q.tuple = tcp::FourTuple{kServerIp, kClientIp, 7, 20000};
      if (w.ask(q, 5000)) ++queries;
    }
    if (churn.opened_.load() == kConnections && snap.conns == 0) break;  // all opened, all closed
  }
  state.store(static_cast<int>(RunState::kStopping));
  runner.join();

  INFO("reads " << reads << ", queries " << queries << ", rows " << rows);
  CHECK(ahead == 0);
  CHECK(below == 0);
  CHECK(bad_rows == 0);
  CHECK(reads > 1000);
  CHECK(queries > 10);
  CHECK(rows > 0);
  // The final snapshot is the worker's last word (stack() is safe to read after join).
  const WorkerSnapshot fin = w.snapshot();
  CHECK(fin.tcp.established == w.stack().counters().established);
  CHECK(fin.tcp.closed_normal == w.stack().counters().closed_normal);
  CHECK(fin.dp.rx_packets == w.counters().rx_packets);
  CHECK(churn.opened_.load() == kConnections);
  CHECK(fin.tcp.established >= kConnections);
  CHECK(fin.conns == 0);

  REQUIRE(close_port(port).ok());
  rte_mempool_free(*pool);
}
