// Goodput against loss rate: two synmill stacks on one virtual clock through
// the simulation's lossy link (test/sim), each connection moving a fixed
// number of bytes both ways. Deterministic (seeded), so the figures depend on
// the TCP logic only, not on this machine: simulated time, not wall time.
//
// For each loss rate and each recovery flavour (SACK / RFC 6675 and NewReno /
// RFC 6582) it reports the mean per-connection goodput (both directions'
// bytes over the time from connect until the last byte arrived) and the
// recovery counters. Output: CSV on stdout (or --csv FILE) and, with
// --json FILE, the same rows as JSON. bench/plot_goodput.py draws them.
//
// Usage: loss_goodput [--connections N] [--bytes B] [--rtt-ms R]
//                     [--csv FILE] [--json FILE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sim_world.hpp"

using namespace synmill;

namespace {

struct Row {
  double loss = 0;
  bool sack = false;
  sim::SimResult r;
  double goodput_mbps = 0;
  double wall_s = 0;
};

const char* arg_value(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const char* v = nullptr;
  const uint32_t connections = (v = arg_value(argc, argv, "--connections")) ? std::atoi(v) : 100;
  const uint32_t bytes = (v = arg_value(argc, argv, "--bytes")) ? std::atoi(v) : (1u << 20);
  const int rtt_ms = (v = arg_value(argc, argv, "--rtt-ms")) ? std::atoi(v) : 2;
  const char* csv_path = arg_value(argc, argv, "--csv");
  const char* json_path = arg_value(argc, argv, "--json");
  const double losses[] = {0.0, 0.005, 0.01, 0.02, 0.05, 0.10, 0.15, 0.20};

  std::vector<Row> rows;
  for (double loss : losses) {
    for (bool sack : {true, false}) {
      sim::SimConfig cfg;
      cfg.seed = 7;
      cfg.connections = connections;
      cfg.concurrency = connections;
      cfg.min_bytes = cfg.max_bytes = bytes;
      cfg.sack = sack;
      cfg.send_buf = 64 * 1024;
      cfg.rcv_wnd = 64 * 1024;
      cfg.link.loss = loss;
      cfg.link.reorder = 0;
      cfg.link.duplicate = 0;
      cfg.link.delay = tcp::Duration::us(rtt_ms * 500);
      cfg.link.jitter = tcp::Duration{};
      cfg.time_limit = tcp::Duration::s(100000);
      const auto t0 = std::chrono::steady_clock::now();
      Row row;
      row.loss = loss;
      row.sack = sack;
      row.r = sim::run_simulation(cfg);
      row.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!row.r.ok) {
        std::fprintf(stderr, "loss %.3f sack %d: %s\n", loss, sack, row.r.error.c_str());
        return 1;
      }
      const double secs = static_cast<double>(row.r.transfer_time.count_ns()) / 1e9;
      row.goodput_mbps = secs > 0 ? static_cast<double>(row.r.bytes) * 8 / secs / 1e6 : 0;
      std::fprintf(stderr, "loss %5.1f%% %-7s goodput %9.2f Mbit/s per connection (%.1f s wall)\n",
                   loss * 100, sack ? "sack" : "newreno", row.goodput_mbps, row.wall_s);
      rows.push_back(row);
    }
  }

  FILE* csv = csv_path ? std::fopen(csv_path, "w") : stdout;
  if (csv == nullptr) return 1;
  std::fprintf(csv,
               "loss,recovery,connections,bytes_each_way,rtt_ms,goodput_mbps,completed,retransmits,"
               "fast_retransmits,rto_timeouts,rto_after_recovery,frames,lost\n");
  for (const Row& w : rows) {
    const auto& c = w.r.client_ctr;
    const auto& s = w.r.server_ctr;
    std::fprintf(csv, "%.3f,%s,%u,%u,%d,%.3f,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", w.loss,
                 w.sack ? "sack" : "newreno", connections, bytes, rtt_ms, w.goodput_mbps,
                 static_cast<unsigned long long>(w.r.completed),
                 static_cast<unsigned long long>(c.retransmits + s.retransmits),
                 static_cast<unsigned long long>(c.fast_retransmits + s.fast_retransmits),
                 static_cast<unsigned long long>(c.rto_timeouts + s.rto_timeouts),
                 static_cast<unsigned long long>(c.rto_after_recovery + s.rto_after_recovery),
                 static_cast<unsigned long long>(w.r.frames), static_cast<unsigned long long>(w.r.lost));
  }
  if (csv != stdout) std::fclose(csv);

  if (json_path) {
    FILE* j = std::fopen(json_path, "w");
    if (j == nullptr) return 1;
    std::fprintf(j, "{\"bench\": \"loss_goodput\", \"connections\": %u, \"bytes_each_way\": %u, "
                    "\"rtt_ms\": %d, \"rows\": [\n", connections, bytes, rtt_ms);
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& w = rows[i];
      std::fprintf(j,
                   "  {\"loss\": %.3f, \"recovery\": \"%s\", \"goodput_mbps\": %.3f, \"completed\": %llu, "
                   "\"retransmits\": %llu, \"rto_timeouts\": %llu}%s\n",
                   w.loss, w.sack ? "sack" : "newreno", w.goodput_mbps,
                   static_cast<unsigned long long>(w.r.completed),
                   static_cast<unsigned long long>(w.r.client_ctr.retransmits + w.r.server_ctr.retransmits),
                   static_cast<unsigned long long>(w.r.client_ctr.rto_timeouts + w.r.server_ctr.rto_timeouts),
                   i + 1 < rows.size() ? "," : "");
    }
    std::fprintf(j, "]}\n");
    std::fclose(j);
  }
  return 0;
}
