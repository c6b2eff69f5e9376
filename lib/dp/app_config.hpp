#pragma once
// synmill's settings: what the endpoint serves (addresses, listeners), the TCP
// core's knobs (tcp::StackConfig), the port and the process. They come from the
// command line after "--" and from an optional `--config FILE` with the same
// names as `key = value` lines (`#` comments):
//
//   synmill -l 0-3 --vdev=net_tap0,iface=syn0 -- --config synmill.conf --backlog 4096
//
// The file is read first; the command line overrides it. A repeatable option
// (--addr, --listen, --port-opt) given on the command line replaces the file's
// list. Every error is one line naming the option (or file:line and key) and
// what is expected; nothing here touches DPDK, so a bad option stops the
// program before the EAL starts.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dp/app_values.hpp"
#include "dp/driver_profile.hpp"
#include "dp/result.hpp"
#include "dp/worker.hpp"
#include "tcp/config.hpp"

namespace synmill::dp {

struct AppConfig {
  std::vector<Address> addrs;
  std::vector<ListenSpec> listeners;
  std::vector<ConnectSpec> connects;  // --connect: active opens at start-up
  tcp::StackConfig tcp;

  uint16_t port_id = 0;
  std::string drivers_config;  // empty: default_drivers_config_dir()
  std::vector<ProfileOverride> port_opts;  // --port-opt, in order
  uint32_t mbufs = 0;  // mbuf pool size; 0: what the queues and cores need

  bool telemetry = true;
  tcp::Duration status_interval = tcp::Duration::s(1);  // zero: no status line
  tcp::Duration grace = tcp::Duration::s(5);  // shutdown: time for FIN exchanges

  std::vector<std::string> eal_args;  // eal: used when the command line has none before "--"
  std::string config_file;  // --config, empty if none
  bool listeners_optional = false;  // an application that only connects out (synmill::run)
  bool help = false;
};

// Parses the application's arguments (those after "--", program name
// excluded): --config FILE first, then the rest on top. Checks the result
// (check_config) unless --help was given.
Result<AppConfig> parse_app_args(std::span<const std::string> args, bool listeners_optional = false);

// Applies config-file text on top of `cfg`; `path` names it in messages.
Result<void> parse_config_text(std::string_view text, std::string_view path, AppConfig& cfg);

// Cross-option checks: at least one address and listener, RTO bounds ordered,
// the window within what the window scale can express, ...
Result<void> check_config(const AppConfig& cfg);

// The --help text.
std::string help_text(std::string_view program);

// Effective settings as (option name, value in option syntax), in --help order;
// list options joined with ','. For the banner and /synmill/config.
std::vector<std::pair<std::string, std::string>> describe_config(const AppConfig& cfg);

// Where an unset --drivers-config is looked for, in order: $SYNMILL_DRIVERS_CONFIG,
// <dir of the executable>/../../drivers-config (the build tree),
// <dir of the executable>/../share/synmill/drivers-config (an install, also
// under a DESTDIR or moved), ./drivers-config, the install prefix's datadir
// (compiled in: SYNMILL_DATADIR/synmill/drivers-config) and
// /usr/share/synmill/drivers-config.
std::vector<std::string> drivers_config_candidates();
// The first of them that exists; empty if none does.
std::string default_drivers_config_dir();

// The arguments to start the EAL with: `argv` itself when it has EAL arguments
// before "--", else argv[0], cfg.eal_args, "--" and the rest of argv (a
// service's config file carries them: synmill -- --config FILE).
std::vector<std::string> with_eal_args(const std::vector<std::string>& argv, const AppConfig& cfg);

}  // namespace synmill::dp
