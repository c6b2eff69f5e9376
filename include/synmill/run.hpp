#pragma once
// The launcher: synmill's own main, for any application.
//
//   int main(int argc, char** argv) {
//     synmill::RunOptions o;
//     o.program = "kv";
//     o.apps = {"kv"};  // --listen 7000:kv is served by the factory's instance
//     return synmill::run(argc, argv, [](const synmill::AppSetup&) {
//       return std::make_unique<Kv>();
//     }, o);
//   }
//
// Command line: `PROGRAM [EAL options] -- [synmill options] [-- application
// arguments]`, the same EAL start-up, options, --config file, drivers-config,
// telemetry (synmill-ctl), status line, signals and graceful shutdown as the
// synmill binary (synmill --help lists the options). Listeners naming a
// built-in application (echo, discard, http, hold, send:N) get it; names in
// RunOptions::apps get the application instance of their worker.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "synmill/app.hpp"

namespace synmill {

struct AppSetup {
  uint16_t worker = 0;   // which worker this instance will run on
  uint16_t workers = 1;
  std::span<const std::string> args;  // the arguments after the second "--"
};

// One application instance per worker, created on the main thread before the
// workers start. nullptr stops the program (print why first).
using AppFactory = std::function<std::unique_ptr<Application>(const AppSetup&)>;

struct RunOptions {
  std::string program = "synmill";  // names the program in messages and --help
  // --listen PORT:NAME with NAME in this list is served by the factory's
  // instance (one per worker, shared by all its listeners).
  std::vector<std::string> apps;
  // The application connects out or works from timers and needs no listener.
  bool listeners_optional = false;
  // Cross-worker messages (Context::post); rings are created only if asked.
  bool messages = false;
  uint32_t message_ring = 1024;  // messages per ordered pair of workers
};

// Runs until SIGINT/SIGTERM (a second signal stops at once); returns the
// process exit status (0, 1 start-up failure, 2 usage).
int run(int argc, char** argv, const AppFactory& factory, const RunOptions& options = {});

}  // namespace synmill
