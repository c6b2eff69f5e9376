// Deterministic simulation runs. SYNMILL_SIM_SCALE (default 1) scales the
// connection counts; the sanitizer build runs a smaller scale.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim_world.hpp"

using namespace synmill;
using sim::SimConfig;

namespace {

double scale() {
  const char* s = std::getenv("SYNMILL_SIM_SCALE");
  return s ? std::atof(s) : 1.0;
}

// SYNMILL_SIM_SEED=N runs a test that asks for it on seed N instead of its
// own (seed sweeps: the checks must hold on other seeds too).
uint64_t seed_or(uint64_t fixed) {
  const char* s = std::getenv("SYNMILL_SIM_SEED");
  return s ? std::strtoull(s, nullptr, 10) : fixed;
}

uint32_t scaled(uint32_t n, uint32_t floor = 50) {
  return std::max<uint32_t>(floor, static_cast<uint32_t>(n * scale()));
}

void report(const char* name, const sim::SimResult& r) {
  UNSCOPED_INFO(name << ": " << (r.ok ? "ok" : r.error));
  WARN(name << ": completed=" << r.completed << " failed_connect=" << r.failed_connect
            << " normal=" << r.close_normal << " other=" << r.close_other << " bytes=" << r.bytes
            << " frames=" << r.frames << " lost=" << r.lost << " sim_time_ms="
            << r.sim_time.count_ms() << " retransmits=" << r.client_ctr.retransmits + r.server_ctr.retransmits
            << " tw_reused=" << r.server_ctr.time_wait_reused);
  const tcp::Counters& c = r.client_ctr;
  const tcp::Counters& s = r.server_ctr;
  WARN(name << ": fast_retransmits=" << c.fast_retransmits + s.fast_retransmits
            << " sack_recoveries=" << c.sack_recoveries + s.sack_recoveries
            << " partial_acks=" << c.partial_acks + s.partial_acks
            << " rto_timeouts=" << c.rto_timeouts + s.rto_timeouts
            << " rto_after_recovery=" << c.rto_after_recovery + s.rto_after_recovery
            << " ooo_queued=" << c.ooo_queued + s.ooo_queued
            << " ooo_dropped=" << c.drop.ooo_dropped + s.drop.ooo_dropped
            << " dsack_sent=" << c.dsack_sent + s.dsack_sent
            << " delayed_acks=" << c.delayed_acks + s.delayed_acks
            << " transfer_ms_mean="
            << (r.completed ? r.transfer_time.count_ms() / static_cast<int64_t>(r.completed) : 0));
}

sim::SimResult run(const char* name, SimConfig cfg) {
  const sim::SimResult r = sim::run_simulation(cfg);
  report(name, r);
  return r;
}

}  // namespace

TEST_CASE("sim: clean link, every close mode", "[sim]") {
  SimConfig cfg;
  cfg.seed = seed_or(11);
  cfg.connections = scaled(40000);
  cfg.concurrency = 500;
  cfg.max_bytes = 4096;
  cfg.link.jitter = tcp::Duration{};  // no reordering either: nothing may be retransmitted
  const auto r = run("clean", cfg);
  REQUIRE(r.ok);
  CHECK(r.completed == cfg.connections);
  CHECK(r.failed_connect == 0);
  CHECK(r.client_ctr.retransmits == 0);
  CHECK(r.server_ctr.retransmits == 0);
  CHECK(r.client_ctr.total_drops() == r.client_ctr.drop.no_listener);
  // A quarter of them over IPv6 (issue 15), chosen per connection.
  CHECK(r.ipv6_opened > cfg.connections * 15 / 100);
  CHECK(r.ipv6_opened < cfg.connections * 35 / 100);
}

