// synmill's options: command line, config file, precedence, and every error
// message. No EAL needed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <unistd.h>

#include "dp/app_config.hpp"
#include "dp/app_options.hpp"

using namespace synmill;
using namespace synmill::dp;

namespace {

using Args = std::vector<std::string>;

const Args kBase = {"--addr", "198.18.0.1/24", "--listen", "80:http"};

Args with_base(Args extra) {
  Args a = kBase;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

AppConfig parse_ok(const Args& args) {
  auto r = parse_app_args(args);
  INFO((r.ok() ? std::string("ok") : r.error()));
  REQUIRE(r.ok());
  return *r;
}

std::string parse_error(const Args& args) {
  auto r = parse_app_args(args);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find('\n') == std::string::npos);  // one line
  return r.error();
}

std::string config_error(std::string_view text) {
  AppConfig cfg;
  auto r = parse_config_text(text, "synmill.conf", cfg);
  if (!r.ok()) return r.error();
  auto c = check_config(cfg);
  return c.ok() ? std::string("ok") : c.error();
}

// A file in the temporary directory, removed at the end of the scope.
struct TempFile {
  std::string path;
  explicit TempFile(std::string_view text) {
    path = (std::filesystem::temp_directory_path() /
            ("synmill-app-config-" + std::to_string(::getpid()) + ".conf"))
               .string();
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

struct Mapping {
  Args args;
  std::function<bool(const AppConfig&)> check;
};

}  // namespace

TEST_CASE("app options: the minimal command line gives the documented defaults", "[dp][app]") {
  const AppConfig c = parse_ok(kBase);
  REQUIRE(c.addrs.size() == 1);
  CHECK(c.addrs[0].ip == 0xC6120001u);
  CHECK(c.addrs[0].prefix == 24);
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0] == ListenSpec{80, "http"});
  const tcp::StackConfig d;
  CHECK(c.tcp.max_conns == d.max_conns);
  CHECK(c.tcp.cookies == tcp::CookieMode::kOverflow);
  CHECK(c.tcp.time_wait == d.time_wait);
  CHECK(c.port_id == 0);
  CHECK(c.drivers_config.empty());
  CHECK(c.telemetry);
  CHECK(c.status_interval == tcp::Duration::s(1));
  CHECK(c.grace == tcp::Duration::s(5));
  CHECK(c.mbufs == 0);
  CHECK_FALSE(c.help);
}

