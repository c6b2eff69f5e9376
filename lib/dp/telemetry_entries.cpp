// The EAL-free half of telemetry.hpp: sums over workers, counter names, rows.
#include <algorithm>

#include <fmt/format.h>

#include "dp/app_values.hpp"
#include "dp/telemetry.hpp"

namespace synmill::dp {

void add_to(tcp::Counters& total, const tcp::Counters& c) {
#define SYNMILL_ADD(name) total.name += c.name;
  SYNMILL_EVENT_COUNTERS(SYNMILL_ADD)
#undef SYNMILL_ADD
#define SYNMILL_ADD_DROP(name) total.drop.name += c.drop.name;
  SYNMILL_DROP_COUNTERS(SYNMILL_ADD_DROP)
#undef SYNMILL_ADD_DROP
}

void add_to(WorkerCounters& total, const WorkerCounters& c) {
#define SYNMILL_ADD_W(name) total.name += c.name;
  SYNMILL_WORKER_COUNTERS(SYNMILL_ADD_W)
#undef SYNMILL_ADD_W
}

void add_to(tcp::StateGauges& total, const tcp::StateGauges& g) {
  for (size_t i = 0; i < total.count.size(); ++i) total.count[i] += g.count[i];
}

Totals sum_workers(std::span<const Worker* const> workers) {
  Totals t;
  for (const Worker* w : workers) add_to(t, w->snapshot());
  return t;
}

void add_to(Totals& t, const WorkerSnapshot& s) {
  add_to(t.tcp, s.tcp);
  add_to(t.dp, s.dp);
  add_to(t.states, s.states);
  t.conns += s.conns;
  t.orphans += s.orphans;
  t.squatters += s.squatters;
  t.chunks += s.chunks;
  t.timers += s.timers;
  t.time_wait += s.time_wait;
}

std::vector<NamedValue> stats_entries(const Totals& t) {
  std::vector<NamedValue> out;
  t.tcp.for_each([&](std::string_view name, uint64_t v) { out.emplace_back(std::string(name), v); });
  const size_t tcp_count = out.size();
  t.dp.for_each([&](std::string_view name, uint64_t v) {
    const bool clash = std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(tcp_count),
                                   [&](const NamedValue& e) { return e.first == name; });
    out.emplace_back(clash ? fmt::format("port_{}", name) : std::string(name), v);
  });
  out.emplace_back("orphans", t.orphans);
  out.emplace_back("squatters", t.squatters);
  out.emplace_back("chunks_in_use", t.chunks);
  out.emplace_back("timers_armed", t.timers);
  out.emplace_back("time_wait_entries", t.time_wait);
  out.emplace_back("busy_cycles_per_packet",
                   t.dp.rx_packets == 0 ? 0 : t.dp.busy_cycles / t.dp.rx_packets);
  return out;
}

std::vector<NamedValue> state_entries(const tcp::StateGauges& g) {
  std::vector<NamedValue> out;
  uint64_t total = 0;
  for (int i = static_cast<int>(tcp::State::kListen); i < tcp::kNumStates; ++i) {
    const auto s = static_cast<tcp::State>(i);
    out.emplace_back(std::string(tcp::to_string(s)), g[s]);
    if (s != tcp::State::kListen) total += g[s];
  }
  out.emplace_back("total", total);
  return out;
}

uint64_t total_drops(const Totals& t) {
  uint64_t n = t.tcp.total_drops();
  t.dp.for_each([&](std::string_view name, uint64_t v) {
    if (name.starts_with("drop_")) n += v;
  });
  return n;
}

ConnRow conn_row(const tcp::ConnInfo& ci, uint16_t core, tcp::Instant now, const TableQuery::Addrs6* a6) {
  const auto until = [now](tcp::Instant at) -> int64_t {
    if (at == tcp::Instant{}) return -1;
    return std::max<int64_t>(0, (at - now).count_ms());
  };
  ConnRow r;
  if (tcp::is_ipv6(ci.tuple)) {
    const TableQuery::Addrs6 none{};
    const TableQuery::Addrs6& a = a6 != nullptr ? *a6 : none;
    r.local = fmt::format("[{}]:{}", format_ipv6(a.local), ci.tuple.local_port);
    r.remote = fmt::format("[{}]:{}", format_ipv6(a.remote), ci.tuple.remote_port);
  } else {
    r.local = fmt::format("{}:{}", format_ipv4(ci.tuple.local_ip), ci.tuple.local_port);
    r.remote = fmt::format("{}:{}", format_ipv4(ci.tuple.remote_ip), ci.tuple.remote_port);
  }
  r.state = std::string(tcp::to_string(ci.state));
  r.core = core;
  r.snd_una = ci.snd_una.raw();
  r.snd_nxt = ci.snd_nxt.raw();
  r.rcv_nxt = ci.rcv_nxt.raw();
  r.snd_wnd = ci.snd_wnd;
  r.send_queued = ci.send_queued;
  r.rto_ms = ci.rto_ms;
  r.retries = ci.retries;
  r.rtx_in_ms = until(ci.rtx_at);
  r.timer_in_ms = until(ci.state_at);
  return r;
}

}  // namespace synmill::dp