TEST_CASE("sim: every connection over IPv6, 5% loss, tuples reused in TIME_WAIT", "[sim][ipv6]") {
  SimConfig cfg;
  cfg.seed = seed_or(66);
  cfg.connections = scaled(5000);
  cfg.concurrency = 200;
  cfg.max_bytes = 8192;
  cfg.ipv6_percent = 100;
  cfg.client_addrs = 2;
  // Ports wrap (each tuple used about four times), so tuples come back while
  // the server holds them in TIME_WAIT, at any SYNMILL_SIM_SCALE.
  cfg.client_ports = std::max<uint32_t>(10, cfg.connections / 8);
  cfg.link.loss = 0.05;
  cfg.link.reorder = 0.05;
  cfg.link.duplicate = 0.02;
  const auto r = run("ipv6", cfg);
  REQUIRE(r.ok);  // byte-exact both ways, pools and the IPv6 address tables back to empty
  CHECK(r.ipv6_opened >= cfg.connections);
  CHECK(r.completed + r.failed_connect == cfg.connections);
  CHECK(r.completed > cfg.connections * 99 / 100);
  CHECK(r.server_ctr.time_wait_reused > 0);
  CHECK(r.client_ctr.drop.not_local6 == 0);
  CHECK(r.server_ctr.drop.not_local6 == 0);
}

TEST_CASE("sim: 1% loss with reordering and duplication", "[sim]") {
  SimConfig cfg;
  cfg.seed = seed_or(12);
  cfg.connections = scaled(30000);
  cfg.concurrency = 400;
  cfg.max_bytes = 4096;
  cfg.link.loss = 0.01;
  cfg.link.reorder = 0.02;
  cfg.link.duplicate = 0.01;
  const auto r = run("loss1", cfg);
  REQUIRE(r.ok);
  CHECK(r.completed + r.failed_connect == cfg.connections);
}

TEST_CASE("sim: 5% loss with reordering and duplication", "[sim]") {
  SimConfig cfg;
  cfg.seed = seed_or(13);
  cfg.connections = scaled(20000);
  cfg.concurrency = 300;
  cfg.max_bytes = 4096;
  cfg.link.loss = 0.05;
  cfg.link.reorder = 0.05;
  cfg.link.duplicate = 0.02;
  const auto r = run("loss5", cfg);
  REQUIRE(r.ok);
  CHECK(r.completed + r.failed_connect == cfg.connections);
}

TEST_CASE("sim: 20% loss with reordering, duplication and delay", "[sim]") {
  SimConfig cfg;
  cfg.seed = seed_or(14);
  cfg.connections = scaled(10000);
  cfg.concurrency = 300;
  cfg.max_bytes = 4096;
  cfg.link.loss = 0.20;
  cfg.link.reorder = 0.10;
  cfg.link.duplicate = 0.05;
  cfg.link.delay = tcp::Duration::ms(2);
  cfg.link.jitter = tcp::Duration::ms(1);
  cfg.time_wait = tcp::Duration::s(20);
  // At 20 % loss a client can exhaust its retries with its data all
  // delivered (every ACK of it lost) and lose the RST it then sends: the
  // server's side is half-open, ESTABLISHED with nothing to send, which TCP
  // alone never notices (RFC 9293 §3.5.1; Linux too, without keep-alive).
  // With seed 14 that happens to one connection in 10,000 on the code of
  // the fast-path merges (any change of timing changes which frames the link
  // loses); the server's idle timeout reclaims it, as a deployment's would.
  // The link can also lose a client's data and every retransmission of it
  // for the idle timeout (six frames in a row on one connection; seed 14 at
  // SYNMILL_SIM_SCALE=0.1 with the 120-byte record): the server heard
  // nothing and reclaims it before the data arrives. The sim counts that
  // only where it saw no delivery to the server for the whole timeout
  // (idle_reclaimed_early), and such runs of loss stay rare.
  cfg.server_idle_timeout = tcp::Duration::s(120);
  // The same on the client's side: the server closes first, its FIN and
  // every retransmission are lost, and the RST that ends its retries too
  // (seed 114: one connection in 10,000): the client, with all its data
  // delivered, stays ESTABLISHED with nothing to send. Keep-alive (RFC 1122
  // §4.2.3.6; Linux's SO_KEEPALIVE) finds the peer gone, as it would in a
  // deployment; without it the run went on to the time limit. After 600 s of
  // silence, not less: the sim's client probes 3 times 2 s apart, and a live
  // server's retransmissions come at most rto_max (60 s) apart, so at 60 s
  // the probes began while the server was still retransmitting and, their
  // answers lost to the 20 %, reset 3 live connections in seeds 131-160.
  cfg.client_keepalive = tcp::Duration::s(600);
  const auto r = run("loss20", cfg);
  REQUIRE(r.ok);
  WARN("loss20: idle_reclaimed_early=" << r.idle_reclaimed_early);
  CHECK(r.completed + r.failed_connect + r.idle_reclaimed_early == cfg.connections);
  CHECK(r.idle_reclaimed_early <= cfg.connections / 1000 + 1);
  CHECK(r.completed > cfg.connections * 99 / 100);
}