TEST_CASE("app options: every option maps onto its setting", "[dp][app]") {
  using tcp::Duration;
  const std::vector<Mapping> cases = {
      {{"--addr", "198.19.1.2/16"},
       [](const AppConfig& c) { return c.addrs.size() == 2 && c.addrs[1].ip == 0xC6130102u && c.addrs[1].prefix == 16; }},
      {{"--listen", "7:echo,9:discard", "--listen=8080:send:100"},
       [](const AppConfig& c) {
         return c.listeners == std::vector<ListenSpec>{{80, "http"}, {7, "echo"}, {9, "discard"}, {8080, "send:100"}};
       }},
      {{"--syncookies", "always"}, [](const AppConfig& c) { return c.tcp.cookies == tcp::CookieMode::kAlways; }},
      {{"--syncookies", "off"}, [](const AppConfig& c) { return c.tcp.cookies == tcp::CookieMode::kOff; }},
      {{"--cookie-lifetime", "2.5"},
       [](const AppConfig& c) { return c.tcp.cookie_lifetime == tcp::Duration::ms(2500); }},
      {{"--listen", "7:hold"}, [](const AppConfig& c) { return c.listeners.back().app == "hold"; }},
      {{"--connect", "198.18.0.9:7x3", "--connect=198.18.0.10:80"},
       [](const AppConfig& c) {
         return c.connects.size() == 2 && c.connects[0].ip == 0xC6120009u && c.connects[0].port == 7 &&
                c.connects[0].count == 3 && c.connects[1].count == 1 && c.connects[1].port == 80 &&
                format_connect(c.connects[0]) == "198.18.0.9:7x3";
       }},
      {{"--addr", "2001:2::1/64", "--connect", "[2001:2::9]:7x3", "--connect=[2001:2:0::a]:80"},
       [](const AppConfig& c) {
         return c.connects.size() == 2 && c.connects[0].v6 && c.connects[0].ip == 0 &&
                c.connects[0].ip6 == std::get<0>(parse_ipv6("2001:2::9")) && c.connects[0].port == 7 &&
                c.connects[0].count == 3 && c.connects[1].v6 && c.connects[1].count == 1 &&
                c.connects[1].port == 80 && format_connect(c.connects[0]) == "[2001:2::9]:7x3" &&
                format_connect(c.connects[1]) == "[2001:2::a]:80";
       }},
      {{"--backlog", "77"}, [](const AppConfig& c) { return c.tcp.backlog == 77; }},
      {{"--accept-queue", "78"}, [](const AppConfig& c) { return c.tcp.accept_queue == 78; }},
      {{"--max-conns", "1000"}, [](const AppConfig& c) { return c.tcp.max_conns == 1000; }},
      {{"--max-time-wait", "1001"}, [](const AppConfig& c) { return c.tcp.max_time_wait == 1001; }},
      {{"--time-wait", "2.5"}, [](const AppConfig& c) { return c.tcp.time_wait == Duration::ms(2500); }},
      {{"--fin-wait2-timeout", "30"}, [](const AppConfig& c) { return c.tcp.fin_wait2_timeout == Duration::s(30); }},
      {{"--close-wait-timeout", "0"}, [](const AppConfig& c) { return c.tcp.close_wait_timeout == Duration{}; }},
      {{"--close-wait-timeout", "1800"}, [](const AppConfig& c) { return c.tcp.close_wait_timeout == Duration::s(1800); }},
      {{"--syn-retries", "3"}, [](const AppConfig& c) { return c.tcp.syn_retries == 3; }},
      {{"--synack-retries", "2"}, [](const AppConfig& c) { return c.tcp.synack_retries == 2; }},
      {{"--fin-retries", "4"}, [](const AppConfig& c) { return c.tcp.fin_retries == 4; }},
      {{"--data-retries", "9"}, [](const AppConfig& c) { return c.tcp.data_retries == 9; }},
      {{"--rto-initial", "300"}, [](const AppConfig& c) { return c.tcp.rto_initial == Duration::ms(300); }},
      {{"--rto-min", "100"}, [](const AppConfig& c) { return c.tcp.rto_min == Duration::ms(100); }},
      {{"--rto-max", "5000"}, [](const AppConfig& c) { return c.tcp.rto_max == Duration::ms(5000); }},
      {{"--time-wait-rst", "close"},
       [](const AppConfig& c) { return c.tcp.time_wait_rst == tcp::TimeWaitRstPolicy::kClose; }},
      {{"--send-buf", "128K"}, [](const AppConfig& c) { return c.tcp.send_buf == 128 * 1024; }},
      {{"--rcv-wnd", "32768"}, [](const AppConfig& c) { return c.tcp.rcv_wnd == 32768; }},
      {{"--mss", "1200"}, [](const AppConfig& c) { return c.tcp.mss == 1200; }},
      {{"--wscale", "9"}, [](const AppConfig& c) { return c.tcp.wscale == 9; }},
      {{"--no-timestamps"}, [](const AppConfig& c) { return !c.tcp.timestamps; }},
      {{"--no-sack"}, [](const AppConfig& c) { return !c.tcp.sack; }},
      {{"--send-chunks", "4096"}, [](const AppConfig& c) { return c.tcp.send_chunks == 4096; }},
      {{"--max-orphans", "5000"}, [](const AppConfig& c) { return c.tcp.max_orphans == 5000; }},
      {{"--orphan-retries", "1"}, [](const AppConfig& c) { return c.tcp.orphan_retries == 1; }},
      {{"--min-conn-buf", "4K"}, [](const AppConfig& c) { return c.tcp.min_conn_buf == 4096; }},
      {{"--pool-reserve", "100"}, [](const AppConfig& c) { return c.tcp.pool_reserve == 100; }},
      {{"--persist-timeout", "0"}, [](const AppConfig& c) { return c.tcp.persist_timeout == Duration{}; }},
      {{"--idle-timeout", "30"}, [](const AppConfig& c) { return c.tcp.idle_timeout == Duration::s(30); }},
      {{"--keepalive-time", "7200"},
       [](const AppConfig& c) { return c.tcp.keepalive_time == Duration::s(7200); }},
      {{"--keepalive-intvl", "75"}, [](const AppConfig& c) { return c.tcp.keepalive_intvl == Duration::s(75); }},
      {{"--keepalive-probes", "9"}, [](const AppConfig& c) { return c.tcp.keepalive_probes == 9; }},
      {{"--port", "3"}, [](const AppConfig& c) { return c.port_id == 3; }},
      {{"--drivers-config", "/etc/x"}, [](const AppConfig& c) { return c.drivers_config == "/etc/x"; }},
      {{"--port-opt", "rx_desc=512,offloads=rx_ip_cksum,tx_ip_cksum", "--port-opt", "mtu=9000"},
       [](const AppConfig& c) {
         return c.port_opts == std::vector<ProfileOverride>{
                                   {"rx_desc", "512"}, {"offloads", "rx_ip_cksum,tx_ip_cksum"}, {"mtu", "9000"}};
       }},
      {{"--mbufs", "8192"}, [](const AppConfig& c) { return c.mbufs == 8192; }},
      {{"--eal=-l 1 --file-prefix x"},
       [](const AppConfig& c) { return c.eal_args == std::vector<std::string>{"-l", "1", "--file-prefix", "x"}; }},
      {{"--no-telemetry"}, [](const AppConfig& c) { return !c.telemetry; }},
      {{"--status-interval", "0"}, [](const AppConfig& c) { return c.status_interval == Duration{}; }},
      {{"--grace", "0.25"}, [](const AppConfig& c) { return c.grace == Duration::ms(250); }},
      {{"--help"}, [](const AppConfig& c) { return c.help; }},
  };
  std::set<std::string> covered;
  for (const Mapping& m : cases) {
    INFO(m.args[0]);
    const AppConfig c = parse_ok(with_base(m.args));
    CHECK(m.check(c));
    std::string name = m.args[0].substr(2);
    name = name.substr(0, name.find('='));
    covered.insert(name);
  }
  covered.insert("config");  // its own test case below
  for (std::string_view name : app_option_names()) {
    INFO(name);
    CHECK(covered.count(std::string(name)) == 1);
  }
}

