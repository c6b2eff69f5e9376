// synmill-gen: a stateful TCP load generator on DPDK. `synmill-gen [EAL
// options] -- --mode syn|connect|hold ...`; see --help and gen_config.hpp.
//
// Start-up mirrors synmill's: EAL -> port profile -> configure port -> pool ->
// start port -> one dp::Worker per worker lcore, each driven by a GenDriver ->
// launch -> status lines until every core is done (or a signal) -> stop ->
// summary (text, or JSON with --json).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/dp_session.hpp"
#include "common/signals.hpp"
#include "dp/app_config.hpp"
#include "dp/dispatch.hpp"
#include "dp/driver_profile.hpp"
#include "dp/link_watch.hpp"
#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/rte.hpp"
#include "gen/gen_config.hpp"
#include "gen/load.hpp"
#include "gen/report.hpp"
#include "synmill/secrets.hpp"

namespace {

using namespace synmill;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitStartup = 1;
constexpr int kExitUsage = 2;

int fail(std::string_view message, int code = kExitStartup) {
  std::fflush(stdout);
  fmt::print(stderr, "synmill-gen: {}\n", message);
  return code;
}

// The TCP core as a client: enough slots for this core's share of the
// concurrency, a TIME_WAIT table for the closes the rate produces.
tcp::StackConfig stack_config(const gen::GenConfig& cfg, uint16_t workers) {
  tcp::StackConfig t;
  const uint32_t share = (cfg.concurrency + cfg.hold) / workers + 1;
  t.max_conns = std::clamp<uint32_t>(share + share / 4 + 64, 256, 1u << 24);
  t.max_time_wait = 1u << 20;
  t.time_wait = cfg.no_time_wait ? tcp::Duration{} : cfg.time_wait;
  if (cfg.fixed_rto > tcp::Duration{}) t.rto_initial = t.rto_min = t.rto_max = cfg.fixed_rto;
  if (cfg.retries > 0) t.syn_retries = t.data_retries = t.fin_retries = cfg.retries;
  // The generator's closing connections are what it measures: no orphan bound
  // below the table and the full FIN retries. The stack's defaults (max_conns/4,
  // 3 retries: an endpoint's policy, as Linux's tcp_max_orphans) reset them and
  // counted 6,102 of 10 M churn connections as failures synmill never caused.
  t.max_orphans = t.max_conns;
  t.orphan_retries = t.fin_retries;
  t.send_chunks = std::clamp<uint32_t>(t.max_conns * 2, 4096, 1u << 20);
  t.cookies = tcp::CookieMode::kOff;
  return t;
}

gen::Snapshot snapshot(const std::vector<std::unique_ptr<gen::GenDriver>>& drivers,
                       const std::vector<std::unique_ptr<dp::Worker>>& workers, uint64_t start_tsc,
                       uint64_t hz) {
  gen::Snapshot s;
  for (const auto& d : drivers) {
    s.gen.add(d->counters());
    s.open += d->open();
  }
  for (const auto& w : workers) dp::add_to(s.dp, w->snapshot().dp);
  const uint64_t now = rte_rdtsc();
  s.seconds = start_tsc == 0 || now < start_tsc ? 0.0 : static_cast<double>(now - start_tsc) / static_cast<double>(hz);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  const auto dashes = std::find(args.begin(), args.end(), "--");
  if (dashes == args.end()) {
    const bool help = std::any_of(args.begin() + (args.empty() ? 0 : 1), args.end(),
                                  [](const std::string& a) { return a == "--help" || a == "-h"; });
    if (help) {
      fmt::print("{}", gen::gen_help_text());
      return kExitOk;
    }
  }
  const std::vector<std::string> app_args(dashes == args.end() ? args.end() : dashes + 1, args.end());
  auto parsed = gen::parse_gen_args(app_args);
  if (!dp::parsed_ok(parsed)) return fail(std::get<1>(parsed), kExitUsage);
  const gen::GenConfig cfg = std::get<0>(parsed);
  if (cfg.help) {
    fmt::print("{}", gen::gen_help_text());
    return kExitOk;
  }
  const std::string dir = cfg.drivers_config.empty() ? dp::default_drivers_config_dir() : cfg.drivers_config;
  if (dir.empty()) return fail("no drivers-config directory found: pass --drivers-config DIR", kExitUsage);
  if (auto all = dp::load_profile_dir(dir); !all) return fail(all.error(), kExitUsage);
  auto secrets = apps::draw_secrets();
  if (!secrets) return fail(secrets.error());

  apps::DpResources res;
  {
    auto eal = dp::Eal::init(args);
    if (!eal) return fail(eal.error());
    res.eal.emplace(std::move(eal).value());
  }
  if (rte_eth_dev_count_avail() == 0) return fail("no DPDK port: pass e.g. --vdev=net_memif0,role=client before --");
  if (rte_eth_dev_is_valid_port(cfg.port_id) == 0) return fail(fmt::format("--port {}: no such DPDK port", cfg.port_id), kExitUsage);
  const std::vector<unsigned> lcores = apps::enabled_lcores();
  const unsigned main_lcore = rte_get_main_lcore();
  const std::vector<unsigned> worker_lcores = apps::worker_lcores_of(lcores, main_lcore);
  const auto n = static_cast<uint16_t>(worker_lcores.size());
  const bool main_runs_worker = lcores.size() == 1;

  auto profile = dp::find_profile(dir, dp::driver_name_of(cfg.port_id));
  if (!profile) return fail(profile.error());
  if (!cfg.port_opts.empty()) {
    if (auto r = dp::apply_overrides(*profile, cfg.port_opts, "--port-opt"); !r) return fail(r.error(), kExitUsage);
  }
  auto plan = apps::configure_for(res, *profile, cfg.port_id, n);
  if (!plan) return fail(plan.error());
  dp::MbufPoolSpec spec = dp::mbuf_pool_spec_for(plan->info, n, 0, 0);
  spec.count = cfg.mbufs;
  auto started_port = apps::start_with_pool(res, *plan, spec, n);
  if (!started_port) return fail(started_port.error());
  const dp::PortInfo port = std::move(started_port).value();
  const bool dispatching = n > 1 && port.software_dispatch;

  std::unique_ptr<dp::Dispatch> dispatch;
  if (dispatching) dispatch = std::make_unique<dp::Dispatch>(n, apps::kDispatchRing, port.tx_queues >= n);
  const uint64_t hz = rte_get_tsc_hz();
  std::vector<std::unique_ptr<gen::GenDriver>> drivers;  // outlive the workers
  std::vector<std::unique_ptr<dp::Worker>> workers;
  dp::LinkWatch link(port.port_id, "synmill-gen");  // outlives the workers
  link.poll();
  for (uint16_t i = 0; i < n; ++i) {
    drivers.push_back(std::make_unique<gen::GenDriver>(cfg, i, n, port, hz));
    dp::WorkerSettings s;
    apps::assign_queues(s, i, n, port);
    s.pool = res.pool;
    s.addrs = cfg.addrs;
    if (cfg.v6) {
      s.ranges6.push_back(cfg.src_addrs6);
    } else {
      s.ranges.push_back(cfg.src_addrs);
    }
    s.tcp = stack_config(cfg, n);
    s.secrets = *secrets;
    s.dispatch = dispatch.get();
    s.driver = drivers.back().get();
    s.rx_bursts = gen::kRxBurstsPerLoop;  // take back as much as a loop may send
    s.link_up = port.link_state ? link.flag() : nullptr;
    workers.push_back(std::make_unique<dp::Worker>(s));
  }

  apps::install_signal_handlers();
  std::atomic<int> state{static_cast<int>(dp::RunState::kRunning)};
  std::vector<apps::Launch> launches(n);
  if (!main_runs_worker) {
    for (uint16_t i = 0; i < n; ++i) {
      launches[i] = apps::Launch{workers[i].get(), &state};
      if (const int rc = rte_eal_remote_launch(apps::launch_worker, &launches[i], worker_lcores[i]); rc != 0) {
        state.store(static_cast<int>(dp::RunState::kStopping));
        rte_eal_mp_wait_lcore();
        return fail(fmt::format("cannot launch worker {} on lcore {}", i, worker_lcores[i]));
      }
    }
  }
  fmt::print(stderr, "synmill-gen: {} to {} on port {} ({}), {} worker(s), {} s at {}\n", gen::to_string(cfg.mode),
             gen::dst_text(cfg), port.name, port.driver, n, dp::format_seconds(cfg.duration),
             cfg.rate == 0 ? std::string("max rate") : fmt::format("{}/s", cfg.rate));

  // --flap: stop the port (memif disconnects) and start it again. The workers
  // are told first (the link held down) and have passed two loop passes
  // since, so none is inside a burst when the port's functions change.
  uint32_t flaps_done = 0;
  const auto flap = [&] {
    link.hold_down(true);
    std::vector<uint64_t> loops;
    for (const auto& w : workers) loops.push_back(w->counters().loops);
    const auto give_up = Clock::now() + std::chrono::seconds(2);
    for (size_t i = 0; i < workers.size() && Clock::now() < give_up;) {
      if (workers[i]->counters().loops >= loops[i] + 2) ++i; else std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const int stop_rc = rte_eth_dev_stop(port.port_id);
    std::this_thread::sleep_for(std::chrono::nanoseconds(cfg.flap_down.count_ns()));
    const int start_rc = rte_eth_dev_start(port.port_id);
    link.hold_down(false);
    ++flaps_done;
    fmt::print(stderr, "synmill-gen: flap {} of {}: port stopped ({}) and started again ({})\n", flaps_done, cfg.flaps,
               stop_rc, start_rc);
  };

  // The control loop: status lines until every core is done or a signal.
  uint64_t run_tsc = 0;
  bool interrupted = false;
  const auto control = [&] {
    gen::Snapshot last;
    const auto every = std::chrono::nanoseconds(cfg.report_every.count_ns());
    auto next = Clock::now() + every;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (auto line = link.poll(); line && port.link_state) fmt::print(stderr, "{}\n", *line);
      if (run_tsc != 0 && flaps_done < cfg.flaps) {
        const double since = static_cast<double>(rte_rdtsc() - run_tsc) / static_cast<double>(hz);
        const double at = static_cast<double>(cfg.duration.count_ns()) / 1e9 * (flaps_done + 1) / (cfg.flaps + 1);
        if (since >= at) flap();
      }
      if (run_tsc == 0) {
        uint64_t t = UINT64_MAX;
        for (const auto& d : drivers) t = d->run_tsc() == 0 ? t : std::min(t, d->run_tsc());
        if (t != UINT64_MAX) run_tsc = t;
      }
      if (apps::signals_received() > 0) {
        interrupted = true;
        break;
      }
      if (std::all_of(drivers.begin(), drivers.end(), [](const auto& d) { return d->phase() == gen::Phase::kDone; })) break;
      if (Clock::now() >= next) {
        next += every;
        const gen::Snapshot cur = snapshot(drivers, workers, run_tsc, hz);
        fmt::print(stderr, "{}\n", gen::status_line(last, cur));
        last = cur;
      }
    }
    state.store(static_cast<int>(dp::RunState::kStopping), std::memory_order_relaxed);
  };
  if (main_runs_worker) {
    std::thread t(control);
    workers[0]->run(state);
    t.join();
  } else {
    control();
    rte_eal_mp_wait_lcore();
  }

  for (const auto& d : drivers) {
    if (!d->error().empty()) return fail(d->error());
  }
  gen::Result r;
  r.cfg = &cfg;
  r.workers = n;
  r.end = snapshot(drivers, workers, run_tsc, hz);
  r.run_seconds = std::min(r.end.seconds, static_cast<double>((cfg.duration + cfg.then_duration).count_ns()) / 1e9);
  uint64_t held_tsc = 0;
  for (const auto& d : drivers) {
    held_tsc = std::max(held_tsc, d->held_tsc());
    if (d->held_tsc() == 0 && (cfg.hold > 0 || cfg.mode == gen::Mode::kHold)) held_tsc = UINT64_MAX;
  }
  if (held_tsc != 0 && held_tsc != UINT64_MAX && held_tsc > run_tsc) {
    r.hold_ready_s = static_cast<double>(held_tsc - run_tsc) / static_cast<double>(hz);
  }
  for (const auto& d : drivers) {
    r.synack_ns.merge(d->synack_latency());
    r.connect_ns.merge(d->connect_latency());
  }
  if (cfg.json) {
    fmt::print("{}\n", gen::summary_json(r));
  } else {
    fmt::print("{}", gen::summary_text(r));
  }
  if (interrupted) fmt::print(stderr, "synmill-gen: interrupted\n");
  std::fflush(stdout);
  workers.clear();
  return kExitOk;
}