TEST_CASE("sim: the same seed gives the same trace, another seed another", "[sim]") {
  SimConfig cfg;
  cfg.seed = 99;
  cfg.connections = 500;
  cfg.concurrency = 50;
  cfg.link.loss = 0.05;
  cfg.link.reorder = 0.05;
  cfg.link.duplicate = 0.02;
  const auto a = sim::run_simulation(cfg);
  const auto b = sim::run_simulation(cfg);
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.frames == b.frames);
  cfg.seed = 100;
  const auto c = sim::run_simulation(cfg);
  REQUIRE(c.ok);
  CHECK(c.trace_hash != a.trace_hash);
}

TEST_CASE("sim: tuples reused while the server holds them in TIME_WAIT (RFC 6191)", "[sim]") {
  SimConfig cfg;
  cfg.seed = seed_or(15);
  cfg.connections = scaled(5000);
  cfg.concurrency = 50;
  cfg.max_bytes = 2048;
  cfg.client_addrs = 1;
  cfg.client_ports = 200;
  cfg.time_wait = tcp::Duration::s(2);
  cfg.link.loss = 0.01;
  const auto r = run("reuse", cfg);
  REQUIRE(r.ok);
  CHECK(r.completed + r.failed_connect == cfg.connections);
  CHECK(r.server_ctr.time_wait_reused > 0);
}

// ---- bulk transfers under loss (issue 5) ------------------------------------------
// Every connection moves exactly 1 MiB each way through a link that loses,
// reorders and duplicates; byte-exact delivery and every pool back to zero are
// checked by the world. The [sim-long] cases are the full 10,000-connection
// runs (meson suite 'sim-long'); the [sim] ones the same at a small scale.

namespace {

SimConfig bulk_config(uint64_t seed, uint32_t connections, double loss) {
  SimConfig cfg;
  cfg.seed = seed;
  cfg.connections = connections;
  cfg.concurrency = std::min<uint32_t>(connections, 500);
  cfg.min_bytes = cfg.max_bytes = 1u << 20;
  cfg.send_buf = 64 * 1024;
  cfg.rcv_wnd = 64 * 1024;
  cfg.link.loss = loss;
  cfg.link.reorder = loss >= 0.2 ? 0.10 : 0.02 + loss;
  cfg.link.duplicate = loss >= 0.2 ? 0.05 : 0.01;
  if (loss >= 0.2) {
    cfg.link.delay = tcp::Duration::ms(2);
    cfg.link.jitter = tcp::Duration::ms(1);
    // The server's ACK of a client's last bytes, the client's last
    // retransmissions and the RST it sends when its retries run out can all
    // be lost, leaving the server ESTABLISHED with nothing to send and
    // nothing outstanding: a half-open connection TCP alone never notices
    // (RFC 9293 §3.5.1; Linux too, without keep-alive). Seed 51 does that to
    // one connection of 10,000 (client port 1719) since the RTO FIFO
    // (427e4b4) moved the trace; the server's idle timeout reclaims it, as a
    // deployment's would (RFC 9293 §3.8.4 leaves idle policy to the host).
    // Not loss20's 120 s: bulk clients in exponential backoff (up to rto_max,
    // 60 s) at 20% loss each way often send nothing that arrives for 120 s,
    // and 120 s reclaimed 187 live connections of 10,000 here (198 on main
    // a7b17bb), each verified silent by the sim. 600 s needs about ten
    // retransmissions in a row lost: none of 10,000 was reclaimed early.
    cfg.server_idle_timeout = tcp::Duration::s(600);
  }
  cfg.time_wait = tcp::Duration::s(5);
  cfg.time_limit = tcp::Duration::s(36000);
  return cfg;
}

void check_bulk(const char* name, const SimConfig& cfg) {
  const auto r = run(name, cfg);
  REQUIRE(r.ok);
  WARN(name << ": idle_reclaimed_early=" << r.idle_reclaimed_early);
  // idle_reclaimed_early: verified by the sim (sim_world.cpp maybe_finish)
  CHECK(r.completed + r.failed_connect + r.idle_reclaimed_early == cfg.connections);
  CHECK(r.idle_reclaimed_early <= cfg.connections / 1000 + 1);  // as loss20: such runs of loss stay rare
  CHECK(r.completed >= cfg.connections * 99 / 100);
  CHECK(r.bytes == r.completed * 2ull * (1u << 20));
}

}  // namespace

