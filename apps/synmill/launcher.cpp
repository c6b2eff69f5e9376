// synmill::run: the command line, the config and the endpoint's start-up,
// for the synmill binary and for every program built on libsynmill.
//
//   PROGRAM [EAL options] -- [synmill options] [-- application arguments]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dp/app_config.hpp"
#include "dp/app_options.hpp"
#include "dp/app_values.hpp"
#include "synmill/endpoint.hpp"
#include "synmill/run.hpp"

namespace synmill {
namespace {

// True if `arg` spells one of synmill's own options ("--addr", "--listen=80:http").
bool is_app_option(const std::string& arg) {
  if (!arg.starts_with("--")) return false;
  const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
  // --no-telemetry is also an EAL option; --help is answered either way.
  return name != "help" && name != "no-telemetry" && dp::find_app_option(name) != nullptr;
}

}  // namespace

int run(int argc, char** argv, const AppFactory& factory, const RunOptions& options) {
  const std::vector<std::string> args(argv, argv + argc);
  const std::string& program = options.program;
  const auto dashes = std::find(args.begin(), args.end(), "--");

  if (dashes == args.end()) {
    const bool help = std::any_of(args.begin() + (args.empty() ? 0 : 1), args.end(),
                                  [](const std::string& a) { return a == "--help" || a == "-h"; });
    if (help) {
      fmt::print("{}", dp::help_text(program));
      return apps::kExitOk;
    }
    const auto misplaced = std::find_if(args.begin() + (args.empty() ? 0 : 1), args.end(), is_app_option);
    if (misplaced != args.end()) {
      fmt::print(stderr, "{}: {} is a synmill option: put it after '--' ({} [EAL options] -- {} ...)\n", program,
                 *misplaced, program, *misplaced);
      return apps::kExitUsage;
    }
  }

  // synmill's options end at a second "--"; what follows is the application's.
  const auto opts_begin = dashes == args.end() ? args.end() : dashes + 1;
  const auto second = std::find(opts_begin, args.end(), "--");
  const std::vector<std::string> app_args(opts_begin, second);
  const std::vector<std::string> user_args(second == args.end() ? args.end() : second + 1, args.end());
  if (!user_args.empty() && !factory) {
    fmt::print(stderr, "{}: arguments after a second '--' ({}) but no application takes them\n", program,
               user_args.front());
    return apps::kExitUsage;
  }

  dp::accept_app_names(factory ? options.apps : std::vector<std::string>{});
  auto cfg = dp::parse_app_args(app_args, factory && options.listeners_optional);
  if (!cfg) {
    fmt::print(stderr, "{}: {}\n", program, cfg.error());
    return apps::kExitUsage;
  }
  if (cfg->help) {
    fmt::print("{}", dp::help_text(program));
    return apps::kExitOk;
  }
  // The EAL sees the command line up to the first "--" and synmill's options.
  const std::vector<std::string> eal_view(args.begin(), second);
  return apps::run_endpoint(*cfg, dp::with_eal_args(eal_view, *cfg), apps::UserApps{factory, options, user_args});
}

}  // namespace synmill