TEST_CASE("app options: shown values parse back to themselves", "[dp][app]") {
  const AppConfig c = parse_ok(with_base({"--time-wait", "0.125", "--send-buf", "3M", "--rcv-wnd", "1000",
                                          "--no-sack", "--port-opt", "mtu=9000"}));
  for (const AppOption& o : app_options()) {
    if (o.command_line_only) continue;
    INFO(o.name);
    const std::string shown = o.show(c);
    AppConfig again;
    if (o.kind == OptionKind::kFlag) {
      CHECK_FALSE(o.set(again, shown).has_value());
    } else if (!shown.empty()) {
      CHECK_FALSE(o.set(again, shown).has_value());
    }
    CHECK(o.show(again) == shown);
  }
}

TEST_CASE("app options: --name=value, -h and flags", "[dp][app]") {
  CHECK(parse_ok(with_base({"--backlog=12"})).tcp.backlog == 12);
  CHECK(parse_ok({"-h"}).help);
  // --help needs nothing else and wins over errors in the other options' values
  CHECK(parse_ok({"--help", "--backlog", "x"}).help);
  CHECK(parse_error(with_base({"--no-sack=yes"})) == "--no-sack takes no value");
}

TEST_CASE("app options: error messages name the option", "[dp][app]") {
  CHECK(parse_error(with_base({"--adr", "1.2.3.4/24"})) == "unknown option '--adr' (did you mean '--addr'?)");
  CHECK(parse_error(with_base({"--frobnicate"})) == "unknown option '--frobnicate': see --help");
  CHECK(parse_error(with_base({"stray"})) == "unexpected argument 'stray': options start with -- (see --help)");
  CHECK(parse_error(with_base({"--backlog"})) == "--backlog needs a value: --backlog N");
  CHECK(parse_error(with_base({"--backlog", "--no-sack"})) == "--backlog needs a value: --backlog N");
  CHECK(parse_error(with_base({"--backlog", "ten"})) ==
        "--backlog: bad number 'ten': expected a whole number in 1..16777216");
  CHECK(parse_error(with_base({"--backlog", "0"})) ==
        "--backlog: bad number '0': expected a whole number in 1..16777216");
  CHECK(parse_error(with_base({"--backlog", "-5"})) ==
        "--backlog: bad number '-5': expected a whole number in 1..16777216");
  CHECK(parse_error(with_base({"--syn-retries", "256"})) ==
        "--syn-retries: bad number '256': expected a whole number in 0..255");
  CHECK(parse_error(with_base({"--wscale", "15"})) == "--wscale: bad number '15': expected a whole number in 0..14");
  CHECK(parse_error(with_base({"--send-buf", "12Q"})) ==
        "--send-buf: bad size '12Q': expected a byte count in 1..1073741824 (1..1G), K/M/G suffixes allowed");
  CHECK(parse_error(with_base({"--time-wait", "1.2345"})) ==
        "--time-wait: bad duration '1.2345': expected seconds in 0.001..3600 (up to 3 decimals, e.g. 0.5)");
  // Connection deadlines are 32-bit microseconds (lib/tcp/deadline.hpp): refused beyond 30 min, not clamped.
  CHECK(parse_error(with_base({"--close-wait-timeout", "1801"})) ==
        "--close-wait-timeout: bad duration '1801': expected seconds in 0..1800 (up to 3 decimals, e.g. 0.5)");
  CHECK(parse_error(with_base({"--fin-wait2-timeout", "3600"})) ==
        "--fin-wait2-timeout: bad duration '3600': expected seconds in 0.001..1800 (up to 3 decimals, e.g. 0.5)");
  CHECK(parse_error(with_base({"--rto-min", "0"})) ==
        "--rto-min: bad duration '0': expected whole milliseconds in 1..600000");
  CHECK(parse_error(with_base({"--syncookies", "sometimes"})) ==
        "--syncookies: bad value 'sometimes': expected off, overflow or always");
  CHECK(parse_error(with_base({"--time-wait-rst", "drop"})) ==
        "--time-wait-rst: bad value 'drop': expected ignore or close");
  CHECK(parse_error(with_base({"--port-opt", "512"})) ==
        "--port-opt: override '512': expected key=value (e.g. rx_desc=512)");
  CHECK(parse_error(with_base({"--connect", "198.18.0.9"})).find("--connect: '198.18.0.9': expected ADDR:PORT") == 0);
  CHECK(parse_error(with_base({"--connect", "198.18.0.9:7x0"})).find("--connect: ") == 0);
  CHECK(parse_error(with_base({"--connect", "198.18.0.9:0"})).find("--connect: ") == 0);
  CHECK(parse_error(with_base({"--connect", "[2001:2::9"})) ==
        "--connect: '[2001:2::9': expected ADDR:PORT[xN], e.g. 198.18.0.1:7x8 or [2001:2::1]:7x8");
  CHECK(parse_error(with_base({"--connect", "[2001:2::9]7"})).find("--connect: '[2001:2::9]7': expected") == 0);
  CHECK(parse_error(with_base({"--connect", "[2001:2::zz]:7"})).find("--connect: ") == 0);
  CHECK(parse_error(with_base({"--connect", "[::]:7"})) ==
        "--connect: bad peer '::': :: is the unspecified address (RFC 4291 2.5.2), not a peer");
  CHECK(parse_error(with_base({"--connect", "[::1]:7"})) ==
        "--connect: bad peer '::1': ::1 is loopback, which never reaches a NIC");
  CHECK(parse_error(with_base({"--connect", "[ff02::1]:7"})) ==
        "--connect: bad peer 'ff02::1': a multicast address cannot be a TCP peer");
  CHECK(parse_error(with_base({"--connect", "[fe80::1]:7"})) ==
        "--connect: bad peer 'fe80::1': link-local peers are not supported (synmill has no link-local address)");
  CHECK(parse_error(with_base({"--connect", "[2001:2::9]:0"})).find("--connect: ") == 0);
  CHECK(parse_error(with_base({"--connect", "[2001:2::9]:7x0"})).find("--connect: ") == 0);
}

