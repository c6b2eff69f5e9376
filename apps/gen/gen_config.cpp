#include "gen/gen_config.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
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

std::string dst_text(const GenConfig& c) {
  if (c.v6) return fmt::format("[{}]:{}", dp::format_ipv6(c.dst_ip6), c.dst_port);
  return fmt::format("{}:{}", dp::format_ipv4(c.dst_ip), c.dst_port);
}

std::string http_host(const GenConfig& c) {
  std::string t = dst_text(c);
  if (c.dst_port == 80) t.resize(t.size() - 3);  // ":80"
  return t;
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

// An IPv6 address a packet may carry as its source or destination: not ::,
// ::1, multicast or link-local (the endpoint's --addr rules, RFC 4291 §2.5).
std::string unicast6(std::string_view text, const wire::Ipv6Addr& a) {
  if (a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_link_local()) {
    return fmt::format("'{}': not a global or unique-local unicast address", text);
  }
  return {};
}

uint32_t low32(const wire::Ipv6Addr& a) {
  return uint32_t{a.b[12]} << 24 | uint32_t{a.b[13]} << 16 | uint32_t{a.b[14]} << 8 | a.b[15];
}

// "FIRST-LAST" of IPv6 addresses that differ only in their low 32 bits.
std::string range6(std::string_view v, GenConfig& c) {
  const auto dash = v.find('-');
  if (dash == std::string_view::npos) return fmt::format("'{}': expected FIRST-LAST addresses", v);
  dp::AddrRange6 r;
  if (auto e = take(dp::parse_ipv6(v.substr(0, dash)), r.first); !e.empty()) return e;
  if (auto e = take(dp::parse_ipv6(v.substr(dash + 1)), r.last); !e.empty()) return e;
  if (auto e = unicast6(v.substr(0, dash), r.first); !e.empty()) return e;
  if (auto e = unicast6(v.substr(dash + 1), r.last); !e.empty()) return e;
  if (std::memcmp(r.first.b.data(), r.last.b.data(), 12) != 0) {
    return fmt::format("'{}': the first and last address must differ only in their last 32 bits", v);
  }
  if (low32(r.first) > low32(r.last)) return fmt::format("'{}': the first address is above the last", v);
  c.src_addrs6 = r;
  c.src_addrs = dp::AddrRange{low32(r.first), low32(r.last)};
  return {};
}

// The sources (--src-addrs, else the first --addr of the destination's
// family), checked against the destination.
std::string settle_sources(GenConfig& c) {
  const bool given4 = c.src_addrs6.first.is_unspecified() && c.src_addrs.first != 0;
  const bool given6 = !c.src_addrs6.first.is_unspecified();
  if (c.v6 && given4) {
    return fmt::format("--dst {} is IPv6 and --src-addrs IPv4: sources and destination are of one family",
                       dst_text(c));
  }
  if (!c.v6 && given6) {
    return fmt::format("--dst {} is IPv4 and --src-addrs IPv6: sources and destination are of one family",
                       dst_text(c));
  }
  const auto same_family = std::find_if(c.addrs.begin(), c.addrs.end(), [&c](const dp::Address& a) { return a.v6 == c.v6; });
  if (same_family == c.addrs.end() && !given4 && !given6) {
    return fmt::format("--dst {} is {} and no --addr is: give the generator an {} address (e.g. --addr {})",
                       dst_text(c), c.v6 ? "IPv6" : "IPv4", c.v6 ? "IPv6" : "IPv4",
                       c.v6 ? "2001:2::1/64" : "198.18.0.1/24");
  }
  for (const dp::Address& a : c.addrs) {
    if (a.v6 == c.v6 && (c.v6 ? a.ip6 == c.dst_ip6 : a.ip == c.dst_ip)) {
      return fmt::format("--dst {} is one of the generator's own --addr", dst_text(c));
    }
  }
  if (!c.v6) {
    if (!given4) c.src_addrs = dp::AddrRange{same_family->ip, same_family->ip};
    if (c.dst_ip >= c.src_addrs.first && c.dst_ip <= c.src_addrs.last) {
      return fmt::format("--src-addrs contains the destination {}", dp::format_ipv4(c.dst_ip));
    }
    return {};
  }
  if (!given6) {
    c.src_addrs6 = dp::AddrRange6{same_family->ip6, same_family->ip6};
    c.src_addrs = dp::AddrRange{low32(same_family->ip6), low32(same_family->ip6)};
  }
  if (c.src_addrs6.contains(c.dst_ip6)) {
    return fmt::format("--src-addrs contains the destination {}", dp::format_ipv6(c.dst_ip6));
  }
  // Connections hold their local IPv6 address as an index into the TCP
  // core's table of local addresses (tcp::Stack::add_local6), which every
  // IPv6 --addr takes a place in too. Raw SYNs never enter it.
  const auto addrs6 = static_cast<uint64_t>(
      std::count_if(c.addrs.begin(), c.addrs.end(), [](const dp::Address& a) { return a.v6; }));
  const uint64_t sources = uint64_t{c.src_addrs.last} - c.src_addrs.first + 1;
  if (c.mode != Mode::kSyn && sources + addrs6 > tcp::Stack::kMaxLocal6) {
    return fmt::format("--src-addrs: {} IPv6 sources and {} IPv6 --addr: --mode {} takes at most {} local IPv6 "
                       "addresses in all (the TCP core's table; --mode syn takes any number)",
                       sources, addrs6, to_string(c.mode), tcp::Stack::kMaxLocal6);
  }
  return {};
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
         auto e = take(dp::parse_address(v), a);  // IPv4 or IPv6, with the endpoint's rules
         if (e.empty()) c.addrs.push_back(a);
         return e;
       }},
      {"dst",
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v.starts_with('[')) {  // [ADDR6]:PORT (RFC 3986 §3.2.2)
           const auto close = v.find(']');
           if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') {
             return fmt::format("'{}': expected [IPV6]:PORT, e.g. [2001:2::2]:80", v);
           }
           if (auto e = take(dp::parse_ipv6(v.substr(1, close - 1)), c.dst_ip6); !e.empty()) return e;
           if (auto e = unicast6(v.substr(1, close - 1), c.dst_ip6); !e.empty()) return e;
           c.v6 = true;
           c.dst_ip = 0;
           return take(port_value(v.substr(close + 2)), c.dst_port);
         }
         const auto colon = v.rfind(':');
         if (colon == std::string_view::npos) return fmt::format("'{}': expected ADDR:PORT", v);
         if (v.substr(0, colon).find(':') != std::string_view::npos) {
           // "2001:2::2:80" reads as an address or as an address and a port.
           return fmt::format("'{}': an IPv6 destination goes in brackets, e.g. [2001:2::2]:80", v);
         }
         if (auto e = take(dp::parse_ipv4(v.substr(0, colon)), c.dst_ip); !e.empty()) return e;
         c.v6 = false;
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
       [](GenConfig& c, std::string_view v) -> std::string {
         if (v.find(':') == std::string_view::npos) {
           c.src_addrs6 = {};
           return range(v, dp::parse_ipv4, c.src_addrs.first, c.src_addrs.last, "address");
         }
         return range6(v, c);
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
      {"hold-pause",
       [](GenConfig& c, std::string_view v) {
         return take(dp::parse_seconds(v, tcp::Duration::ms(0), tcp::Duration::s(600)), c.hold_pause);
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
  if (c.dst_ip == 0 && !c.v6) return std::string("--dst is required: the endpoint, e.g. --dst 198.18.0.2:80");
  if (c.random_sources && c.mode != Mode::kSyn) return std::string("--random goes with --mode syn");
  if (c.hold > 0 && c.mode != Mode::kConnect) return std::string("--hold goes with --mode connect (hold mode holds --concurrency)");
  if (c.hold_pause.count_ns() > 0 && c.hold == 0) return std::string("--hold-pause goes with --hold");
  if (auto e = settle_sources(c); !e.empty()) return e;
  return c;
}

std::string gen_help_text() {
  return R"(synmill-gen: a stateful TCP load generator on DPDK (active opens on the synmill core).

usage: synmill-gen [EAL options] -- --mode syn|connect|hold --addr A/P --dst ADDR:PORT [options]

IPv4 or IPv6: --dst names the family (198.18.0.2:80 or [2001:2::2]:80), and every source
is of that family (a source of the other family is refused).

modes:
  syn       SYNs from the source ranges at --rate (or as fast as possible); counts SYN-ACKs
            and RSTs back and the SYN -> SYN-ACK latency; answers nothing (no RST, no ACK)
  connect   full handshake, optional request/response, then close (--close) at --rate
            connections/s with at most --concurrency open at once
  hold      open --concurrency connections and keep them established until --duration ends

options:
  --mode M                 syn, connect or hold (required)
  --addr A/P               the generator's address and prefix, IPv4 (198.18.0.1/24) or IPv6
                           (2001:2::1/64) (required; repeatable; both families may be given)
  --dst ADDR:PORT          the endpoint (required): A.B.C.D:PORT, or [IPV6]:PORT (the brackets
                           are required: 2001:2::2:80 would read two ways)
  --dst-mac MAC            the next hop's MAC: no ARP / Neighbor Discovery (e.g. toward
                           dpdk-testpmd macswap)
  --src-ports LO-HI        source ports (default 1024-65535); chosen so replies land on the
                           opening core (RSS-aware, as mTCP does)
  --src-addrs FIRST-LAST   source addresses (default: the first --addr of --dst's family); the
                           generator answers ARP or Neighbor Solicitations for all of them.
                           IPv6: FIRST and LAST differ only in their last 32 bits
                           (2001:2::1:1-2001:2::1:3f); connect and hold take at most 64 IPv6
                           addresses with the --addr ones, syn any number
  --rate N|max             SYN/s (syn) or connections/s (connect) over all cores (default max)
  --duration S             seconds to generate (default 10)
  --count N                stop after N SYNs or connections (over all cores), or at --duration
  --random                 syn: draw each source address and port at random from the ranges
                           (spoofed sources, as a flood has them)
  --drain S                after --duration, seconds to let open connections finish (default 2)
  --concurrency N          connect: cap on open connections; hold: connections (default 1000)
  --hold N                 connect: first open N idle connections and hold them to the end
                           (connections/s while holding N)
  --hold-pause S           connect --hold: wait S seconds once all held connections are
                           established before the load starts (weigh the server holding
                           only them; default 0)
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
