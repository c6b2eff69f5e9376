// The /synmill/* telemetry commands. See telemetry.hpp.
#include "dp/telemetry.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dp/app_config.hpp"
#include "dp/port_info.hpp"
#include "dp/profile_values.hpp"
#include "dp/rte.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_telemetry.h>
#pragma GCC diagnostic pop

namespace synmill::dp {
namespace {

// DPDK 22.11 writes one reply of at most 16 KiB (MAX_OUTPUT_LEN in
// lib/telemetry/telemetry.c) and silently leaves out what does not fit: keep
// /synmill/conns below it and let the client page with SKIP.
constexpr size_t kReplyBudget = 15 * 1024;
constexpr uint32_t kDefaultConns = 100;
// How long a command waits for a worker to answer a TableQuery (a worker
// answers within one loop: microseconds unless its core is preempted).
constexpr uint32_t kAskTimeoutMs = 1000;

std::mutex g_mutex;  // held while a callback reads the source
const TelemetrySource* g_source = nullptr;
bool g_registered = false;

// Later DPDK releases accept dict names of [A-Za-z0-9_/] only; stay within
// that set everywhere.
std::string key_name(std::string_view name) {
  std::string k(name);
  for (char& c : k) {
    if (c == '-') c = '_';
  }
  return k;
}

void add_u64(rte_tel_data* d, std::string_view name, uint64_t v) {
  rte_tel_data_add_dict_u64(d, key_name(name).c_str(), v);
}

void add_str(rte_tel_data* d, std::string_view name, const std::string& v) {
  rte_tel_data_add_dict_string(d, key_name(name).c_str(), v.c_str());
}

// An array of strings as a dict entry; `d` takes ownership.
void add_str_array(rte_tel_data* d, std::string_view name, const std::vector<std::string>& items) {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a == nullptr) return;
  rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
  for (const std::string& s : items) rte_tel_data_add_array_string(a, s.c_str());
  if (rte_tel_data_add_dict_container(d, key_name(name).c_str(), a, 0) != 0) rte_tel_data_free(a);
}

// Empty params: every worker; "W": worker W alone. False on anything else.
bool parse_worker(const char* params, size_t workers, size_t& first, size_t& last) {
  first = 0;
  last = workers;
  if (params == nullptr || *params == '\0') return true;
  const std::string_view p(params);
  size_t w = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), w);
  if (ec != std::errc{} || end != p.data() + p.size() || w >= workers) return false;
  first = w;
  last = w + 1;
  return true;
}

// Stats and states as of the query: what the workers did before it is in
// them (fresh_snapshot: a descheduled lcore may otherwise be a few ms behind).
constexpr uint32_t kFreshTimeoutMs = 100;

Totals sum_range(const TelemetrySource& src, size_t first, size_t last) {
  Totals t;
  const std::span<const Worker* const> ws(src.workers.data() + first, last - first);
  for (const WorkerSnapshot& s : Worker::fresh_snapshots(ws, kFreshTimeoutMs)) add_to(t, s);
  return t;
}

int cmd_stats(const char*, const char* params, rte_tel_data* d) {
  std::lock_guard lock(g_mutex);
  if (g_source == nullptr) return -1;
  size_t first = 0;
  size_t last = 0;
  if (!parse_worker(params, g_source->workers.size(), first, last)) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& [name, v] : stats_entries(sum_range(*g_source, first, last))) add_u64(d, name, v);
  const bool all_workers = params == nullptr || *params == '\0';
  if (g_source->pool != nullptr && all_workers) {  // the pool is the process's, not a worker's
    add_u64(d, "mbufs_in_use", rte_mempool_in_use_count(g_source->pool));
    add_u64(d, "mbufs_total", g_source->pool->size);
  }
  return 0;
}

int cmd_states(const char*, const char* params, rte_tel_data* d) {
  std::lock_guard lock(g_mutex);
  if (g_source == nullptr) return -1;
  size_t first = 0;
  size_t last = 0;
  if (!parse_worker(params, g_source->workers.size(), first, last)) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& [name, v] : state_entries(sum_range(*g_source, first, last).states)) add_u64(d, name, v);
  return 0;
}

// "N" or "N,SKIP"; false on anything else.
bool parse_conn_params(const char* params, uint32_t& n, uint32_t& skip) {
  n = kDefaultConns;
  skip = 0;
  if (params == nullptr) return true;
  const std::string_view p(params);
  if (p.empty()) return true;
  const size_t comma = p.find(',');
  const std::string_view a = p.substr(0, comma);
  const std::string_view b = comma == std::string_view::npos ? std::string_view{} : p.substr(comma + 1);
  const auto num = [](std::string_view s, uint32_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
  };
  if (!num(a, n)) return false;
  return comma == std::string_view::npos || num(b, skip);
}