TEST_CASE("app options: addresses", "[dp][app]") {
  CHECK(parse_error({"--addr", "bad", "--listen", "80:http"}) ==
        "--addr: bad address 'bad': expected A.B.C.D/P with the prefix length, e.g. 198.18.0.1/24");
  CHECK(parse_error({"--addr", "198.18.0.1", "--listen", "80:http"}) ==
        "--addr: bad address '198.18.0.1': expected A.B.C.D/P with the prefix length, e.g. 198.18.0.1/24");
  CHECK(parse_error({"--addr", "198.18.0.256/24", "--listen", "80:http"}) ==
        "--addr: bad address '198.18.0.256/24': expected A.B.C.D/P, e.g. 198.18.0.1/24");
  CHECK(parse_error({"--addr", "198.18.0.1/33", "--listen", "80:http"}) ==
        "--addr: bad address '198.18.0.1/33': prefix length 33 is more than 32");
  CHECK(parse_error({"--addr", "0.0.0.0/0", "--listen", "80:http"}) ==
        "--addr: bad address '0.0.0.0/0': 0.0.0.0 is not a host address");
  CHECK(parse_error({"--addr", "224.0.0.5/24", "--listen", "80:http"}) ==
        "--addr: bad address '224.0.0.5/24': a multicast address (224.0.0.0/4) cannot be a local address");
  CHECK(parse_error({"--addr", "255.255.255.255/32", "--listen", "80:http"}) ==
        "--addr: bad address '255.255.255.255/32': 255.255.255.255 is the broadcast address");
  CHECK(parse_error({"--addr", "198.18.0.255/24", "--listen", "80:http"}) ==
        "--addr: bad address '198.18.0.255/24': it is the broadcast address of its /24 subnet");
  CHECK(parse_error({"--addr", "127.0.0.1/8", "--listen", "80:http"}) ==
        "--addr: bad address '127.0.0.1/8': 127.0.0.0/8 is loopback, which never reaches a NIC");
  CHECK(parse_error({"--addr", "198.18.0.01/24", "--listen", "80:http"}) ==
        "--addr: bad address '198.18.0.01/24': expected A.B.C.D/P, e.g. 198.18.0.1/24");
  CHECK(parse_error(with_base({"--addr", "198.18.0.1/16"})) == "--addr: address 198.18.0.1 is given twice");
  // /31 and /32 have no broadcast address
  CHECK(parse_ok({"--addr", "198.18.0.1/31", "--listen", "80:http"}).addrs[0].prefix == 31);
  CHECK(parse_ok({"--addr", "198.18.0.255/32", "--listen", "80:http"}).addrs[0].prefix == 32);
}

