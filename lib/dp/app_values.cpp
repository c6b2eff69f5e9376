#include "dp/app_values.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <arpa/inet.h>

#include <fmt/format.h>

#include "dp/text.hpp"
#include "tcp/apps/factory.hpp"

namespace synmill::dp {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits only, no sign, no overflow.
bool to_u64(std::string_view s, uint64_t& out) {
  if (!all_digits(s)) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

std::string range_text(uint64_t lo, uint64_t hi) { return fmt::format("{}..{}", lo, hi); }

}  // namespace

Parsed<uint64_t> parse_uint(std::string_view text, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  if (!to_u64(text, v) || v < lo || v > hi) {
    return fmt::format("bad number '{}': expected a whole number in {}", text, range_text(lo, hi));
  }
  return v;
}

Parsed<uint64_t> parse_bytes(std::string_view text, uint64_t lo, uint64_t hi) {
  std::string_view digits = text;
  unsigned shift = 0;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  uint64_t v = 0;
  const bool ok = to_u64(digits, v) && v <= (UINT64_MAX >> shift);
  if (ok) v <<= shift;
  if (!ok || v < lo || v > hi) {
    return fmt::format("bad size '{}': expected a byte count in {} ({}..{}), K/M/G suffixes allowed",
                       text, range_text(lo, hi), format_bytes(lo), format_bytes(hi));
  }
  return v;
}

Parsed<tcp::Duration> parse_seconds(std::string_view text, tcp::Duration lo, tcp::Duration hi) {
  std::string_view t = text;
  if (!t.empty() && t.back() == 's') t.remove_suffix(1);
  const size_t dot = t.find('.');
  const std::string_view whole = t.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
  uint64_t w = 0;
  uint64_t f = 0;
  bool ok = to_u64(whole, w) && w <= 1000000000;
  if (ok && dot != std::string_view::npos) ok = !frac.empty() && frac.size() <= 3 && to_u64(frac, f);
  for (size_t i = frac.size(); ok && i < 3; ++i) f *= 10;
  const tcp::Duration d = tcp::Duration::ms(static_cast<int64_t>(w * 1000 + f));
  if (!ok || d < lo || d > hi) {
    return fmt::format("bad duration '{}': expected seconds in {}..{} (up to 3 decimals, e.g. 0.5)",
                       text, format_seconds(lo), format_seconds(hi));
  }
  return d;
}

Parsed<tcp::Duration> parse_millis(std::string_view text, int64_t lo, int64_t hi) {
  uint64_t v = 0;
  if (!to_u64(text, v) || v < static_cast<uint64_t>(lo) || v > static_cast<uint64_t>(hi)) {
    return fmt::format("bad duration '{}': expected whole milliseconds in {}..{}", text, lo, hi);
  }
  return tcp::Duration::ms(static_cast<int64_t>(v));
}

Parsed<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  return fmt::format("bad value '{}': expected true or false", text);
}

Parsed<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t ip = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = rest.find('.');
    const std::string_view part = i < 3 ? rest.substr(0, dot) : rest;
    uint64_t v = 0;
    if ((i < 3 && dot == std::string_view::npos) || part.size() > 3 || !to_u64(part, v) || v > 255 ||
        (part.size() > 1 && part[0] == '0')) {
      return fmt::format("bad IPv4 address '{}': expected A.B.C.D", text);
    }
    ip = (ip << 8) | static_cast<uint32_t>(v);
    if (i < 3) rest = rest.substr(dot + 1);
  }
  return ip;
}

Parsed<wire::Ipv6Addr> parse_ipv6(std::string_view text) {
  std::string s(text);
  wire::Ipv6Addr a;
  if (s.empty() || s.size() > INET6_ADDRSTRLEN || inet_pton(AF_INET6, s.c_str(), a.b.data()) != 1) {
    return fmt::format("bad IPv6 address '{}': expected e.g. 2001:2::1", text);
  }
  return a;
}

uint32_t first_ipv4(const std::vector<Address>& addrs) {
  for (const Address& a : addrs) {
    if (!a.v6) return a.ip;
  }
  return 0;
}

wire::Ipv6Addr first_ipv6(const std::vector<Address>& addrs) {
  for (const Address& a : addrs) {
    if (a.v6) return a.ip6;
  }
  return {};
}

std::string format_ipv6(const wire::Ipv6Addr& a) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(AF_INET6, a.b.data(), buf.data(), buf.size()) == nullptr) return "?";
  return std::string(buf.data());
}

