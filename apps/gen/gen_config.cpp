#include "gen/gen_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "dp/driver_profile.hpp"

namespace synmill::gen {

const char* to_string(Mode m) {
  switch (m) {
    case Mode::kSyn: return "syn";
    case Mode::kConnect: return "connect";
    case Mode::kHold: return "hold";
  }
  return "?";
}

const char* to_string(CloseKind c) {
  switch (c) {
    case CloseKind::kClient: return "client";
    case CloseKind::kServer: return "server";
    case CloseKind::kRst: return "rst";
  }
  return "?";
}

namespace {

using Setter = std::function<std::string(GenConfig&, std::string_view)>;  // "" or the reason

template <class T>
std::string take(const dp::Parsed<T>& p, T& out) {
  if (!dp::parsed_ok(p)) return std::get<1>(p);
  out = std::get<0>(p);
  return {};
}

// A fraction from 0 to 1 ("0.05").
std::string fraction(std::string_view v, double& out) {
  const std::string t(v);
  char* end = nullptr;
  const double p = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !(p >= 0.0 && p <= 1.0)) {
    return fmt::format("'{}': expected a fraction from 0 to 1", v);
  }
  out = p;
  return {};
}

// "LO-HI" of two values parsed by `one`, LO <= HI.
template <class T, class F>
std::string range(std::string_view v, F one, T& lo, T& hi, std::string_view what) {
  const auto dash = v.find('-');
  if (dash == std::string_view::npos) return fmt::format("'{}': expected FIRST-LAST {}", v, what);
  T a{}, b{};
  if (auto e = take(one(v.substr(0, dash)), a); !e.empty()) return e;
  if (auto e = take(one(v.substr(dash + 1)), b); !e.empty()) return e;
  if (a > b) return fmt::format("'{}': the first {} is above the last", v, what);
  lo = a;
  hi = b;
  return {};
}

dp::Parsed<uint16_t> port_value(std::string_view v) {
  auto p = dp::parse_uint(v, 1, 65535);
  if (!dp::parsed_ok(p)) return std::get<1>(p);
  return static_cast<uint16_t>(std::get<0>(p));
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> m{
      {"mode",
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v == "syn") c.mode = Mode::kSyn;
         else if (v == "connect") c.mode = Mode::kConnect;
         else if (v == "hold") c.mode = Mode::kHold;
         else return fmt::format("'{}': expected syn, connect or hold", v);
         return {};
       }},
      {"addr",
       [](GenConfig& c, std::string_view v) {
         dp::Address a;
         auto e = take(dp::parse_address(v), a);
         // dp::parse_address takes IPv6 too (the endpoint's --addr); the
         // generator's sources are IPv4 until it learns IPv6 (issue 15).
         if (e.empty() && a.v6) return fmt::format("'{}': synmill-gen takes IPv4 addresses only (A.B.C.D/P)", v);
         if (e.empty()) c.addrs.push_back(a);
         return e;
       }},
      {"dst",
       [](GenConfig& c, std::string_view v) -> std::string {
         const auto colon = v.rfind(':');
         if (colon == std::string_view::npos) return fmt::format("'{}': expected ADDR:PORT", v);
         if (auto e = take(dp::parse_ipv4(v.substr(0, colon)), c.dst_ip); !e.empty()) return e;
         return take(port_value(v.substr(colon + 1)), c.dst_port);
       }},
      {"dst-mac",
       [](GenConfig& c, std::string_view v) -> std::string {
         std::array<uint8_t, 6> mac{};
         unsigned b[6];
         char tail = 0;
         const std::string text(v);
         if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                         &tail) != 6 || text.size() != 17) {
           return fmt::format("'{}': expected a MAC address like 02:00:00:00:00:01", v);
         }
         for (int i = 0; i < 6; ++i) mac[static_cast<size_t>(i)] = static_cast<uint8_t>(b[i]);
         c.dst_mac = mac;
         return {};
       }},
      {"src-ports",
       [](GenConfig& c, std::string_view v) { return range(v, port_value, c.src_ports.first, c.src_ports.last, "port"); }},
      {"src-addrs",
       [](GenConfig& c, std::string_view v) {
         return range(v, dp::parse_ipv4, c.src_addrs.first, c.src_addrs.last, "address");
       }},
      {"rate",
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v == "max") {
           c.rate = 0;
           return {};
         }
         return take(dp::parse_uint(v, 1, 1'000'000'000), c.rate);
       }},
      {"count",
       [](GenConfig& c, std::string_view v) { return take(dp::parse_uint(v, 1, 1'000'000'000'000ull), c.count); }},
      {"duration",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(100), tcp::Duration::s(86400)), c.duration);
       }},
      {"drain",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(0), tcp::Duration::s(600)), c.drain);
       }},
      {"concurrency",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 1, 16'000'000), n);
         c.concurrency = static_cast<uint32_t>(n);
         return e;
       }},
      {"hold",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 0, 16'000'000), n);
         c.hold = static_cast<uint32_t>(n);
         return e;
       }},
      {"request",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_bytes(v, 0, (1u << 29) - 1), n);
         c.request = static_cast<uint32_t>(n);
         return e;
       }},
      {"response",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_bytes(v, 0, 1u << 30), n);
         c.response = static_cast<uint32_t>(n);
         return e;
       }},
      {"close",
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v == "client") c.close = CloseKind::kClient;
         else if (v == "server") c.close = CloseKind::kServer;
         else if (v == "rst") c.close = CloseKind::kRst;
         else return fmt::format("'{}': expected client, server or rst", v);
         return {};
       }},
      {"time-wait",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(1), tcp::Duration::s(240)), c.time_wait);
       }},
      {"drop-final-acks",
       [](GenConfig& c, std::string_view v) { return fraction(v, c.drop_final_acks); }},
      {"drop-fin-acks",
       [](GenConfig& c, std::string_view v) { return fraction(v, c.drop_fin_acks); }},
      {"rto",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t ms = 0;
         auto e = take(dp::parse_uint(v, 10, 60'000), ms);
         c.fixed_rto = tcp::Duration::ms(static_cast<int64_t>(ms));
         return e;
       }},
      {"retries",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 1, 15), n);
         c.retries = static_cast<uint8_t>(n);
         return e;
       }},
      {"http",
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v == "close") c.http = HttpRequest::kClose;
         else if (v == "keep-alive") c.http = HttpRequest::kKeepAlive;
         else if (v == "mix") c.http = HttpRequest::kMix;
         else return fmt::format("'{}': expected close, keep-alive or mix", v);
         return {};
       }},
      {"then-rate",
       [](GenConfig& c, std::string_view v) { return take(dp::parse_uint(v, 1, 1'000'000'000), c.then_rate); }},
      {"then-duration",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(100), tcp::Duration::s(86400)), c.then_duration);
       }},
      {"flap",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 1, 1000), n);
         c.flaps = static_cast<uint32_t>(n);
         return e;
       }},
      {"flap-down",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(10), tcp::Duration::s(60)), c.flap_down);
       }},
      {"report-every",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(100), tcp::Duration::s(3600)), c.report_every);
       }},
      {"port",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 0, 1023), n);
         c.port_id = static_cast<uint16_t>(n);
         return e;
       }},
      {"drivers-config",
       [](GenConfig& c, std::string_view v) -> std::string {
         c.drivers_config = std::string(v);
         return {};
       }},
      {"port-opt",
       [](GenConfig& c, std::string_view v) -> std::string {
         auto o = dp::parse_overrides(v);
         if (!o) return o.error();
         c.port_opts.insert(c.port_opts.end(), o->begin(), o->end());
         return {};
       }},
      {"mbufs",
       [](GenConfig& c, std::string_view v) -> std::string {
         uint64_t n = 0;
         auto e = take(dp::parse_uint(v, 1024, 1u << 26), n);
         c.mbufs = static_cast<uint32_t>(n);
         return e;
       }},
  };
  return m;
}