TEST_CASE("app options: IPv6 addresses beside IPv4 ones", "[dp][app]") {
  const dp::AppConfig c = parse_ok({"--addr", "198.18.0.1/24", "--addr", "2001:2::1/64", "--addr",
                                    "2001:2:0:1::a/128", "--listen", "80:http"});
  REQUIRE(c.addrs.size() == 3);
  CHECK_FALSE(c.addrs[0].v6);
  CHECK(c.addrs[1].v6);
  CHECK(c.addrs[1].ip == 0);
  CHECK(c.addrs[1].prefix == 64);
  CHECK(c.addrs[1].ip6 == wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 1}));
  CHECK(c.addrs[2].ip6 == wire::Ipv6Addr::from_groups({0x2001, 2, 0, 1, 0, 0, 0, 0xa}));
  CHECK(c.addrs[2].prefix == 128);
  CHECK(dp::format_address(c.addrs[1]) == "2001:2::1/64");
  CHECK(dp::first_ipv4(c.addrs) == 0xC6120001u);
  // IPv6 only is a valid endpoint (listeners serve whichever family comes).
  CHECK(parse_ok({"--addr", "2001:2::1/64", "--listen", "80:http"}).addrs.size() == 1);
  CHECK(parse_error({"--addr", "2001:2::1", "--listen", "80:http"}) ==
        "--addr: bad address '2001:2::1': expected X:X::X/P with the prefix length, e.g. 2001:2::1/64");
  CHECK(parse_error({"--addr", "2001:2::g/64", "--listen", "80:http"}) ==
        "--addr: bad address '2001:2::g/64': expected X:X::X/P, e.g. 2001:2::1/64");
  CHECK(parse_error({"--addr", "2001:2::1/129", "--listen", "80:http"}) ==
        "--addr: bad address '2001:2::1/129': the prefix length must be in 1..128");
  CHECK(parse_error({"--addr", "2001:2::1/0", "--listen", "80:http"}) ==
        "--addr: bad address '2001:2::1/0': the prefix length must be in 1..128");
  CHECK(parse_error({"--addr", "2001:2::1/x", "--listen", "80:http"}) ==
        "--addr: bad address '2001:2::1/x': expected X:X::X/P, e.g. 2001:2::1/64");
  CHECK(parse_error({"--addr", "::/64", "--listen", "80:http"}) ==
        "--addr: bad address '::/64': :: is the unspecified address (RFC 4291 2.5.2), not a host address");
  CHECK(parse_error({"--addr", "::1/128", "--listen", "80:http"}) ==
        "--addr: bad address '::1/128': ::1 is loopback, which never reaches a NIC");
  CHECK(parse_error({"--addr", "ff02::1/64", "--listen", "80:http"}) ==
        "--addr: bad address 'ff02::1/64': a multicast address (ff00::/8) cannot be a local address");
  CHECK(parse_error({"--addr", "fe80::1/64", "--listen", "80:http"}) ==
        "--addr: bad address 'fe80::1/64': link-local addresses (fe80::/10) are not supported: give a global "
        "or unique-local one");
  CHECK(parse_error({"--addr", "::ffff:198.18.0.1/128", "--listen", "80:http"}) ==
        "--addr: bad address '::ffff:198.18.0.1/128': an IPv4-mapped address (::ffff:0:0/96): give the IPv4 "
        "address itself");
  CHECK(parse_error({"--addr", "2001:2::1/64", "--addr", "2001:2:0::1/48", "--listen", "80:http"}) ==
        "--addr: address 2001:2::1 is given twice");
  // --connect opens from an address of the peer's family.
  CHECK(parse_error({"--addr", "2001:2::1/64", "--connect", "198.18.0.9:7", "--listen", "80:http"}) ==
        "--connect 198.18.0.9:7: an IPv4 peer needs an IPv4 --addr (A.B.C.D/P)");
  CHECK(parse_error({"--addr", "198.18.0.1/24", "--connect", "[2001:2::9]:7x2", "--listen", "80:http"}) ==
        "--connect [2001:2::9]:7x2: an IPv6 peer needs an IPv6 --addr (X:X::X/P)");
  const AppConfig dual = parse_ok({"--addr", "198.18.0.1/24", "--addr", "2001:2::1/64", "--addr", "2001:2::5/64",
                                   "--connect", "[2001:2::9]:7x2", "--connect", "198.18.0.9:7", "--listen", "80:http"});
  CHECK(first_ipv6(dual.addrs) == std::get<0>(parse_ipv6("2001:2::1")));
  CHECK(first_ipv4(dual.addrs) == 0xC6120001u);
}

