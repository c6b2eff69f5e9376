#include "dp/app_options.hpp"

#include <algorithm>
#include <array>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "dp/app_config.hpp"

#ifndef SYNMILL_DATADIR
#define SYNMILL_DATADIR "/usr/local/share"
#endif

namespace synmill::dp {
namespace {

using SetResult = std::optional<std::string>;
using tcp::Duration;

constexpr std::string_view kServe = "Serving";
constexpr std::string_view kSyn = "Handshake and SYN floods";
constexpr std::string_view kCap = "Capacity and segments (per worker)";
constexpr std::string_view kTime = "Timeouts and retransmission";
constexpr std::string_view kLoad = "Overload (orphans, fair pool, idle connections)";
constexpr std::string_view kPort = "Port";
constexpr std::string_view kProc = "Process";

constexpr uint64_t k24 = 1u << 24;  // pools and tables: up to 16M entries per worker

// ---- generic setters over a StackConfig member ------------------------------

template <auto M, uint64_t Lo, uint64_t Hi>
SetResult set_uint(AppConfig& c, std::string_view v) {
  const auto p = parse_uint(v, Lo, Hi);
  if (!parsed_ok(p)) return std::get<1>(p);
  using T = std::remove_reference_t<decltype(c.tcp.*M)>;
  c.tcp.*M = static_cast<T>(std::get<0>(p));
  return std::nullopt;
}

template <auto M, uint64_t Lo, uint64_t Hi>
SetResult set_bytes(AppConfig& c, std::string_view v) {
  const auto p = parse_bytes(v, Lo, Hi);
  if (!parsed_ok(p)) return std::get<1>(p);
  using T = std::remove_reference_t<decltype(c.tcp.*M)>;
  c.tcp.*M = static_cast<T>(std::get<0>(p));
  return std::nullopt;
}

template <auto M>
std::string show_uint(const AppConfig& c) {
  return fmt::format("{}", static_cast<uint64_t>(c.tcp.*M));
}

template <auto M>
std::string show_bytes(const AppConfig& c) {
  return format_bytes(c.tcp.*M);
}

// Seconds, bounds in milliseconds.
template <auto M, int64_t LoMs, int64_t HiMs>
SetResult set_seconds(AppConfig& c, std::string_view v) {
  const auto p = parse_seconds(v, Duration::ms(LoMs), Duration::ms(HiMs));
  if (!parsed_ok(p)) return std::get<1>(p);
  c.tcp.*M = std::get<0>(p);
  return std::nullopt;
}

template <auto M>
std::string show_seconds(const AppConfig& c) {
  return format_seconds(c.tcp.*M);
}

template <auto M, int64_t Lo, int64_t Hi>
SetResult set_millis(AppConfig& c, std::string_view v) {
  const auto p = parse_millis(v, Lo, Hi);
  if (!parsed_ok(p)) return std::get<1>(p);
  c.tcp.*M = std::get<0>(p);
  return std::nullopt;
}

template <auto M>
std::string show_millis(const AppConfig& c) {
  return fmt::format("{}", (c.tcp.*M).count_ms());
}

// ---- one-off options ---------------------------------------------------------

SetResult set_addr(AppConfig& c, std::string_view v) {
  const auto p = parse_address(v);
  if (!parsed_ok(p)) return std::get<1>(p);
  const Address a = std::get<0>(p);
  for (const Address& b : c.addrs) {
    if (b.v6 == a.v6 && b.ip == a.ip && b.ip6 == a.ip6) {
      return fmt::format("address {} is given twice", a.v6 ? format_ipv6(a.ip6) : format_ipv4(a.ip));
    }
  }
  c.addrs.push_back(a);
  return std::nullopt;
}

std::string show_addr(const AppConfig& c) {
  std::string out;
  for (const Address& a : c.addrs) out += (out.empty() ? "" : ",") + format_address(a);
  return out;
}

SetResult set_listen(AppConfig& c, std::string_view v) {
  const auto p = parse_listen(v);
  if (!parsed_ok(p)) return std::get<1>(p);
  for (const ListenSpec& l : std::get<0>(p)) {
    for (const ListenSpec& old : c.listeners) {
      if (old.port == l.port) {
        return fmt::format("port conflict: port {} is given twice ({} and {})", l.port,
                           format_listen(old), format_listen(l));
      }
    }
    c.listeners.push_back(l);
  }
  return std::nullopt;
}

std::string show_listen(const AppConfig& c) {
  std::string out;
  for (const ListenSpec& l : c.listeners) out += (out.empty() ? "" : ",") + format_listen(l);
  return out;
}

SetResult set_connect(AppConfig& c, std::string_view v) {
  const auto p = parse_connect(v);
  if (!parsed_ok(p)) return std::get<1>(p);
  c.connects.push_back(std::get<0>(p));
  return std::nullopt;
}

std::string show_connect(const AppConfig& c) {
  std::string out;
  for (const ConnectSpec& x : c.connects) out += (out.empty() ? "" : ",") + format_connect(x);
  return out;
}

SetResult set_cookies(AppConfig& c, std::string_view v) {
  if (v == "off") {
    c.tcp.cookies = tcp::CookieMode::kOff;
  } else if (v == "overflow") {
    c.tcp.cookies = tcp::CookieMode::kOverflow;
  } else if (v == "always") {
    c.tcp.cookies = tcp::CookieMode::kAlways;
  } else {
    return fmt::format("bad value '{}': expected off, overflow or always", v);
  }
  return std::nullopt;
}

std::string show_cookies(const AppConfig& c) {
  switch (c.tcp.cookies) {
    case tcp::CookieMode::kOff: return "off";
    case tcp::CookieMode::kOverflow: return "overflow";
    case tcp::CookieMode::kAlways: return "always";
  }
  return "?";
}

SetResult set_tw_rst(AppConfig& c, std::string_view v) {
  if (v == "ignore") {
    c.tcp.time_wait_rst = tcp::TimeWaitRstPolicy::kIgnore;
  } else if (v == "close") {
    c.tcp.time_wait_rst = tcp::TimeWaitRstPolicy::kClose;
  } else {
    return fmt::format("bad value '{}': expected ignore or close", v);
  }
  return std::nullopt;
}

std::string show_tw_rst(const AppConfig& c) {
  return c.tcp.time_wait_rst == tcp::TimeWaitRstPolicy::kIgnore ? "ignore" : "close";
}

SetResult set_no_timestamps(AppConfig& c, std::string_view v) {
  c.tcp.timestamps = v != "true";
  return std::nullopt;
}
std::string show_no_timestamps(const AppConfig& c) { return c.tcp.timestamps ? "false" : "true"; }

SetResult set_no_sack(AppConfig& c, std::string_view v) {
  c.tcp.sack = v != "true";
  return std::nullopt;
}
std::string show_no_sack(const AppConfig& c) { return c.tcp.sack ? "false" : "true"; }

SetResult set_port(AppConfig& c, std::string_view v) {
  const auto p = parse_uint(v, 0, 65534);
  if (!parsed_ok(p)) return std::get<1>(p);
  c.port_id = static_cast<uint16_t>(std::get<0>(p));
  return std::nullopt;
}
std::string show_port(const AppConfig& c) { return fmt::format("{}", c.port_id); }

SetResult set_drivers_config(AppConfig& c, std::string_view v) {
  c.drivers_config = std::string(v);
  return std::nullopt;
}
std::string show_drivers_config(const AppConfig& c) { return c.drivers_config; }

SetResult set_port_opt(AppConfig& c, std::string_view v) {
  auto p = parse_overrides(v);
  if (!p) return p.error();
  if (p->empty()) return std::string("empty override: expected key=value[,key=value...], e.g. rx_desc=512");
  for (auto& o : *p) c.port_opts.push_back(std::move(o));
  return std::nullopt;
}
std::string show_port_opt(const AppConfig& c) {
  std::string out;
  for (const auto& [k, v] : c.port_opts) out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, v);
  return out;
}

SetResult set_mbufs(AppConfig& c, std::string_view v) {
  const auto p = parse_uint(v, 0, 1u << 30);
  if (!parsed_ok(p)) return std::get<1>(p);
  c.mbufs = static_cast<uint32_t>(std::get<0>(p));
  return std::nullopt;
}
std::string show_mbufs(const AppConfig& c) { return fmt::format("{}", c.mbufs); }

SetResult set_config(AppConfig& c, std::string_view v) {
  c.config_file = std::string(v);
  return std::nullopt;
}
std::string show_config(const AppConfig& c) { return c.config_file; }

// EAL arguments split at blanks (no quoting: DPDK's own arguments need none).
SetResult set_eal(AppConfig& c, std::string_view v) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < v.size()) {
    const size_t start = v.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    const size_t end = std::min(v.find_first_of(" \t", start), v.size());
    words.emplace_back(v.substr(start, end - start));
    pos = end;
  }
  if (words.empty()) return std::string("empty: expected EAL arguments, e.g. -l 0-1 -a 0000:3b:00.0 --file-prefix web");
  if (std::find(words.begin(), words.end(), "--") != words.end()) {
    return std::string("'--' inside the EAL arguments: give only what comes before '--'");
  }
  c.eal_args = std::move(words);
  return std::nullopt;
}
std::string show_eal(const AppConfig& c) {
  std::string out;
  for (const std::string& w : c.eal_args) out += fmt::format("{}{}", out.empty() ? "" : " ", w);
  return out;
}

