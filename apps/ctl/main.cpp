// synmill-ctl: reads a running synmill's telemetry.
//
//   synmill-ctl [--file-prefix P] stats|states|ss|conns [N]|config|metrics
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ctl/client.hpp"
#include "ctl/views.hpp"
#include "dp/metrics_text.hpp"

namespace {

using synmill::ctl::Json;
using synmill::ctl::TelemetryClient;

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;
constexpr uint32_t kDefaultConns = 100;
constexpr uint32_t kPage = 512;  // the server sends fewer when 16 KiB is reached

constexpr std::string_view kUsage =
    "usage: synmill-ctl [--file-prefix P] COMMAND\n"
    "\n"
    "Reads the telemetry of the synmill started with --file-prefix P (default synmill)\n"
    "through /var/run/dpdk/P/dpdk_telemetry.v2.\n"
    "\n"
    "commands:\n"
    "  stats       every counter, summed over the workers (name value)\n"
    "  states      connections per TCP state, as `ss -s` prints them\n"
    "  ss          the same\n"
    "  conns [N]   up to N connections (default 100), as `ss -tan` prints them\n"
    "  config      the effective settings\n"
    "  metrics     every counter and gauge per worker in the Prometheus text format\n"
    "              (the same text as the metrics application: --listen 9100:metrics)\n";

int usage_error(std::string_view message) {
  fmt::print(stderr, "synmill-ctl: {}\n", message);
  return kExitUsage;
}

int failed(const std::string& message) {
  fmt::print(stderr, "synmill-ctl: {}\n", message);
  return kExitFail;
}

// /synmill/conns answers [[column names...], [values...], ...]; each row
// becomes an object keyed by the column names.
int conns(TelemetryClient& client, uint32_t want) {
  std::vector<Json> rows;
  while (rows.size() < want) {
    const uint32_t ask = std::min<uint32_t>(kPage, want - static_cast<uint32_t>(rows.size()));
    auto page = client.query(fmt::format("/synmill/conns,{},{}", ask, rows.size()));
    if (!page) return failed(page.error());
    if (!page->is_array() || page->items.size() < 2) break;
    const Json& header = page->items.front();
    for (size_t i = 1; i < page->items.size(); ++i) {
      Json row;
      row.kind = Json::Kind::kObject;
      const Json& values = page->items[i];
      for (size_t c = 0; c < header.items.size() && c < values.items.size(); ++c) {
        row.keys.push_back(header.items[c].text);
        row.items.push_back(values.items[c]);
      }
      rows.push_back(std::move(row));
    }
  }
  uint64_t total = 0;
  if (auto states = client.query("/synmill/states"); states) {
    const Json* t = states->get("total");
    const Json* tw = states->get("TIME_WAIT");
    if (t != nullptr) total = t->u64() - (tw == nullptr ? 0 : tw->u64());
  }
  fmt::print("{}", synmill::ctl::format_conns(rows, total));
  return kExitOk;
}

// /synmill/stats,W and /synmill/states,W for each worker, the pool from
// /synmill/stats, through the formatter the metrics application uses.
int metrics(TelemetryClient& client) {
  auto config = client.query("/synmill/config");
  if (!config) return failed(config.error());
  const Json* workers = config->get("workers");
  if (workers == nullptr) return failed("/synmill/config has no 'workers': is this synmill?");
  const auto named = [](const Json& dict) {
    synmill::dp::MetricsInput::Named out;
    for (size_t i = 0; i < dict.keys.size(); ++i) out.emplace_back(dict.keys[i], dict.items[i].u64());
    return out;
  };
  synmill::dp::MetricsInput in;
  for (uint64_t w = 0; w < workers->u64(); ++w) {
    auto stats = client.query(fmt::format("/synmill/stats,{}", w));
    if (!stats) return failed(stats.error());
    auto states = client.query(fmt::format("/synmill/states,{}", w));
    if (!states) return failed(states.error());
    in.stats.push_back(named(*stats));
    in.states.push_back(named(*states));
  }
  auto all = client.query("/synmill/stats");
  if (!all) return failed(all.error());
  for (const char* key : {"mbufs_in_use", "mbufs_total"}) {
    if (const Json* v = all->get(key); v != nullptr) in.process.emplace_back(key, v->u64());
  }
  std::string text;
  synmill::dp::prometheus_text(in, text);
  fmt::print("{}", text);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  std::string prefix = "synmill";
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kUsage);
      return kExitOk;
    }
    if (a == "--file-prefix" || a == "-f") {
      if (i + 1 >= args.size()) return usage_error("--file-prefix needs a value: --file-prefix P");
      prefix = args[++i];
    } else if (a.starts_with("--file-prefix=")) {
      prefix = a.substr(14);
    } else if (a.starts_with("-")) {
      return usage_error(fmt::format("unknown option '{}': see --help", a));
    } else {
      words.push_back(a);
    }
  }
  if (prefix.empty() || prefix.find('/') != std::string::npos) {
    return usage_error(fmt::format("bad --file-prefix '{}'", prefix));
  }
  if (words.empty()) return usage_error("no command: use stats, states, ss, conns [N], config or metrics (see --help)");
  const std::string& cmd = words[0];
  const bool known = cmd == "stats" || cmd == "states" || cmd == "ss" || cmd == "conns" || cmd == "config" ||
                     cmd == "metrics";
  if (!known) {
    return usage_error(fmt::format("unknown command '{}': use stats, states, ss, conns [N], config or metrics", cmd));
  }
  uint32_t n = kDefaultConns;
  if (cmd == "conns" && words.size() == 2) {
    const std::string& w = words[1];
    const bool digits = !w.empty() && w.size() <= 9 && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return usage_error(fmt::format("conns: bad count '{}': expected a whole number", w));
    n = static_cast<uint32_t>(std::stoul(w));
  }
  if (words.size() > (cmd == "conns" ? 2u : 1u)) {
    return usage_error(fmt::format("unexpected argument '{}' after {}", words.back(), cmd));
  }

  auto client = TelemetryClient::connect(prefix);
  if (!client) return failed(client.error());
  if (cmd == "conns") return conns(*client, n);
  if (cmd == "metrics") return metrics(*client);
  const std::string path = cmd == "ss" ? "/synmill/states" : "/synmill/" + cmd;
  auto reply = client->query(path);
  if (!reply) return failed(reply.error());
  if (cmd == "stats") fmt::print("{}", synmill::ctl::format_stats(*reply));
  if (cmd == "states" || cmd == "ss") fmt::print("{}", synmill::ctl::format_summary(*reply));
  if (cmd == "config") fmt::print("{}", synmill::ctl::format_config(*reply));
  return kExitOk;
}