TEST_CASE("sim: 1 MiB both ways at 1%, 5% and 20% loss (small scale)", "[sim][bulk]") {
  const double loss = GENERATE(0.01, 0.05, 0.20);
  const bool sack = GENERATE(true, false);
  SimConfig cfg = bulk_config(seed_or(21 + static_cast<uint64_t>(loss * 100)), scaled(20, 8), loss);
  cfg.sack = sack;
  check_bulk(sack ? "bulk-sack" : "bulk-newreno", cfg);
}

TEST_CASE("sim: 10,000 connections move 1 MiB both ways at 1%, 5% and 20% loss", "[sim-long]") {
  const double loss = GENERATE(0.01, 0.05, 0.20);
  check_bulk("bulk-10k", bulk_config(31 + static_cast<uint64_t>(loss * 100), scaled(10000), loss));
}

// ---- overload (issue 10) -------------------------------------------------------------
// More offered than the link and the server can take: the link's capacity is
// below the load (its queue overflows), pure ACKs are lost in bursts (final
// ACKs toward LAST_ACK orphans go missing), the server's table, orphan bound
// and chunk pool are smaller than the concurrency needs, and clients reuse
// tuples quickly. The server's overload policies must keep it serving: a
// connection may be reset (reclaimed) before its data arrived, but what
// arrives is every byte once and in order, the orphan bound holds at every
// step, and every slot, timer and chunk comes back.

SimConfig overload_config(uint64_t seed) {
  SimConfig cfg;
  cfg.seed = seed;
  cfg.connections = scaled(5000);
  cfg.concurrency = std::min<uint32_t>(1000, cfg.connections / 4);  // scales with SYNMILL_SIM_SCALE
  cfg.max_bytes = 4096;
  cfg.link.rate_bps = 100'000'000;  // 100 Mbit/s each way
  cfg.link.max_queue = tcp::Duration::ms(2);
  cfg.link.ack_burst_period = tcp::Duration::ms(700);
  cfg.link.ack_burst_len = tcp::Duration::ms(200);
  cfg.link.ack_burst_loss = 0.8;
  cfg.time_wait = tcp::Duration::s(1);
  cfg.client_addrs = 1;
  cfg.client_ports = cfg.concurrency * 7 / 10;  // tuples come back while the server may still hold them
  cfg.server_max_conns = cfg.concurrency / 2;
  cfg.server_max_orphans = std::max<uint32_t>(2, cfg.concurrency / 60);
  // About one chunk per server connection, less 25: the pool runs short. Its
  // pressure (send_pool_pressure) starts when the free chunks fall to the
  // reserve, an eighth of the pool. Since the RTO at its floor fires from a
  // FIFO (427e4b4), timers due in the same millisecond fire in the order they
  // were armed instead of the wheel slot's reverse order, and the server's
  // data is acknowledged sooner after an ACK burst: at SYNMILL_SIM_SCALE=0.1
  // (125 clients, 62 server connections) a pool of 62 never reached its
  // reserve in 16 seeds (41-56; 14 of them did with the wheel's order); 37
  // chunks reach it in each of seeds 41-52. At scale 1 it is 475.
  cfg.server_send_chunks = cfg.concurrency / 2 - 25;
  cfg.server_orphan_retries = 2;
  cfg.server_idle_timeout = tcp::Duration::s(30);
  cfg.client_keepalive = tcp::Duration::s(10);
  cfg.allow_resets = true;
  return cfg;
}