TEST_CASE("app options: listeners", "[dp][app]") {
  CHECK(parse_error(with_base({"--listen", "80:echo"})) ==
        "--listen: port conflict: port 80 is given twice (80:http and 80:echo)");
  CHECK(parse_error({"--addr", "198.18.0.1/24", "--listen", "80:http,80:echo"}) ==
        "--listen: port conflict: port 80 is given twice (80:http and 80:echo)");
  CHECK(parse_error(with_base({"--listen", "81:ftp"})) ==
        "--listen: bad listener '81:ftp': unknown application 'ftp': use echo, discard, http, http:close, hold, send:N or metrics");
  CHECK(parse_error(with_base({"--listen", "81:send:x"})) ==
        "--listen: bad listener '81:send:x': bad byte count in 'send:x': use send:N with N a whole number of bytes");
  CHECK(parse_error(with_base({"--listen", "0:echo"})) ==
        "--listen: bad listener '0:echo': the port must be a number in 1..65535");
  CHECK(parse_error(with_base({"--listen", "65536:echo"})) ==
        "--listen: bad listener '65536:echo': the port must be a number in 1..65535");
  CHECK(parse_error(with_base({"--listen", "echo"})) ==
        "--listen: bad listener 'echo': expected PORT:APP, e.g. 80:http");
}

TEST_CASE("app options: combinations are checked", "[dp][app]") {
  CHECK(parse_error({"--listen", "80:http"}) == "no address: pass --addr A.B.C.D/P or X:X::X/P (e.g. --addr 198.18.0.1/24)");
  CHECK(parse_error({"--addr", "198.18.0.1/24"}) == "no listener: pass --listen PORT:APP (e.g. --listen 80:http)");
  CHECK(parse_error(with_base({"--rto-min", "500", "--rto-max", "400"})) ==
        "--rto-min 500 is above --rto-max 400: lower --rto-min or raise --rto-max");
  CHECK(parse_error(with_base({"--rto-initial", "100"})) ==
        "--rto-initial 100 is outside --rto-min 200 .. --rto-max 60000");
  CHECK(parse_error(with_base({"--rcv-wnd", "1M", "--wscale", "2"})) ==
        "--rcv-wnd 1048576 needs a window scale of at least 5 (--wscale is 2)");
  CHECK(parse_error(with_base({"--send-chunks", "10"})) ==
        "--send-buf 64K is larger than the whole send pool (--send-chunks 10 x 2048 bytes = 20K): raise "
        "--send-chunks or lower --send-buf");
  CHECK(parse_error(with_base({"--max-conns", "100", "--max-orphans", "101"})) ==
        "--max-orphans 101 is above --max-conns 100: orphans live in the connection table");
  CHECK(parse_error(with_base({"--send-chunks", "100", "--pool-reserve", "100"})) ==
        "--pool-reserve 100 leaves no chunk of --send-chunks 100 beyond the reserve");
  CHECK(parse_error(with_base({"--keepalive-probes", "0"})) ==
        "--keepalive-probes: bad number '0': expected a whole number in 1..255");
  CHECK(parse_error(with_base({"--idle-timeout", "soon"})).find("--idle-timeout: bad duration 'soon'") == 0);
  std::string listen;
  for (int p = 1; p <= 65; ++p) listen += std::to_string(p) + ":echo,";
  CHECK(parse_error({"--addr", "198.18.0.1/24", "--listen", listen}) ==
        "--listen: 65 listeners given, at most 64 are supported");
}

