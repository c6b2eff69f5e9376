#pragma once
// Value parsers for synmill's command line and config file: numbers with
// ranges, byte counts (K/M/G suffixes), durations, IPv4 addresses with a
// prefix, and listener lists. Each returns the value or a one-line reason
// that names the bad text and what is expected (without the option name: the
// caller prefixes "--addr: " or "synmill.conf:3: addr: ").
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dp/worker.hpp"
#include "tcp/types.hpp"

namespace synmill::dp {

// A value or the reason it was rejected.
template <class T>
using Parsed = std::variant<T, std::string>;

template <class T>
bool parsed_ok(const Parsed<T>& p) {
  return p.index() == 0;
}

// A listener: local port and the application spec (tcp::make_app).
struct ListenSpec {
  uint16_t port = 0;
  std::string app;
  friend bool operator==(const ListenSpec&, const ListenSpec&) = default;
};

// An active open at start-up: `count` connections to ip:port (or, with v6
// set, [ip6]:port), each served by `app` (tests drive SYN_SENT and the client
// side with these).
struct ConnectSpec {
  uint32_t ip = 0;  // host order
  bool v6 = false;
  wire::Ipv6Addr ip6{};
  uint16_t port = 0;
  uint32_t count = 1;
  std::string app = "echo";
  friend bool operator==(const ConnectSpec&, const ConnectSpec&) = default;
};

// "A.B.C.D:PORT[xN]" or "[X:X::X]:PORT[xN]" with N in 1..65536. The IPv6
// peer must be a unicast address: not ::, ::1, multicast or link-local
// (RFC 4291 §2.5.2, §2.5.3, §2.7, §2.5.6), as for --addr.
Parsed<ConnectSpec> parse_connect(std::string_view text);
std::string format_connect(const ConnectSpec& c);  // "198.18.0.1:7x32", "[2001:2::1]:7x32"

// Whole decimal number in lo..hi.
Parsed<uint64_t> parse_uint(std::string_view text, uint64_t lo, uint64_t hi);

// Bytes: a whole number with an optional K, M or G suffix (powers of 1024).
Parsed<uint64_t> parse_bytes(std::string_view text, uint64_t lo, uint64_t hi);

// Seconds with up to three decimals ("5", "0.25", "1.5s"), in lo..hi.
Parsed<tcp::Duration> parse_seconds(std::string_view text, tcp::Duration lo, tcp::Duration hi);

// Whole milliseconds in lo..hi ms.
Parsed<tcp::Duration> parse_millis(std::string_view text, int64_t lo, int64_t hi);

// "true/yes/on/1" or "false/no/off/0".
Parsed<bool> parse_bool(std::string_view text);

// "A.B.C.D" (strict: four decimal octets, no leading zeros).
Parsed<uint32_t> parse_ipv4(std::string_view text);

// IPv6 text (RFC 4291 §2.2; RFC 5952 forms and the others it reads).
Parsed<wire::Ipv6Addr> parse_ipv6(std::string_view text);

// "A.B.C.D/P": a unicast host address with its prefix length (0..32). Rejects
// 0.0.0.0, loopback, multicast, class E, the limited broadcast and the
// directed broadcast of its own subnet.
// "X:X::X/P" (an IPv6 address, prefix 1..128): a global or unique-local
// unicast address. Rejects :: (RFC 4291 §2.5.2), ::1 (§2.5.3), multicast
// (ff00::/8, §2.7) and link-local (fe80::/10, §2.5.6: synmill derives none
// and Neighbor Discovery answers only for the addresses it is given).
Parsed<Address> parse_address(std::string_view text);

// Application names a program built on synmill::run serves besides the
// built-in ones; parse_listen accepts them. Set once, before parsing.
void accept_app_names(std::vector<std::string> names);

// "PORT:APP[,PORT:APP...]" with ports 1..65535 and apps that tcp::make_app
// accepts; a port given twice in the list is a conflict.
Parsed<std::vector<ListenSpec>> parse_listen(std::string_view text);

std::string format_ipv4(uint32_t ip);
// The first IPv4 address of the list (the source of --connect), 0 if none.
uint32_t first_ipv4(const std::vector<Address>& addrs);
// The first IPv6 address of the list (the source of an IPv6 --connect), :: if none.
wire::Ipv6Addr first_ipv6(const std::vector<Address>& addrs);
std::string format_ipv6(const wire::Ipv6Addr& a);  // RFC 5952: "2001:2::1"
std::string format_address(const Address& a);  // "198.18.0.1/24", "2001:2::1/64"
std::string format_listen(const ListenSpec& l);  // "80:http"
// "1", "0.25" (seconds, trailing zeros dropped)
std::string format_seconds(tcp::Duration d);
// "65536", "64K", "2M": the shortest exact form
std::string format_bytes(uint64_t n);

}  // namespace synmill::dp