bool is_flag(std::string_view name) {
  return name == "json" || name == "help" || name == "random" || name == "no-time-wait" || name == "ignore-fin-rtx";
}

}  // namespace

dp::Parsed<GenConfig> parse_gen_args(const std::vector<std::string>& args) {
  GenConfig c;
  bool have_mode = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h") a = "--help";
    if (!a.starts_with("--")) return fmt::format("unexpected argument '{}' (options start with --; see --help)", a);
    std::string_view name = a.substr(2);
    std::string_view value;
    bool inline_value = false;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (is_flag(name)) {
      if (inline_value) return fmt::format("--{} takes no value", name);
      (name == "json"             ? c.json
       : name == "random"         ? c.random_sources
       : name == "no-time-wait"   ? c.no_time_wait
       : name == "ignore-fin-rtx" ? c.ignore_fin_retransmits
                                  : c.help) = true;
      continue;
    }
    const auto it = setters().find(name);
    if (it == setters().end()) return fmt::format("unknown option --{} (see --help)", name);
    if (!inline_value) {
      if (i + 1 >= args.size()) return fmt::format("--{} needs a value (see --help)", name);
      value = args[++i];
    }
    if (auto e = it->second(c, value); !e.empty()) return fmt::format("--{}: {}", name, e);
    have_mode = have_mode || name == "mode";
  }
  if (c.help) return c;
  if (!have_mode) return std::string("--mode is required: syn, connect or hold");
  if (c.addrs.empty()) return std::string("--addr is required: the generator's address, e.g. --addr 198.18.0.1/24");
  if (c.dst_ip == 0) return std::string("--dst is required: the endpoint, e.g. --dst 198.18.0.2:80");
  for (const dp::Address& a : c.addrs) {
    if (a.ip == c.dst_ip) return fmt::format("--dst {} is one of the generator's own --addr", dp::format_ipv4(c.dst_ip));
  }
  if (c.random_sources && c.mode != Mode::kSyn) return std::string("--random goes with --mode syn");
  if (c.hold > 0 && c.mode != Mode::kConnect) return std::string("--hold goes with --mode connect (hold mode holds --concurrency)");
  if (c.src_addrs.first == 0) c.src_addrs = dp::AddrRange{c.addrs.front().ip, c.addrs.front().ip};
  if (c.dst_ip >= c.src_addrs.first && c.dst_ip <= c.src_addrs.last) {
    return fmt::format("--src-addrs contains the destination {}", dp::format_ipv4(c.dst_ip));
  }
  return c;
}