// Every check that must hold on any seed runs on each of four seeds; the
// policies that a seed may happen not to reach (the table-full orphan reset,
// the pool's reserve at scale 0.1) must be reached on at least one of them.
// One seed was not enough: a sweep of seeds 41-70 (at 921d267) completed
// 3,685-4,568 of 5,000 connections at scale 1 (mean 84 %, so the old "85 %"
// failed on 16 of the 30 and held on seed 41 by luck), and at scale 0.1 the
// table-full orphan reset never happened on 9 of them, the reserve on 2.
// SYNMILL_SIM_SEED=N runs seed N alone.
TEST_CASE("sim: overload, link below the offered load, bursts of ACK loss", "[sim][overload]") {
  const std::vector<uint64_t> seeds =
      std::getenv("SYNMILL_SIM_SEED") ? std::vector<uint64_t>{seed_or(0)} : std::vector<uint64_t>{41, 42, 43, 44};
  uint64_t orphan_limit = 0, orphan_table = 0, pool_pressure = 0;
  for (const uint64_t seed : seeds) {
    const SimConfig cfg = overload_config(seed);
    const auto r = run("overload", cfg);
    const tcp::Counters& s = r.server_ctr;
    WARN("overload seed " << seed << ": reset_early=" << r.reset_early << " link_overflow=" << r.link_overflow
                          << " ack_burst_lost=" << r.ack_burst_lost
                          << " max_server_orphans=" << r.max_server_orphans
                          << " orphan_limit=" << s.reclaim_orphan_limit
                          << " orphan_table=" << s.reclaim_orphan_table
                          << " orphan_pool=" << s.reclaim_orphan_pool
                          << " orphan_retries=" << s.reclaim_orphan_retries
                          << " orphan_replaced=" << s.reclaim_orphan_replaced
                          << " squatter_pool=" << s.reclaim_squatter_pool
                          << " idle=" << s.reclaim_idle
                          << " table_full=" << s.drop.conn_table_full
                          << " cookies=" << s.cookies_sent
                          << " send_pool_pressure=" << s.drop.send_pool_pressure);
    INFO("seed " << seed);
    REQUIRE(r.ok);
    CHECK(r.completed + r.failed_connect + r.reset_early == cfg.connections);
    CHECK(r.link_overflow > 0);   // the link was below the offered load
    CHECK(r.ack_burst_lost > 0);
    CHECK(r.max_server_orphans > 0);
    CHECK(r.max_server_orphans <= cfg.server_max_orphans);
    CHECK(s.drop.conn_table_full + s.cookies_sent > 0);  // the table was full at times
    // No collapse: most connections complete. Seeds 41-70 at scale 1:
    // 73.7-91.4 %; a server that stopped serving (a table or pool that
    // stayed full after a burst) would complete a small share.
    CHECK(r.completed >= cfg.connections * 70 / 100);
    orphan_limit += s.reclaim_orphan_limit;
    orphan_table += s.reclaim_orphan_table;
    pool_pressure += s.drop.send_pool_pressure;
  }
  // The orphan policies were exercised: the bound and the full table reset
  // orphans; the pool reached its reserve (sends held to the minimum).
  CHECK(orphan_limit > 0);
  CHECK(orphan_table > 0);
  CHECK(pool_pressure > 0);
}