TEST_CASE("app config file: keys, comments, flags", "[dp][app]") {
  AppConfig c;
  auto r = parse_config_text(
      "# synmill.conf\n"
      "addr = 198.18.0.1/24\n"
      "addr = 198.18.1.1/24   # a second address\n"
      "addr = 2001:2::1/64    # and an IPv6 one\n"
      "listen = 80:http, 7:echo\n"
      "\n"
      "syncookies = always\n"
      "max_conns = 1234\n"  // '_' spells '-'
      "time-wait = 0.5\n"
      "no-sack\n"
      "no-timestamps = false\n"
      "port-opt = \"rx_desc=512\"\n",
      "synmill.conf", c);
  REQUIRE(r.ok());
  REQUIRE(c.addrs.size() == 3);
  CHECK(c.addrs[2].v6);
  CHECK(dp::format_address(c.addrs[2]) == "2001:2::1/64");
  CHECK(c.listeners.size() == 2);
  CHECK(c.tcp.cookies == tcp::CookieMode::kAlways);
  CHECK(c.tcp.max_conns == 1234);
  CHECK(c.tcp.time_wait == tcp::Duration::ms(500));
  CHECK_FALSE(c.tcp.sack);
  CHECK(c.tcp.timestamps);
  CHECK(c.port_opts == std::vector<ProfileOverride>{{"rx_desc", "512"}});
}

TEST_CASE("app config file: errors name file, line and key", "[dp][app]") {
  CHECK(config_error("addr = 198.18.0.1/24\nbaklog = 5\n") ==
        "synmill.conf:2: unknown key 'baklog' (did you mean 'backlog'?)");
  CHECK(config_error("\n\nwhatever = 1\n") ==
        "synmill.conf:3: unknown key 'whatever': keys are the option names of --help without '--'");
  CHECK(config_error("config = other.conf\n") ==
        "synmill.conf:1: 'config' cannot be set in a config file (files do not include files)");
  CHECK(config_error("help = true\n") == "synmill.conf:1: unknown key 'help': keys are the option names of --help without '--'");
  CHECK(config_error("backlog = 5\nbacklog = 6\n") ==
        "synmill.conf:2: duplicate key 'backlog' (first set on line 1): keep one");
  CHECK(config_error("backlog\n") == "synmill.conf:1: expected 'backlog = N', got 'backlog'");
  CHECK(config_error("backlog =\n") == "synmill.conf:1: missing value for 'backlog': write 'backlog = N'");
  CHECK(config_error("= 5\n") == "synmill.conf:1: expected 'key = value', got '= 5'");
  CHECK(config_error("backlog = many\n") ==
        "synmill.conf:1: backlog: bad number 'many': expected a whole number in 1..16777216");
  CHECK(config_error("addr = 10.0.0.0/33\n") ==
        "synmill.conf:1: addr: bad address '10.0.0.0/33': prefix length 33 is more than 32");
  CHECK(config_error("listen = 80:http\nlisten = 80:echo\n") ==
        "synmill.conf:2: listen: port conflict: port 80 is given twice (80:http and 80:echo)");
  CHECK(config_error("no-sack = maybe\n") == "synmill.conf:1: no-sack: bad value 'maybe': expected true or false");
}

TEST_CASE("app config file: the command line wins, lists are replaced", "[dp][app]") {
  const TempFile f(
      "addr = 198.18.0.1/24\n"
      "addr = 198.18.0.2/24\n"
      "listen = 80:http\n"
      "backlog = 10\n"
      "mss = 1000\n");
  // scalars: the command line overrides, the rest of the file stays
  AppConfig c = parse_ok({"--config", f.path, "--backlog", "20"});
  CHECK(c.tcp.backlog == 20);
  CHECK(c.tcp.mss == 1000);
  CHECK(c.addrs.size() == 2);
  CHECK(c.config_file == f.path);
  // the order on the command line does not matter: the file is read first
  c = parse_ok({"--backlog", "30", "--config=" + f.path});
  CHECK(c.tcp.backlog == 30);
  // a list given on the command line replaces the file's list
  c = parse_ok({"--config", f.path, "--addr", "198.19.0.1/24", "--listen", "80:echo"});
  REQUIRE(c.addrs.size() == 1);
  CHECK(c.addrs[0].ip == 0xC6130001u);
  CHECK(c.listeners == std::vector<ListenSpec>{{80, "echo"}});
  // errors
  CHECK(parse_error({"--config", "/nonexistent/synmill.conf"}) ==
        "--config: cannot read '/nonexistent/synmill.conf': No such file or directory");
  CHECK(parse_error({"--config", f.path, "--config", f.path}).starts_with("--config is given twice"));
}

TEST_CASE("app config file: errors carry the file's path", "[dp][app]") {
  const TempFile f("addr = 198.18.0.1/24\nlisten = 80:http\nsyncookies = maybe\n");
  CHECK(parse_error({"--config", f.path}) ==
        f.path + ":3: syncookies: bad value 'maybe': expected off, overflow or always");
}