namespace {

Parsed<Address> parse_address6(std::string_view text, size_t slash) {
  const auto ip = parse_ipv6(text.substr(0, slash));
  uint64_t prefix = 0;
  if (!parsed_ok(ip) || !to_u64(text.substr(slash + 1), prefix)) {
    return fmt::format("bad address '{}': expected X:X::X/P, e.g. 2001:2::1/64", text);
  }
  if (prefix < 1 || prefix > 128) {
    return fmt::format("bad address '{}': the prefix length must be in 1..128", text);
  }
  const wire::Ipv6Addr a = std::get<0>(ip);
  const char* why = nullptr;
  if (a.is_unspecified()) {
    why = ":: is the unspecified address (RFC 4291 2.5.2), not a host address";
  } else if (a.is_loopback()) {
    why = "::1 is loopback, which never reaches a NIC";
  } else if (a.is_multicast()) {
    why = "a multicast address (ff00::/8) cannot be a local address";
  } else if (a.is_link_local()) {
    why = "link-local addresses (fe80::/10) are not supported: give a global or unique-local one";
  } else if (a.b[0] == 0 && a.b[1] == 0 && a.b[2] == 0 && a.b[3] == 0 && a.b[4] == 0 && a.b[5] == 0 &&
             a.b[6] == 0 && a.b[7] == 0 && a.b[8] == 0 && a.b[9] == 0 && a.b[10] == 0xFF && a.b[11] == 0xFF) {
    why = "an IPv4-mapped address (::ffff:0:0/96): give the IPv4 address itself";
  }
  if (why != nullptr) return fmt::format("bad address '{}': {}", text, why);
  Address out;
  out.v6 = true;
  out.ip6 = a;
  out.prefix = static_cast<uint8_t>(prefix);
  return out;
}

}  // namespace

Parsed<Address> parse_address(std::string_view text) {
  const size_t slash = text.find('/');
  if (text.substr(0, slash).find(':') != std::string_view::npos) {
    if (slash == std::string_view::npos) {
      return fmt::format("bad address '{}': expected X:X::X/P with the prefix length, e.g. 2001:2::1/64",
                         text);
    }
    return parse_address6(text, slash);
  }
  if (slash == std::string_view::npos) {
    return fmt::format("bad address '{}': expected A.B.C.D/P with the prefix length, e.g. "
                       "198.18.0.1/24", text);
  }
  const auto ip = parse_ipv4(text.substr(0, slash));
  uint64_t prefix = 0;
  if (!parsed_ok(ip) || !to_u64(text.substr(slash + 1), prefix)) {
    return fmt::format("bad address '{}': expected A.B.C.D/P, e.g. 198.18.0.1/24", text);
  }
  if (prefix > 32) {
    return fmt::format("bad address '{}': prefix length {} is more than 32", text, prefix);
  }
  const uint32_t a = std::get<0>(ip);
  const uint32_t top = a >> 24;
  const char* why = nullptr;
  if (a == 0) {
    why = "0.0.0.0 is not a host address";
  } else if (a == 0xFFFFFFFFu) {
    why = "255.255.255.255 is the broadcast address";
  } else if (top >= 224 && top <= 239) {
    why = "a multicast address (224.0.0.0/4) cannot be a local address";
  } else if (top >= 240) {
    why = "240.0.0.0/4 is reserved";
  } else if (top == 127) {
    why = "127.0.0.0/8 is loopback, which never reaches a NIC";
  } else if (top == 0) {
    why = "0.0.0.0/8 is not a host address";
  }
  const uint32_t host_mask = prefix >= 31 ? 0 : (0xFFFFFFFFu >> prefix);
  if (why == nullptr && host_mask != 0 && (a & host_mask) == host_mask) {
    return fmt::format("bad address '{}': it is the broadcast address of its /{} subnet", text, prefix);
  }
  if (why != nullptr) return fmt::format("bad address '{}': {}", text, why);
  Address out;
  out.ip = a;
  out.prefix = static_cast<uint8_t>(prefix);
  return out;
}

namespace {
std::vector<std::string>& extra_app_names() {
  static std::vector<std::string> names;
  return names;
}
}  // namespace

void accept_app_names(std::vector<std::string> names) { extra_app_names() = std::move(names); }

