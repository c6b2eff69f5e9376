// synmill: the TCP endpoint. `synmill [EAL options] -- [options]`; see --help.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dp/app_config.hpp"
#include "dp/app_options.hpp"
#include "synmill/endpoint.hpp"

namespace {

// True if `arg` spells one of synmill's own options ("--addr", "--listen=80:http").
bool is_app_option(const std::string& arg) {
  if (!arg.starts_with("--")) return false;
  const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
  // --no-telemetry is also an EAL option; --help is answered either way.
  return name != "help" && name != "no-telemetry" && synmill::dp::find_app_option(name) != nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace synmill;
  const std::vector<std::string> args(argv, argv + argc);
  const std::string program = "synmill";
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
      fmt::print(stderr, "synmill: {} is a synmill option: put it after '--' (synmill [EAL options] -- {} ...)\n",
                 *misplaced, *misplaced);
      return apps::kExitUsage;
    }
  }

  const std::vector<std::string> app_args(dashes == args.end() ? args.end() : dashes + 1, args.end());
  auto cfg = dp::parse_app_args(app_args);
  if (!cfg) {
    fmt::print(stderr, "synmill: {}\n", cfg.error());
    return apps::kExitUsage;
  }
  if (cfg->help) {
    fmt::print("{}", dp::help_text(program));
    return apps::kExitOk;
  }
  return apps::run_endpoint(*cfg, dp::with_eal_args(args, *cfg));
}