TEST_CASE("app values: sizes, durations and their text", "[dp][app]") {
  CHECK(std::get<0>(parse_bytes("2K", 0, UINT64_MAX)) == 2048);
  CHECK(std::get<0>(parse_bytes("3m", 0, UINT64_MAX)) == 3u << 20);
  CHECK(std::get<0>(parse_bytes("1G", 0, UINT64_MAX)) == 1u << 30);
  CHECK_FALSE(parsed_ok(parse_bytes("K", 0, UINT64_MAX)));
  CHECK(std::get<0>(parse_seconds("1.5s", tcp::Duration{}, tcp::Duration::s(10))) == tcp::Duration::ms(1500));
  CHECK(std::get<0>(parse_seconds("0.05", tcp::Duration{}, tcp::Duration::s(10))) == tcp::Duration::ms(50));
  CHECK_FALSE(parsed_ok(parse_seconds("1.", tcp::Duration{}, tcp::Duration::s(10))));
  CHECK_FALSE(parsed_ok(parse_seconds(".5", tcp::Duration{}, tcp::Duration::s(10))));
  CHECK(format_seconds(tcp::Duration::ms(1500)) == "1.5");
  CHECK(format_seconds(tcp::Duration::ms(50)) == "0.05");
  CHECK(format_seconds(tcp::Duration::s(60)) == "60");
  CHECK(format_bytes(65536) == "64K");
  CHECK(format_bytes(1000) == "1000");
  CHECK(format_bytes(3u << 20) == "3M");
}

TEST_CASE("app options: --help lists every option", "[dp][app]") {
  const std::string help = help_text("synmill");
  for (const AppOption& o : app_options()) {
    INFO(o.name);
    CHECK(help.find("--" + std::string(o.name)) != std::string::npos);
  }
  CHECK(help.find("dpdk-dumpcap --file-prefix <prefix> -w out.pcapng") != std::string::npos);
  CHECK(help.find("(default 1024)") != std::string::npos);
}

TEST_CASE("app options: describe_config gives the effective values", "[dp][app]") {
  const AppConfig c = parse_ok(with_base({"--listen", "7:echo", "--backlog", "99"}));
  const auto d = describe_config(c);
  const auto value = [&](std::string_view name) {
    for (const auto& [k, v] : d) {
      if (k == name) return v;
    }
    return std::string("<missing>");
  };
  CHECK(value("addr") == "198.18.0.1/24");
  CHECK(value("listen") == "80:http,7:echo");
  CHECK(value("backlog") == "99");
  CHECK(value("syncookies") == "overflow");
  CHECK(value("time-wait") == "60");
  CHECK(value("help") == "<missing>");
}

TEST_CASE("app config file: EAL arguments for a service", "[dp][app]") {
  AppConfig c;
  REQUIRE(parse_config_text("eal = -l 0-2  -a 0000:3b:00.0\t--file-prefix web\naddr = 198.18.0.1/24\n"
                            "listen = 80:http,9100:metrics\n",
                            "web.conf", c)
              .ok());
  CHECK(c.eal_args == std::vector<std::string>{"-l", "0-2", "-a", "0000:3b:00.0", "--file-prefix", "web"});
  CHECK(c.listeners.size() == 2);
  // synmill -- --config web.conf: the file's EAL arguments go before "--".
  CHECK(with_eal_args({"synmill", "--", "--config", "web.conf"}, c) ==
        Args{"synmill", "-l", "0-2", "-a", "0000:3b:00.0", "--file-prefix", "web", "--", "--config", "web.conf"});
  // EAL arguments on the command line win over the file's.
  CHECK(with_eal_args({"synmill", "-l", "1", "--", "--config", "web.conf"}, c) ==
        Args{"synmill", "-l", "1", "--", "--config", "web.conf"});
  CHECK(with_eal_args({"synmill", "--", "--config", "x"}, AppConfig{}) == Args{"synmill", "--", "--config", "x"});
  CHECK(config_error("eal =   \n") == "synmill.conf:1: missing value for 'eal': write 'eal = ARGS'");
  CHECK(config_error("eal = -l 0 -- --addr 198.18.0.1/24\n") ==
        "synmill.conf:1: eal: '--' inside the EAL arguments: give only what comes before '--'");
}

TEST_CASE("app options: the installed drivers-config is looked for", "[dp][app]") {
  const std::vector<std::string> c = drivers_config_candidates();
  const auto has = [&](const std::string& suffix) {
    return std::any_of(c.begin(), c.end(), [&](const std::string& p) { return p.ends_with(suffix); });
  };
  CHECK(has("/share/synmill/drivers-config"));                            // next to an installed binary
  CHECK(std::find(c.begin(), c.end(), SYNMILL_DATADIR_FOR_TEST "/synmill/drivers-config") != c.end());
  CHECK(c.back() == "/usr/share/synmill/drivers-config");
}
