// Telemetry's view of a running worker: the published snapshot (a seqlock)
// and table queries the worker answers itself, read in a tight loop from
// another thread while the worker churns connections. Under ThreadSanitizer
// (meson setup build-tsan -Db_sanitize=thread) this is the data-race check of
// the telemetry path.
//
// Two ring ports wired crosswise (what one transmits the other receives):
// worker A (198.18.0.2) serves echo on port 7; worker B (198.18.0.1) opens
// connections to it one after another, each sends 100 bytes and closes first.
// Each worker runs on its own thread; the test thread is telemetry.
#include <unistd.h>

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

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_eth_ring.h>
#include <rte_ring.h>
#pragma GCC diagnostic pop

using namespace synmill;
using namespace synmill::dp;
namespace t = synmill::dp::test;

namespace {

constexpr uint32_t kClientIp = 0xc6120001;  // 198.18.0.1
constexpr uint32_t kServerIp = 0xc6120002;  // 198.18.0.2
constexpr uint32_t kConnections = 1000;

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


struct RingPort {
  PortInfo info;
  rte_mempool* pool = nullptr;
};

RingPort start_ring_port(const char* name, rte_ring* rx, rte_ring* tx) {
  const int id = rte_eth_from_rings(name, &rx, 1, &tx, 1, 0);
  REQUIRE(id >= 0);
  const auto port = static_cast<uint16_t>(id);
  auto profile = find_profile(t::drivers_config_dir(), driver_name_of(port));
  REQUIRE(profile.ok());
  auto plan = configure_port(*profile, PortRequest{port, 1, {}});
  REQUIRE(plan.ok());
  auto pool = create_mbuf_pool(mbuf_pool_spec_for(plan->info, 1, 256, 2));
  REQUIRE(pool.ok());
  auto info = start_port(*plan, *pool);
  REQUIRE(info.ok());
  return {*info, *pool};
}

WorkerSettings settings_for(const RingPort& p, uint32_t ip) {
  WorkerSettings s;
  s.port_id = p.info.port_id;
  s.port = &p.info;
  s.pool = p.pool;
  s.addrs = {Address{ip, 24}};
  s.tcp.max_conns = 256;
  s.tcp.max_time_wait = 4096;
  s.tcp.send_chunks = 1024;
  s.secrets.table_seed = ip;
  return s;
}

}  // namespace

TEST_CASE("running workers' snapshots and table queries, read in a tight loop", "[dp][eal][snapshot]") {
  t::eal();
  const std::string tag = std::to_string(::getpid());
  rte_ring* ab = rte_ring_create(("snap-ab-" + tag).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* ba = rte_ring_create(("snap-ba-" + tag).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(ab != nullptr);
  REQUIRE(ba != nullptr);
  RingPort pa = start_ring_port(("snap_a_" + tag).c_str(), ba, ab);  // A sends on ab, receives ba
  RingPort pb = start_ring_port(("snap_b_" + tag).c_str(), ab, ba);

  std::string error;
  auto echo = tcp::make_app("echo", error);
  auto client = tcp::make_app("send:100", error);
  REQUIRE(echo != nullptr);
  REQUIRE(client != nullptr);
  Churn churn(*client);
  Worker a(settings_for(pa, kServerIp));
  WorkerSettings sb = settings_for(pb, kClientIp);
  sb.driver = &churn;
  Worker b(sb);
  REQUIRE(a.listen(7, *echo));
  CHECK(a.snapshot().states[tcp::State::kListen] == 1);  // published by listen()

  std::atomic<int> state{static_cast<int>(RunState::kRunning)};
  std::thread run_a([&] { a.run(state); });
  std::thread run_b([&] { b.run(state); });

  Worker* const both[] = {&a, &b};
  WorkerSnapshot last[2] = {a.snapshot(), b.snapshot()};
  uint64_t reads = 0, queries = 0, rows = 0, bad_rows = 0, below = 0, ahead = 0, fresh = 0, stale = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  TableQuery q;
  q.rows.reserve(64);
  q.addrs6.reserve(64);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 2; ++i) {
      const WorkerSnapshot snap = both[i]->snapshot();
      ++reads;
      // One moment of one worker: every segment its stack saw came in as a frame.
      if (snap.tcp.rx_segments > snap.dp.rx_packets) ++ahead;
      if (!counters_not_below(snap.tcp, last[i].tcp)) ++below;
      last[i] = snap;
      if (reads % 4 < 2) {
        q.kind = TableQuery::Kind::kConns;
        q.skip = 0;
        q.want = 64;
        if (both[i]->ask(q, 5000)) {
          ++queries;
          rows += q.rows.size();
          for (const tcp::ConnInfo& ci : q.rows) {
            if (ci.state == tcp::State::kClosed || (ci.tuple.local_port != 7 && ci.tuple.remote_port != 7)) ++bad_rows;
          }
        }
        q.kind = TableQuery::Kind::kState;
        q.tuple = tcp::FourTuple{kServerIp, kClientIp, 7, 20000};
        if (both[i]->ask(q, 5000)) ++queries;
      }
    }
    // A fresh snapshot holds every open B's driver made before asking for
    // it (a plain one may be up to a millisecond of B's loop behind).
    const uint32_t opened = churn.opened_.load();
    if (b.fresh_snapshot(5000).tcp.active_opens < opened) ++stale;
    ++fresh;
    if (churn.opened_.load() == kConnections && last[0].conns == 0 && last[1].conns == 0) break;
  }
  state.store(static_cast<int>(RunState::kStopping));
  run_a.join();
  run_b.join();

  INFO("reads " << reads << ", fresh " << fresh << " (stale " << stale << "), queries " << queries << ", rows " << rows << "; A rx " << a.counters().rx_packets
                << " est " << a.stack().counters().established << "; B rx " << b.counters().rx_packets << " est "
                << b.stack().counters().established << " opened " << churn.opened_.load());
  CHECK(ahead == 0);
  CHECK(stale == 0);
  CHECK(fresh > 10);
  CHECK(below == 0);
  CHECK(bad_rows == 0);
  CHECK(reads > 10);  // while the workers churned (the loop ends once all closed)
  CHECK(queries > 10);
  CHECK(rows > 0);
  // The final snapshot is the worker's last word (stack() is safe to read after join).
  for (Worker* w : both) {
    const WorkerSnapshot fin = w->snapshot();
    CHECK(fin.tcp.established == w->stack().counters().established);
    CHECK(fin.tcp.closed_normal == w->stack().counters().closed_normal);
    CHECK(fin.dp.rx_packets == w->counters().rx_packets);
    CHECK(fin.conns == 0);
    CHECK(fin.tcp.established >= kConnections);
  }
  CHECK(churn.opened_.load() == kConnections);

  // Every mbuf is back in its pool once the workers stopped and the rings
  // are drained (replies built in received mbufs, the ones a worker keeps
  // for its next reply, TX refused: none leaks).
  for (rte_ring* r : {ab, ba}) {
    void* m = nullptr;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  for (RingPort* p : {&pa, &pb}) {
    INFO("pool " << p->pool->name);
    CHECK(rte_mempool_avail_count(p->pool) == p->pool->size);
  }
  for (RingPort* p : {&pa, &pb}) {
    REQUIRE(close_port(p->info.port_id).ok());
    rte_mempool_free(p->pool);
  }
  rte_ring_free(ab);
  rte_ring_free(ba);
}
