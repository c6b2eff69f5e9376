// Deterministic simulation runs. SYNMILL_SIM_SCALE (default 1) scales the
// connection counts; the sanitizer build runs a smaller scale.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "sim_world.hpp"

using namespace synmill;
using sim::SimConfig;

namespace {

double scale() {
  const char* s = std::getenv("SYNMILL_SIM_SCALE");
  return s ? std::atof(s) : 1.0;
}

uint32_t scaled(uint32_t n) { return std::max<uint32_t>(50, static_cast<uint32_t>(n * scale())); }

void report(const char* name, const sim::SimResult& r) {
  UNSCOPED_INFO(name << ": " << (r.ok ? "ok" : r.error));
  WARN(name << ": completed=" << r.completed << " failed_connect=" << r.failed_connect
            << " normal=" << r.close_normal << " other=" << r.close_other << " bytes=" << r.bytes
            << " frames=" << r.frames << " lost=" << r.lost << " sim_time_ms="
            << r.sim_time.count_ms() << " retransmits=" << r.client_ctr.retransmits + r.server_ctr.retransmits
            << " tw_reused=" << r.server_ctr.time_wait_reused);
}

sim::SimResult run(const char* name, SimConfig cfg) {
  const sim::SimResult r = sim::run_simulation(cfg);
  report(name, r);
  return r;
}

}  // namespace

TEST_CASE("sim: clean link, every close mode", "[sim]") {
  SimConfig cfg;
  cfg.seed = 11;
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
}

TEST_CASE("sim: 1% loss with reordering and duplication", "[sim]") {
  SimConfig cfg;
  cfg.seed = 12;
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
  cfg.seed = 13;
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
  cfg.seed = 14;
  cfg.connections = scaled(10000);
  cfg.concurrency = 300;
  cfg.max_bytes = 4096;
  cfg.link.loss = 0.20;
  cfg.link.reorder = 0.10;
  cfg.link.duplicate = 0.05;
  cfg.link.delay = tcp::Duration::ms(2);
  cfg.link.jitter = tcp::Duration::ms(1);
  cfg.time_wait = tcp::Duration::s(20);
  const auto r = run("loss20", cfg);
  REQUIRE(r.ok);
  CHECK(r.completed + r.failed_connect == cfg.connections);
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
  cfg.seed = 15;
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
