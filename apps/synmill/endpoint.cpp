#include "synmill/endpoint.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "common/dp_session.hpp"
#include "dp/dispatch.hpp"
#include "dp/eal.hpp"
#include "dp/eal_diagnose.hpp"
#include "dp/link_watch.hpp"
#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/rte.hpp"
#include "dp/steer_plan.hpp"
#include "dp/telemetry.hpp"
#include "dp/worker.hpp"
#include "synmill/report.hpp"
#include "synmill/connector.hpp"
#include "synmill/metrics_source.hpp"
#include "synmill/host.hpp"
#include "synmill/secrets.hpp"
#include "synmill/supervisor.hpp"
#include "tcp/apps/factory.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <rte_pdump.h>
#include <rte_version.h>
#pragma GCC diagnostic pop

#ifndef SYNMILL_VERSION
#define SYNMILL_VERSION "unknown"
#endif

namespace synmill::apps {
namespace {

using Clock = std::chrono::steady_clock;

// The TCP core keeps queued payload in its own chunk pool, so a connection
// holds no mbuf between bursts: the pool covers queues, caches and bursts.
constexpr uint32_t kMbufsPerConnection = 0;
constexpr uint32_t kIpTcpHeaders = 40;  // IPv4 + TCP without options
int fail(std::string_view message, int code = kExitStartup) {
  std::fflush(stdout);
  fmt::print(stderr, "synmill: {}\n", message);
  return code;
}

std::string mss_message(const dp::AppConfig& cfg, uint16_t mtu, std::string_view where) {
  return fmt::format("--mss {} does not fit the port's MTU {} ({}): use --mss {} or less, or raise "
                     "the MTU with --port-opt mtu={}",
                     cfg.tcp.mss, mtu, where, mtu - kIpTcpHeaders, cfg.tcp.mss + kIpTcpHeaders);
}

// The pool the port will need, from the profile, before anything is configured.
dp::MbufPoolSpec planned_pool(const dp::DriverProfile& p, const dp::AppConfig& cfg, uint16_t workers) {
  dp::MbufPoolSpec s;
  const bool one_queue = p.software_dispatch || p.rss == dp::RssMode::kNone;
  s.rx_queues = one_queue ? 1u : std::min<uint32_t>(workers, p.rx_queues_max);
  s.tx_queues = std::min<uint32_t>(workers, p.tx_queues_max);
  s.rx_desc = p.rx_desc;
  s.tx_desc = p.tx_desc;
  s.lcores = workers;
  s.connections = cfg.tcp.max_conns * uint32_t{workers};
  s.mbufs_per_connection = kMbufsPerConnection;
  s.dispatch_slots = dispatch_slots(one_queue, workers, static_cast<uint16_t>(s.tx_queues));
  s.count = cfg.mbufs;
  s.mtu = p.mtu;
  return s;
}

}  // namespace

int run_endpoint(const dp::AppConfig& cfg, const std::vector<std::string>& argv, const UserApps& user) {
  const Clock::time_point started = Clock::now();

  // ---- before the EAL: everything that can be checked without it ----------
  const std::string dir = cfg.drivers_config.empty() ? dp::default_drivers_config_dir() : cfg.drivers_config;
  if (dir.empty()) {
    std::string looked;
    for (const std::string& c : dp::drivers_config_candidates()) looked += (looked.empty() ? "" : ", ") + c;
    return fail(fmt::format("no drivers-config directory found (looked at {}): pass --drivers-config DIR", looked),
                kExitUsage);
  }
  if (auto all = dp::load_profile_dir(dir); !all) return fail(all.error(), kExitUsage);
  auto secrets = draw_secrets();
  if (!secrets) return fail(secrets.error());

  const auto dashes = std::find(argv.begin(), argv.end(), "--");
  const std::vector<std::string> eal_args(argv.begin() + (argv.empty() ? 0 : 1), dashes);

  DpResources res;
  {
    auto eal = dp::Eal::init(argv);
    if (!eal) return fail(eal.error());
    res.eal.emplace(std::move(eal).value());
  }
  res.pdump = rte_pdump_init() == 0;
  if (!res.pdump) fmt::print(stderr, "synmill: warning: rte_pdump_init failed: dpdk-dumpcap will not see this process\n");

  // ---- port, lcores, profile ------------------------------------------------
  if (rte_eth_dev_count_avail() == 0) {
    return fail("no DPDK port: pass e.g. --vdev=net_tap0,iface=syn0 before --");
  }
  if (rte_eth_dev_is_valid_port(cfg.port_id) == 0) {
    return fail(fmt::format("--port {}: no such DPDK port ({} available, ids from 0)", cfg.port_id,
                            rte_eth_dev_count_avail()),
                kExitUsage);
  }
  const std::vector<unsigned> lcores = enabled_lcores();
  const unsigned main_lcore = rte_get_main_lcore();
  const std::vector<unsigned> worker_lcores = worker_lcores_of(lcores, main_lcore);
  const auto n = static_cast<uint16_t>(worker_lcores.size());
  const bool main_runs_worker = lcores.size() == 1;

  auto profile = dp::find_profile(dir, dp::driver_name_of(cfg.port_id));
  if (!profile) return fail(profile.error());
  if (!cfg.port_opts.empty()) {
    if (auto r = dp::apply_overrides(*profile, cfg.port_opts, "--port-opt"); !r) return fail(r.error(), kExitUsage);
  }
  if (cfg.tcp.mss + kIpTcpHeaders > profile->mtu) {
    return fail(mss_message(cfg, profile->mtu, profile->path), kExitUsage);
  }
  if (auto budget = dp::plan_mbuf_pool(planned_pool(*profile, cfg, n)); !budget) {
    return fail(fmt::format("--mbufs: {}", budget.error()), kExitUsage);
  }

  // ---- configure and start the port ---------------------------------------
  // A flow-isolated port hands over only what these rules match (and, for the
  // IPv6 addresses they name, Neighbor Discovery and echo: flow_steer.hpp).
  std::vector<dp::SteerRule> steer;
  if (profile->flow_isolate) steer = dp::steer_rules_for(cfg.addrs, cfg.listeners, cfg.connects, Connector::kFirstPort);
  auto plan = configure_for(res, *profile, cfg.port_id, n, std::move(steer));
  if (!plan) return fail(plan.error());
  if (cfg.tcp.mss + kIpTcpHeaders > plan->info.mtu) {
    return fail(mss_message(cfg, plan->info.mtu, "in effect on the port"), kExitUsage);
  }
  dp::MbufPoolSpec spec = dp::mbuf_pool_spec_for(plan->info, n, cfg.tcp.max_conns * uint32_t{n},
                                                 kMbufsPerConnection);
  spec.count = cfg.mbufs;
  auto started_port = start_with_pool(res, *plan, spec, n);
  if (!started_port) return fail(started_port.error());
  dp::PortInfo port = std::move(started_port).value();
  std::vector<wire::Ipv6Addr> addrs6;
  for (const dp::Address& a : cfg.addrs) {
    if (a.v6) addrs6.push_back(a.ip6);
  }
  if (!addrs6.empty()) port.notes.push_back(dp::receive_ipv6_multicast(port.port_id, addrs6));
  const bool dispatching = n > 1 && port.software_dispatch;

  // ---- workers and their applications --------------------------------------
  std::unique_ptr<dp::Dispatch> dispatch;  // outlives the workers, frees its parked mbufs
  if (dispatching) dispatch = std::make_unique<dp::Dispatch>(n, kDispatchRing, port.tx_queues >= n);
  std::vector<std::unique_ptr<tcp::App>> apps;  // outlive the workers
  std::vector<std::unique_ptr<Connector>> connectors;  // --connect
  // synmill::run's application: one instance per worker, its Context (Host)
  // and the cross-worker rings if it asked for them.
  std::unique_ptr<MessageRings> rings;
  if (user.factory != nullptr && user.options.messages) rings = std::make_unique<MessageRings>(n, user.options.message_ring);
  std::vector<std::unique_ptr<Application>> user_apps;
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<std::unique_ptr<dp::Worker>> workers;
  std::vector<const dp::Worker*> views;
  dp::LinkWatch link(port.port_id, "synmill");  // outlives the workers
  if (auto line = link.poll(); line && port.link_state) fmt::print("{}\n", *line);
  EndpointMetrics metrics(views, res.pool);  // --listen PORT:metrics
  for (uint16_t i = 0; i < n; ++i) {
    dp::WorkerSettings s;
    assign_queues(s, i, n, port);
    s.dispatch = dispatch.get();
    s.pool = res.pool;
    s.addrs = cfg.addrs;
    s.tcp = cfg.tcp;
    s.secrets = *secrets;
    s.link_up = port.link_state ? link.flag() : nullptr;
    if (!cfg.connects.empty()) {
      std::string error;
      auto app = tcp::make_app("echo", error);
      connectors.push_back(
          std::make_unique<Connector>(cfg.connects, dp::first_ipv4(cfg.addrs), dp::first_ipv6(cfg.addrs), i, n, *app));
      apps.push_back(std::move(app));
      s.driver = connectors.back().get();
    }
    Application* mine = nullptr;
    if (user.factory != nullptr) {
      auto a = user.factory(AppSetup{i, n, user.args});
      if (a == nullptr) return fail(fmt::format("the application gave no instance for worker {}", i));
      mine = a.get();
      user_apps.push_back(std::move(a));
    }
    if (mine != nullptr || s.driver != nullptr) {
      hosts.push_back(std::make_unique<Host>(mine, i, n, rings.get(), s.driver));
      s.driver = hosts.back().get();
    }
    workers.push_back(std::make_unique<dp::Worker>(s));
    views.push_back(workers.back().get());
    for (const dp::ListenSpec& l : cfg.listeners) {
      const auto& names = user.options.apps;
      if (mine != nullptr && std::find(names.begin(), names.end(), l.app) != names.end()) {
        if (!workers.back()->listen(l.port, *mine)) {
          return fail(fmt::format("--listen {}: worker {} cannot listen on port {} (listener table full?)",
                                  dp::format_listen(l), i, l.port));
        }
        continue;
      }
      std::string error;
      auto app = tcp::make_app(l.app, error, &metrics);
      if (app == nullptr) return fail(fmt::format("--listen {}: {}", dp::format_listen(l), error), kExitUsage);
      if (!workers.back()->listen(l.port, *app)) {
        return fail(fmt::format("--listen {}: worker {} cannot listen on port {} (listener table full?)",
                                dp::format_listen(l), i, l.port));
      }
      apps.push_back(std::move(app));
    }
  }

  // ---- launch ----------------------------------------------------------------
  install_signal_handlers();
  std::atomic<int> state{static_cast<int>(dp::RunState::kRunning)};
  dp::TelemetrySource tsrc;
  tsrc.workers = views;
  tsrc.start_tsc.assign(n, 0);
  tsrc.tsc_hz = rte_get_tsc_hz();
  tsrc.config = &cfg;
  tsrc.port = &port;
  tsrc.lcores = static_cast<uint16_t>(lcores.size());
  tsrc.version = SYNMILL_VERSION;
  tsrc.pool = res.pool;
  std::vector<Launch> launches(n);
  if (!main_runs_worker) {
    for (uint16_t i = 0; i < n; ++i) {
      launches[i] = Launch{workers[i].get(), &state};
      tsrc.start_tsc[i] = rte_rdtsc();
      if (const int rc = rte_eal_remote_launch(launch_worker, &launches[i], worker_lcores[i]); rc != 0) {
        state.store(static_cast<int>(dp::RunState::kStopping));
        rte_eal_mp_wait_lcore();
        return fail(fmt::format("cannot launch worker {} on lcore {}: {}", i, worker_lcores[i],
                                rte_strerror(-rc)));
      }
    }
  } else {
    tsrc.start_tsc[0] = rte_rdtsc();
  }
  bool telemetry = false;
  if (cfg.telemetry) {
    if (auto r = dp::register_telemetry(&tsrc); !r) {
      fmt::print(stderr, "synmill: warning: {}\n", r.error());
    } else {
      telemetry = true;
    }
  }

  BannerFacts facts;
  facts.version = SYNMILL_VERSION;
  facts.dpdk_version = rte_version();
  facts.config = &cfg;
  facts.port = &port;
  facts.worker_lcores = worker_lcores;
  facts.main_lcore = main_lcore;
  facts.main_runs_worker = main_runs_worker;
  facts.runtime_dir = rte_eal_get_runtime_dir();
  facts.file_prefix = dp::eal_file_prefix(eal_args);
  std::error_code ec;  // EAL --no-telemetry: the commands exist but no socket serves them
  facts.telemetry = telemetry && std::filesystem::exists(facts.runtime_dir + "/dpdk_telemetry.v2", ec);
  facts.pdump = res.pdump;
  facts.no_huge = std::any_of(eal_args.begin(), eal_args.end(),
                              [](const std::string& a) { return a == "--no-huge" || a == "--in-memory"; });
  fmt::print("{}synmill: ready\n", format_banner(facts));
  std::fflush(stdout);

  // ---- run until a signal, then drain and stop --------------------------------
  Supervisor supervisor(cfg, views, state, started);
  if (port.link_state) supervisor.watch_link(&link);
  if (main_runs_worker) {
    std::thread control([&supervisor] { supervisor.run(); });
    workers[0]->run(state);
    control.join();
  } else {
    supervisor.run();
    rte_eal_mp_wait_lcore();
  }
  dp::detach_telemetry();

  const dp::Totals totals = dp::sum_workers(views);
  fmt::print("{}", format_summary(totals, std::chrono::duration<double>(Clock::now() - started).count()));
  std::fflush(stdout);
  workers.clear();
  hosts.clear();
  user_apps.clear();
  apps.clear();
  return kExitOk;
}

}  // namespace synmill::apps