// The columns of /synmill/conns: the reply's first array names them, and each
// further array is one connection with its values as strings, in this order.
// (DPDK 22.11's array containers hold arrays only, not dicts.)
constexpr const char* kConnColumns[] = {"local",   "remote",  "state",  "core",
                                        "snd_una", "snd_nxt", "rcv_nxt", "snd_wnd",
                                        "send_q",  "rto_ms",  "retries", "rtx_in_ms",
                                        "timer_in_ms"};

std::vector<std::string> conn_values(const ConnRow& r) {
  return {r.local,
          r.remote,
          r.state,
          std::to_string(r.core),
          std::to_string(r.snd_una),
          std::to_string(r.snd_nxt),
          std::to_string(r.rcv_nxt),
          std::to_string(r.snd_wnd),
          std::to_string(r.send_queued),
          std::to_string(r.rto_ms),
          std::to_string(r.retries),
          std::to_string(r.rtx_in_ms),
          std::to_string(r.timer_in_ms)};
}

// Adds one array of strings to the array container `d`; its JSON size.
size_t add_row(rte_tel_data* d, const std::vector<std::string>& values) {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a == nullptr) return 0;
  rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
  size_t bytes = 3;
  for (const std::string& v : values) {
    rte_tel_data_add_array_string(a, v.c_str());
    bytes += v.size() + 3;
  }
  if (rte_tel_data_add_array_container(d, a, 0) != 0) {
    rte_tel_data_free(a);
    return 0;
  }
  return bytes;
}

int cmd_conns(const char*, const char* params, rte_tel_data* d) {
  uint32_t want = 0;
  uint32_t skip = 0;
  if (!parse_conn_params(params, want, skip)) return -1;
  std::lock_guard lock(g_mutex);
  if (g_source == nullptr) return -1;
  const TelemetrySource& src = *g_source;
  rte_tel_data_start_array(d, RTE_TEL_CONTAINER);
  size_t bytes = 64 + add_row(d, std::vector<std::string>(std::begin(kConnColumns), std::end(kConnColumns)));
  want = std::min<uint32_t>(want, RTE_TEL_MAX_ARRAY_ENTRIES - 1);
  uint32_t added = 0;
  TableQuery q;
  q.kind = TableQuery::Kind::kConns;
  q.rows.reserve(want);
  q.addrs6.reserve(want);
  for (size_t i = 0; i < src.workers.size() && added < want && bytes < kReplyBudget; ++i) {
    q.skip = skip;
    q.want = want - added;
    if (!src.workers[i]->ask(q, kAskTimeoutMs)) return -1;
    skip -= std::min(skip, q.seen);
    for (size_t r = 0; r < q.rows.size(); ++r) {
      const tcp::ConnInfo& ci = q.rows[r];
      const std::vector<std::string> values =
          conn_values(conn_row(ci, static_cast<uint16_t>(i), q.now, r < q.addrs6.size() ? &q.addrs6[r] : nullptr));
      size_t row_bytes = 3;
      for (const std::string& v : values) row_bytes += v.size() + 3;
      if (bytes + row_bytes >= kReplyBudget) {
        bytes = kReplyBudget;  // full: the client asks again with SKIP
        break;
      }
      bytes += add_row(d, values);
      ++added;
    }
  }
  return 0;
}

// "A.B.C.D:PORT" -> host-order address and port; false on anything else.
bool parse_endpoint(std::string_view s, uint32_t& ip, uint16_t& port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  const auto num = [](std::string_view t, uint32_t max, uint32_t& out) {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc{} && end == t.data() + t.size() && !t.empty() && out <= max;
  };
  uint32_t p = 0;
  if (!num(s.substr(colon + 1), 65535, p)) return false;
  std::string_view a = s.substr(0, colon);
  ip = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? a.find('.') : a.size();
    if (dot == std::string_view::npos) return false;
    uint32_t octet = 0;
    if (!num(a.substr(0, dot), 255, octet)) return false;
    ip = (ip << 8) | octet;
    a = i < 3 ? a.substr(dot + 1) : std::string_view{};
  }
  port = static_cast<uint16_t>(p);
  return true;
}

// "[X:X::X]:PORT" -> address and port; false on anything else.
bool parse_endpoint6(std::string_view s, wire::Ipv6Addr& ip, uint16_t& port) {
  const size_t close = s.rfind("]:");
  if (s.empty() || s[0] != '[' || close == std::string_view::npos) return false;
  const auto a = parse_ipv6(s.substr(1, close - 1));
  if (!parsed_ok(a)) return false;
  uint32_t p = 0;
  const std::string_view ps = s.substr(close + 2);
  const auto [end, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), p);
  if (ec != std::errc{} || end != ps.data() + ps.size() || ps.empty() || p > 65535) return false;
  ip = std::get<0>(a);
  port = static_cast<uint16_t>(p);
  return true;
}

