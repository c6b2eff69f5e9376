#pragma once
// synmill's DPDK telemetry commands, answered on the EAL's telemetry socket
// (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2; synmill-ctl and
// dpdk-telemetry.py read it):
//
//   /synmill/stats            every tcp::Counters and dp::WorkerCounters value summed
//                             over the workers, plus busy_cycles_per_packet
//   /synmill/states           connections per state summed over the workers
//   /synmill/conns,N[,SKIP]   up to N connections (default 100) after skipping SKIP;
//                             per worker its connections, then its TIME_WAIT entries
//   /synmill/config           the effective settings and the port
//
//   /synmill/stats,W          the same for worker W alone (synmill-ctl metrics)
//
// The callbacks run on DPDK's telemetry threads and never read what a worker
// writes: counters and gauges come from the snapshot each worker publishes
// once a millisecond (a seqlock), and at once when a query asks for it
// (Worker::fresh_snapshots: a stats query sees what the workers did before
// it, even from an lcore that shares its CPU), connections and states
// from a TableQuery the worker answers itself between two bursts. So each
// worker's part of a reply is one consistent moment (workers are not
// synchronised with each other). The pure parts (sums, names, rows) are below
// so that tests and the status line use them without the EAL.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dp/result.hpp"
#include "dp/worker.hpp"
#include "tcp/counters.hpp"
#include "tcp/stack.hpp"

struct rte_mempool;

namespace synmill::dp {

struct AppConfig;
struct PortInfo;

// Totals over workers.
struct Totals {
  tcp::Counters tcp;
  WorkerCounters dp;
  tcp::StateGauges states;  // TIME_WAIT from the compact tables, LISTEN = listeners
  uint64_t conns = 0;       // connections in the tables (not TIME_WAIT)
  uint64_t orphans = 0;     // closed by the application, not finished (bounded by --max-orphans)
  uint64_t squatters = 0;   // holding data toward a zero or tiny window
  uint64_t chunks = 0;      // send/receive pool chunks in use
  uint64_t timers = 0;      // timers armed
  uint64_t time_wait = 0;   // compact TIME_WAIT entries
};

void add_to(tcp::Counters& total, const tcp::Counters& c);
void add_to(WorkerCounters& total, const WorkerCounters& c);
void add_to(tcp::StateGauges& total, const tcp::StateGauges& g);
void add_to(Totals& total, const WorkerSnapshot& s);
Totals sum_workers(std::span<const Worker* const> workers);  // from their snapshots

using NamedValue = std::pair<std::string, uint64_t>;

// /synmill/stats: tcp counters by their names (drops "drop_*"), then the
// worker counters; a worker counter whose name a tcp counter already uses
// (rx_bytes, tx_bytes: frame bytes vs segment payload) gets the prefix
// "port_". Last, busy_cycles_per_packet = busy_cycles / rx_packets.
std::vector<NamedValue> stats_entries(const Totals& t);

// Connection states in RFC order from LISTEN to TIME_WAIT (CLOSED, the free
// slots, left out), then "total": connections plus TIME_WAIT entries.
std::vector<NamedValue> state_entries(const tcp::StateGauges& g);

// Sum of drops: tcp drop counters plus the worker's drop_* counters.
uint64_t total_drops(const Totals& t);

// One row of /synmill/conns.
struct ConnRow {
  std::string local;   // "198.18.0.1:80"
  std::string remote;
  std::string state;   // "ESTABLISHED"
  uint16_t core = 0;   // worker index
  uint32_t snd_una = 0, snd_nxt = 0, rcv_nxt = 0;
  uint32_t snd_wnd = 0;
  uint32_t send_queued = 0;  // bytes unacknowledged + unsent
  uint32_t rto_ms = 0;
  uint32_t retries = 0;
  int64_t rtx_in_ms = -1;    // until the retransmission timer fires; -1: not armed
  int64_t timer_in_ms = -1;  // until the state's reclaim timer fires; -1: none
};

// IPv6 tuples (tcp::is_ipv6) take their addresses from `a6` (the worker's
// copy, TableQuery::addrs6) and read "[2001:2::1]:80"; IPv4 ones "198.18.0.1:80".
ConnRow conn_row(const tcp::ConnInfo& ci, uint16_t core, tcp::Instant now,
                 const TableQuery::Addrs6* a6 = nullptr);

// What the callbacks read. Fill it completely before register_telemetry().
struct TelemetrySource {
  std::vector<const Worker*> workers;
  // Worker i's clock: Instant 0 at start_tsc[i] (taken just before the worker
  // was launched; timers read from it are late by the launch latency, a few ms
  // at most).
  std::vector<uint64_t> start_tsc;
  uint64_t tsc_hz = 0;
  const AppConfig* config = nullptr;
  const PortInfo* port = nullptr;
  uint16_t lcores = 1;
  std::string version;
  // The packet-buffer pool: /synmill/stats reports mbufs_in_use and
  // mbufs_total (rte_mempool_in_use_count: a leak shows as a count that does
  // not come back once traffic stops). nullptr: not reported.
  const rte_mempool* pool = nullptr;
};

// Registers the /synmill/* commands (once per process) and points them at
// `source`, which must outlive detach_telemetry().
Result<void> register_telemetry(const TelemetrySource* source);

// From now on the commands answer null; returns once no callback still reads
// the source. Call before the workers are destroyed.
void detach_telemetry();

}  // namespace synmill::dp