Parsed<std::vector<ListenSpec>> parse_listen(std::string_view text) {
  std::vector<ListenSpec> out;
  const std::vector<std::string_view> items = text::split_list(text);
  if (items.empty()) return std::string("empty listener list: expected PORT:APP, e.g. 80:http");
  for (std::string_view item : items) {
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return fmt::format("bad listener '{}': expected PORT:APP, e.g. 80:http", item);
    }
    uint64_t port = 0;
    if (!to_u64(item.substr(0, colon), port) || port < 1 || port > 65535) {
      return fmt::format("bad listener '{}': the port must be a number in 1..65535", item);
    }
    const std::string_view app = item.substr(colon + 1);
    std::string error;
    const auto& extra = extra_app_names();
    if (app != "metrics" && std::find(extra.begin(), extra.end(), app) == extra.end() &&
        tcp::make_app(app, error) == nullptr) {  // metrics: built by synmill
      return fmt::format("bad listener '{}': {}", item, error);
    }
    for (const ListenSpec& l : out) {
      if (l.port == port) {
        return fmt::format("port conflict: port {} is given twice ({} and {})", port, format_listen(l),
                           item);
      }
    }
    out.push_back(ListenSpec{static_cast<uint16_t>(port), std::string(app)});
  }
  return out;
}

std::string format_ipv4(uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

std::string format_address(const Address& a) {
  return fmt::format("{}/{}", a.v6 ? format_ipv6(a.ip6) : format_ipv4(a.ip), a.prefix);
}

std::string format_listen(const ListenSpec& l) { return fmt::format("{}:{}", l.port, l.app); }

Parsed<ConnectSpec> parse_connect(std::string_view text) {
  ConnectSpec c;
  const char* const usage = "expected ADDR:PORT[xN], e.g. 198.18.0.1:7x8 or [2001:2::1]:7x8";
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fmt::format("'{}': {}", text, usage);
    }
    const auto ip = parse_ipv6(text.substr(1, close - 1));
    if (!parsed_ok(ip)) return std::get<1>(ip);
    c.v6 = true;
    c.ip6 = std::get<0>(ip);
    const char* why = nullptr;
    if (c.ip6.is_unspecified()) {
      why = ":: is the unspecified address (RFC 4291 2.5.2), not a peer";
    } else if (c.ip6.is_loopback()) {
      why = "::1 is loopback, which never reaches a NIC";
    } else if (c.ip6.is_multicast()) {
      why = "a multicast address cannot be a TCP peer";
    } else if (c.ip6.is_link_local()) {
      why = "link-local peers are not supported (synmill has no link-local address)";
    }
    if (why != nullptr) return fmt::format("bad peer '{}': {}", text.substr(1, close - 1), why);
    rest = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fmt::format("'{}': {}", text, usage);
    const auto ip = parse_ipv4(text.substr(0, colon));
    if (!parsed_ok(ip)) return std::get<1>(ip);
    c.ip = std::get<0>(ip);
    rest = text.substr(colon + 1);
  }
  const size_t x = rest.find('x');
  const auto port = parse_uint(rest.substr(0, x), 1, 65535);
  if (!parsed_ok(port)) return std::get<1>(port);
  c.port = static_cast<uint16_t>(std::get<0>(port));
  if (x != std::string_view::npos) {
    const auto n = parse_uint(rest.substr(x + 1), 1, 65536);
    if (!parsed_ok(n)) return std::get<1>(n);
    c.count = static_cast<uint32_t>(std::get<0>(n));
  }
  return c;
}

std::string format_connect(const ConnectSpec& c) {
  const std::string peer = c.v6 ? fmt::format("[{}]:{}", format_ipv6(c.ip6), c.port)
                                : fmt::format("{}:{}", format_ipv4(c.ip), c.port);
  return c.count == 1 ? peer : fmt::format("{}x{}", peer, c.count);
}

std::string format_seconds(tcp::Duration d) {
  const int64_t ms = d.count_ms();
  if (ms % 1000 == 0) return fmt::format("{}", ms / 1000);
  std::string s = fmt::format("{}.{:03}", ms / 1000, ms % 1000);
  while (s.back() == '0') s.pop_back();
  return s;
}

std::string format_bytes(uint64_t n) {
  if (n != 0 && n % (1ull << 30) == 0) return fmt::format("{}G", n >> 30);
  if (n != 0 && n % (1ull << 20) == 0) return fmt::format("{}M", n >> 20);
  if (n != 0 && n % (1ull << 10) == 0) return fmt::format("{}K", n >> 10);
  return fmt::format("{}", n);
}

}  // namespace synmill::dp