// /synmill/state,LOCAL:PORT,REMOTE:PORT: the state a segment for that 4-tuple
// would meet (Stack::state_of): a connection's state, TIME_WAIT from the
// compact table (which /synmill/conns does not list), LISTEN or CLOSED.
int cmd_state(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr) return -1;
  const std::string_view p(params);
  const size_t comma = p.find(',');
  if (comma == std::string_view::npos) return -1;
  tcp::FourTuple t;
  TableQuery q;
  q.kind = TableQuery::Kind::kState;
  const std::string_view local = p.substr(0, comma);
  const std::string_view remote = p.substr(comma + 1);
  if (!local.empty() && local[0] == '[') {  // "[2001:2::1]:80,[2001:2::2]:40000"
    q.v6 = true;
    if (!parse_endpoint6(local, q.local6, t.local_port) || !parse_endpoint6(remote, q.remote6, t.remote_port)) {
      return -1;
    }
  } else if (!parse_endpoint(local, t.local_ip, t.local_port) || !parse_endpoint(remote, t.remote_ip, t.remote_port)) {
    return -1;
  }
  std::lock_guard lock(g_mutex);
  if (g_source == nullptr) return -1;
  tcp::State st = tcp::State::kClosed;
  q.tuple = t;
  for (const Worker* w : g_source->workers) {
    if (!w->ask(q, kAskTimeoutMs)) return -1;
    const tcp::State s = q.state;
    if (s != tcp::State::kClosed && s != tcp::State::kListen) {
      st = s;
      break;
    }
    if (s == tcp::State::kListen) st = s;
  }
  rte_tel_data_start_dict(d);
  add_str(d, "state", std::string(tcp::to_string(st)));
  return 0;
}

int cmd_config(const char*, const char*, rte_tel_data* d) {
  std::lock_guard lock(g_mutex);
  if (g_source == nullptr) return -1;
  const TelemetrySource& src = *g_source;
  const AppConfig& cfg = *src.config;
  rte_tel_data_start_dict(d);
  add_str(d, "version", src.version);
  std::vector<std::string> items;
  for (const Address& a : cfg.addrs) items.push_back(format_address(a));
  add_str_array(d, "addr", items);
  items.clear();
  for (const ListenSpec& l : cfg.listeners) items.push_back(format_listen(l));
  add_str_array(d, "listen", items);
  items.clear();
  for (const auto& [k, v] : cfg.port_opts) items.push_back(fmt::format("{}={}", k, v));
  add_str_array(d, "port_opt", items);
  for (const auto& [name, value] : describe_config(cfg)) {
    if (name == "addr" || name == "listen" || name == "port-opt") continue;
    add_str(d, name, value);
  }
  add_u64(d, "workers", src.workers.size());
  add_u64(d, "lcores", src.lcores);
  if (src.port != nullptr) {
    const PortInfo& p = *src.port;
    add_str(d, "port_name", p.name);
    add_str(d, "port_driver", p.driver);
    add_str(d, "port_profile", p.profile);
    add_str(d, "port_mac", format_mac(p.mac));
    add_str(d, "port_link", p.link_up ? fmt::format("up {} Mb/s", p.link_speed_mbps) : "down");
    add_u64(d, "port_mtu", p.mtu);
    add_u64(d, "port_rx_queues", p.rx_queues);
    add_u64(d, "port_tx_queues", p.tx_queues);
    add_u64(d, "port_rx_desc", p.rx_desc);
    add_u64(d, "port_tx_desc", p.tx_desc);
    add_str(d, "port_rss", p.software_dispatch ? "software dispatch" : std::string(to_string(p.rss)));
    add_str(d, "port_offloads", format_mask(p.offloads, offload_names()));
  }
  return 0;
}

struct Command {
  const char* name;
  telemetry_cb fn;
  const char* help;  // < 64 characters (MAX_HELP_LEN)
};

constexpr Command kCommands[] = {
    {"/synmill/stats", cmd_stats, "synmill counters summed over workers. Parameters: [W]"},
    {"/synmill/states", cmd_states, "synmill connections per TCP state. Parameters: [W]"},
    {"/synmill/conns", cmd_conns, "synmill connections. Parameters: N[,SKIP]"},
    {"/synmill/state", cmd_state,
     "state of one 4-tuple. Parameters: LOCAL:PORT,REMOTE:PORT (IPv6: [ADDR]:PORT)"},
    {"/synmill/config", cmd_config, "synmill effective settings"},
};

}  // namespace

Result<void> register_telemetry(const TelemetrySource* source) {
  {
    std::lock_guard lock(g_mutex);
    g_source = source;
  }
  if (g_registered) return {};
  for (const Command& c : kCommands) {
    if (const int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help); rc != 0) {
      return Error{fmt::format("telemetry: cannot register {}: {}: start with --no-telemetry", c.name,
                               rte_strerror(-rc))};
    }
  }
  g_registered = true;
  return {};
}

void detach_telemetry() {
  std::lock_guard lock(g_mutex);
  g_source = nullptr;
}

}  // namespace synmill::dp