SetResult set_no_telemetry(AppConfig& c, std::string_view v) {
  c.telemetry = v != "true";
  return std::nullopt;
}
std::string show_no_telemetry(const AppConfig& c) { return c.telemetry ? "false" : "true"; }

SetResult set_status_interval(AppConfig& c, std::string_view v) {
  const auto p = parse_seconds(v, Duration::s(0), Duration::s(3600));
  if (!parsed_ok(p)) return std::get<1>(p);
  c.status_interval = std::get<0>(p);
  return std::nullopt;
}
std::string show_status_interval(const AppConfig& c) { return format_seconds(c.status_interval); }

SetResult set_grace(AppConfig& c, std::string_view v) {
  const auto p = parse_seconds(v, Duration::s(0), Duration::s(3600));
  if (!parsed_ok(p)) return std::get<1>(p);
  c.grace = std::get<0>(p);
  return std::nullopt;
}
std::string show_grace(const AppConfig& c) { return format_seconds(c.grace); }

SetResult set_help(AppConfig& c, std::string_view v) {
  c.help = v == "true";
  return std::nullopt;
}
std::string show_help(const AppConfig& c) { return c.help ? "true" : "false"; }

using S = tcp::StackConfig;
using K = OptionKind;

const std::array kOptions = std::to_array<AppOption>({
    {"addr", "ADDR/P", "a local IPv4 (198.18.0.1/24) or IPv6 (2001:2::1/64) address and its prefix "
                     "length (repeatable; at least one; every listener serves both families)",
     kServe, K::kList, set_addr, show_addr, [](AppConfig& c) { c.addrs.clear(); }},
    {"listen", "PORT:APP[,...]",
     "serve APP on TCP PORT (repeatable; at least one); APP: echo, discard, http, http:close (one request per connection), hold (never closes), send:N, metrics (Prometheus text)", kServe,
     K::kList, set_listen, show_listen, [](AppConfig& c) { c.listeners.clear(); }},
    {"connect", "ADDR:PORT[xN]",
     "at start, open N connections (default 1) to ADDR:PORT ([X:X::X]:PORT for IPv6) from ports 40000 up "
     "of the first --addr of that family, served by echo (repeatable; tests use it to drive SYN_SENT and "
     "the client side)",
     kServe, K::kList, set_connect, show_connect, [](AppConfig& c) { c.connects.clear(); }},

    {"syncookies", "off|overflow|always",
     "SYN cookies: never, when a listener's backlog is full, or for every SYN", kSyn, K::kValue,
     set_cookies, show_cookies},
    {"cookie-lifetime", "SECONDS",
     "SYN-cookie secret rotation period: a cookie is accepted for one to two of these", kSyn,
     K::kValue, set_seconds<&S::cookie_lifetime, 100, 86400000>, show_seconds<&S::cookie_lifetime>},
    {"backlog", "N", "half-open (SYN_RCVD) connections per listener", kSyn, K::kValue,
     set_uint<&S::backlog, 1, k24>, show_uint<&S::backlog>},
    {"accept-queue", "N", "established connections waiting for the application, per listener", kSyn,
     K::kValue, set_uint<&S::accept_queue, 1, k24>, show_uint<&S::accept_queue>},
    {"synack-retries", "N", "SYN-ACK retransmissions before a half-open connection is reclaimed",
     kSyn, K::kValue, set_uint<&S::synack_retries, 0, 255>, show_uint<&S::synack_retries>},
    {"syn-retries", "N", "SYN retransmissions before an active open gives up", kSyn, K::kValue,
     set_uint<&S::syn_retries, 0, 255>, show_uint<&S::syn_retries>},

    {"max-conns", "N", "connection table size", kCap, K::kValue,
     set_uint<&S::max_conns, 1, k24>, show_uint<&S::max_conns>},
    {"max-time-wait", "N", "TIME_WAIT table size (full: connections close without TIME_WAIT)", kCap,
     K::kValue, set_uint<&S::max_time_wait, 1, k24>, show_uint<&S::max_time_wait>},
    {"send-chunks", "N", "send-buffer chunks in the pool (2 KiB each)", kCap, K::kValue,
     set_uint<&S::send_chunks, 1, k24>, show_uint<&S::send_chunks>},
    {"send-buf", "BYTES", "unacknowledged + unsent bytes one connection may queue", kCap, K::kValue,
     set_bytes<&S::send_buf, 1, 1u << 30>, show_bytes<&S::send_buf>},
    {"rcv-wnd", "BYTES", "receive window advertised", kCap, K::kValue,
     set_bytes<&S::rcv_wnd, 1, 1u << 30>, show_bytes<&S::rcv_wnd>},
    {"mss", "N", "MSS advertised and cap on segments sent (port MTU - 40 at most)", kCap, K::kValue,
     set_uint<&S::mss, 64, 9460>, show_uint<&S::mss>},
    {"wscale", "N", "window-scale shift offered (RFC 7323), 0..14", kCap, K::kValue,
     set_uint<&S::wscale, 0, 14>, show_uint<&S::wscale>},
    {"no-timestamps", "", "do not negotiate TCP timestamps (RFC 7323)", kCap, K::kFlag,
     set_no_timestamps, show_no_timestamps},
    {"no-sack", "", "do not negotiate SACK-permitted (RFC 2018)", kCap, K::kFlag, set_no_sack,
     show_no_sack},

    {"time-wait", "SECONDS", "TIME_WAIT duration (2 MSL)", kTime, K::kValue,
     set_seconds<&S::time_wait, 1, 3600000>, show_seconds<&S::time_wait>},
    {"time-wait-rst", "ignore|close",
     "an in-window RST in TIME_WAIT: ignore it (RFC 1337) or close the entry", kTime, K::kValue,
     set_tw_rst, show_tw_rst},
    // At most 1800 s: a connection's deadlines are 32-bit microseconds
    // (lib/tcp/deadline.hpp, kMaxDeadline), so the option is refused beyond
    // rather than clamped without a word.
    {"fin-wait2-timeout", "SECONDS", "reclaim an orphaned FIN_WAIT_2 after this (at most 1800)", kTime, K::kValue,
     set_seconds<&S::fin_wait2_timeout, 1, 1800000>, show_seconds<&S::fin_wait2_timeout>},
    {"close-wait-timeout", "SECONDS", "reclaim a CLOSE_WAIT the application never closes (at most 1800); 0 = never",
     kTime, K::kValue, set_seconds<&S::close_wait_timeout, 0, 1800000>,
     show_seconds<&S::close_wait_timeout>},
    {"fin-retries", "N", "FIN retransmissions before FIN_WAIT_1/CLOSING/LAST_ACK is aborted", kTime,
     K::kValue, set_uint<&S::fin_retries, 0, 255>, show_uint<&S::fin_retries>},
    {"data-retries", "N", "data retransmissions before the connection is aborted", kTime, K::kValue,
     set_uint<&S::data_retries, 0, 255>, show_uint<&S::data_retries>},
    {"rto-initial", "MS", "initial retransmission timeout (RFC 6298)", kTime, K::kValue,
     set_millis<&S::rto_initial, 1, 600000>, show_millis<&S::rto_initial>},
    {"rto-min", "MS", "lower bound of the retransmission timeout", kTime, K::kValue,
     set_millis<&S::rto_min, 1, 600000>, show_millis<&S::rto_min>},
    {"rto-max", "MS", "upper bound of the retransmission timeout", kTime, K::kValue,
     set_millis<&S::rto_max, 1, 600000>, show_millis<&S::rto_max>},

    {"max-orphans", "N",
     "connections closed by the application but not finished (FIN_WAIT_1/2, CLOSING, LAST_ACK) "
     "per worker; one more resets the oldest; 0 = --max-conns / 4",
     kLoad, K::kValue, set_uint<&S::max_orphans, 0, k24>, show_uint<&S::max_orphans>},
    {"orphan-retries", "N", "FIN retransmissions of an orphan before it is reset (fewer than --fin-retries)",
     kLoad, K::kValue, set_uint<&S::orphan_retries, 0, 255>, show_uint<&S::orphan_retries>},
    {"min-conn-buf", "BYTES",
     "send and receive space every connection keeps when the pool is short (an HTTP response fits)",
     kLoad, K::kValue, set_bytes<&S::min_conn_buf, 0, 1u << 30>, show_bytes<&S::min_conn_buf>},
    {"pool-reserve", "N",
     "chunks kept for the per-connection minimums: at the reserve no connection grows beyond its "
     "minimum; 0 = --send-chunks / 8",
     kLoad, K::kValue, set_uint<&S::pool_reserve, 0, k24>, show_uint<&S::pool_reserve>},
    {"persist-timeout", "SECONDS",
     "reset a connection that holds data toward a zero or tiny window this long; "
     "0 = never",
     kLoad, K::kValue, set_seconds<&S::persist_timeout, 0, 86400000>, show_seconds<&S::persist_timeout>},
    {"idle-timeout", "SECONDS", "reset an ESTABLISHED connection with no data either way this long; 0 = never",
     kLoad, K::kValue, set_seconds<&S::idle_timeout, 0, 86400000>, show_seconds<&S::idle_timeout>},
    {"keepalive-time", "SECONDS",
     "send TCP keep-alive probes after this long without a segment from the peer; 0 = off",
     kLoad, K::kValue, set_seconds<&S::keepalive_time, 0, 86400000>, show_seconds<&S::keepalive_time>},
    {"keepalive-intvl", "SECONDS", "time between keep-alive probes", kLoad, K::kValue,
     set_seconds<&S::keepalive_intvl, 1000, 86400000>, show_seconds<&S::keepalive_intvl>},
    {"keepalive-probes", "N", "unanswered keep-alive probes before the connection is reset", kLoad,
     K::kValue, set_uint<&S::keepalive_probes, 1, 255>, show_uint<&S::keepalive_probes>},

    {"port", "N", "DPDK port id to serve", kPort, K::kValue, set_port, show_port},
    {"drivers-config", "DIR", "directory of driver profiles (*.conf); default: the first that exists of $SYNMILL_DRIVERS_CONFIG, <executable>/../../drivers-config (build tree), <executable>/../share/synmill/drivers-config (installed), ./drivers-config, " SYNMILL_DATADIR "/synmill/drivers-config, /usr/share/synmill/drivers-config", kPort, K::kValue,
     set_drivers_config, show_drivers_config},
    {"port-opt", "KEY=VALUE[,...]", "override driver-profile keys, e.g. rx_desc=2048,mtu=9000 (repeatable)",
     kPort, K::kList, set_port_opt, show_port_opt, [](AppConfig& c) { c.port_opts.clear(); }},
    {"mbufs", "N", "mbuf pool size; 0 = what the queues and cores need", kPort, K::kValue, set_mbufs,
     show_mbufs},

    {"config", "FILE", "read settings from FILE (key = value lines; the command line wins)", kProc,
     K::kValue, set_config, show_config, nullptr, true},
    {"eal", "ARGS", "EAL arguments (-l, -a, --file-prefix, ...) used when none come before '--'; for the config file of a service", kProc,
     K::kValue, set_eal, show_eal},
    {"no-telemetry", "", "do not register the /synmill/* telemetry commands", kProc, K::kFlag,
     set_no_telemetry, show_no_telemetry},
    {"status-interval", "SECONDS", "print a status line this often; 0 = never", kProc, K::kValue,
     set_status_interval, show_status_interval},
    {"grace", "SECONDS", "on SIGINT/SIGTERM, time given to close connections with FIN", kProc,
     K::kValue, set_grace, show_grace},
    {"help", "", "print this help and exit", kProc, K::kFlag, set_help, show_help, nullptr, true},
});

std::array<std::string_view, kOptions.size()> make_names() {
  std::array<std::string_view, kOptions.size()> names{};
  for (size_t i = 0; i < kOptions.size(); ++i) names[i] = kOptions[i].name;
  return names;
}

}  // namespace

std::span<const AppOption> app_options() { return kOptions; }

std::span<const std::string_view> app_option_names() {
  static const auto names = make_names();
  return names;
}

const AppOption* find_app_option(std::string_view name) {
  for (const AppOption& o : kOptions) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace synmill::dp