std::string gen_help_text() {
  return R"(synmill-gen: a stateful TCP load generator on DPDK (active opens on the synmill core).

usage: synmill-gen [EAL options] -- --mode syn|connect|hold --addr A/P --dst ADDR:PORT [options]

modes:
  syn       SYNs from the source ranges at --rate (or as fast as possible); counts SYN-ACKs
            and RSTs back and the SYN -> SYN-ACK latency; answers nothing (no RST, no ACK)
  connect   full handshake, optional request/response, then close (--close) at --rate
            connections/s with at most --concurrency open at once
  hold      open --concurrency connections and keep them established until --duration ends

options:
  --mode M                 syn, connect or hold (required)
  --addr A/P               the generator's address and prefix (required; repeatable)
  --dst ADDR:PORT          the endpoint (required)
  --dst-mac MAC            the next hop's MAC: no ARP (e.g. toward dpdk-testpmd macswap)
  --src-ports LO-HI        source ports (default 1024-65535); chosen so replies land on the
                           opening core (RSS-aware, as mTCP does)
  --src-addrs FIRST-LAST   source addresses (default: the first --addr); the generator answers
                           ARP for all of them
  --rate N|max             SYN/s (syn) or connections/s (connect) over all cores (default max)
  --duration S             seconds to generate (default 10)
  --count N                stop after N SYNs or connections (over all cores), or at --duration
  --random                 syn: draw each source address and port at random from the ranges
                           (spoofed sources, as a flood has them)
  --drain S                after --duration, seconds to let open connections finish (default 2)
  --concurrency N          connect: cap on open connections; hold: connections (default 1000)
  --hold N                 connect: first open N idle connections and hold them to the end
                           (connections/s while holding N)
  --request BYTES          bytes sent once connected (default 0; K/M/G suffixes)
  --response BYTES         bytes expected back before closing (default 0)
  --close client|server|rst  who ends the connection: we send FIN first, we wait for the
                           server's FIN, or we send RST (default client)
  --time-wait S            the generator's own TIME_WAIT (default 1; 2^20 entries per core)
  --no-time-wait           keep no TIME_WAIT: a tuple is reused as soon as its connection closed
                           (with a small --src-ports range: quick reuse, as dperf does)
  --drop-final-acks P      drop this fraction (0..1) of our handshake-final ACKs and of our
                           answers to the server's FIN (a lossy or careless client)
  --drop-fin-acks P        the same for our answers to the server's FIN only (its orphans
                           linger in LAST_ACK while we reuse the tuple)
  --ignore-fin-rtx         a FIN for a tuple we no longer hold gets no answer (no RST): a
                           client that forgot the connection it closed
  --rto MS                 fixed retransmission timeout (no backoff, no RTT estimate)
  --retries N              SYN, data and FIN retransmissions before giving up (with --rto:
                           a client that gives up fast)
  --http close|keep-alive|mix  the request is "GET / HTTP/1.1" with "Connection: close",
                           without it, or alternating; set --response to the reply's size
  --then-rate N            after --duration, go on at N/s (connect) ...
  --then-duration S        ... for S more seconds: a load that rises or falls mid-run
  --flap N                 the link goes down (the port stops: memif disconnects) and comes
                           back N times, evenly over --duration
  --flap-down S            how long the link stays down each time (default 0.2)
  --report-every S         status line period (default 1)
  --json                   print the final result as one JSON object on stdout
  --port N                 DPDK port id (default 0)
  --drivers-config DIR     profiles directory (default: found next to the binary)
  --port-opt KEY=VALUE     override a profile key (repeatable)
  --mbufs N                mbuf pool size (default: computed)
  --help                   this text

Every second (and at the end): SYN sent, SYN-ACK received, established/s, closes/s by kind,
failures by reason, and latency percentiles (p50, p99, p99.9) for SYN -> SYN-ACK and connect.
Exit status: 0 on a completed run, 1 on a start-up failure, 2 on bad options.
)";
}

}  // namespace synmill::gen
