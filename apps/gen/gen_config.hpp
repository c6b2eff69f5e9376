#pragma once
// synmill-gen's settings and their command line:
//   synmill-gen [EAL args] -- --mode syn|connect|hold --addr A/P --dst ADDR:PORT|[ADDR6]:PORT
//       [--src-ports LO-HI] [--src-addrs FIRST-LAST] [--rate N|max]
//       [--duration S] [--concurrency N] [--request BYTES] [--response BYTES]
//       [--close client|server|rst] [--json] ...
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dp/app_values.hpp"
#include "dp/rss.hpp"
#include "dp/worker.hpp"
#include "tcp/types.hpp"

namespace synmill::gen {

enum class Mode : uint8_t { kSyn, kConnect, kHold };
enum class CloseKind : uint8_t { kClient, kServer, kRst };
// --http: the request is an HTTP/1.1 GET, with "Connection: close", without
// it (keep-alive), or alternating between the two per connection.
enum class HttpRequest : uint8_t { kNone, kClose, kKeepAlive, kMix };

const char* to_string(Mode m);
const char* to_string(CloseKind c);

struct GenConfig {
  Mode mode = Mode::kConnect;
  std::vector<dp::Address> addrs;  // --addr: the first of --dst's family is the default source
  // --dst: IPv4 (dst_ip) or, with v6 set, IPv6 (dst_ip6; dst_ip stays 0).
  // Every source is of the destination's family.
  bool v6 = false;
  uint32_t dst_ip = 0;
  wire::Ipv6Addr dst_ip6{};
  std::optional<std::array<uint8_t, 6>> dst_mac;  // --dst-mac: no ARP / Neighbor Discovery for the destination
  uint16_t dst_port = 0;
  dp::PortRange src_ports{1024, 65535};
  // Source addresses. IPv4: src_addrs (empty, first == 0: the first IPv4
  // --addr). IPv6: src_addrs6 (its two ends differ only in their low 32
  // bits), and src_addrs holds those low 32 bits, so the generator walks
  // and draws IPv6 sources as it does IPv4 ones (source_addr6()).
  dp::AddrRange src_addrs{};
  dp::AddrRange6 src_addrs6{};
  uint64_t rate = 0;          // per second over all workers; 0: as fast as possible
  uint64_t count = 0;         // SYNs or connections in all, then stop (0: until --duration)
  bool random_sources = false;  // syn: source address and port drawn at random from the ranges
  tcp::Duration duration = tcp::Duration::s(10);
  tcp::Duration drain = tcp::Duration::s(2);  // after the duration: wait for what is open
  uint32_t concurrency = 1000;  // connect: open at once (cap); hold: connections to open
  uint32_t hold = 0;            // connect: idle connections opened first and held to the end
  tcp::Duration hold_pause = tcp::Duration::ms(0);  // connect --hold: idle between the held set and the load
  uint32_t request = 0;         // bytes the client sends once connected
  uint32_t response = 0;        // bytes it expects back before closing
  CloseKind close = CloseKind::kClient;
  bool json = false;
  tcp::Duration time_wait = tcp::Duration::s(1);  // the generator's own TIME_WAIT
  // Client behaviours seen in the field (dperf's HTTP client, stressed stacks):
  bool no_time_wait = false;       // --no-time-wait: a closed tuple is reusable at once
  double drop_final_acks = 0.0;    // --drop-final-acks P: drop this fraction of our handshake-final ACKs and of the segments answering a FIN
  double drop_fin_acks = 0.0;      // --drop-fin-acks P: only the answers to the server's FIN
  bool ignore_fin_retransmits = false;  // --ignore-fin-rtx: a FIN for a tuple we no longer hold gets no answer (no RST)
  tcp::Duration fixed_rto{};       // --rto MS: fixed retransmission timeout (0: RFC 6298 adaptive)
  uint8_t retries = 0;             // --retries N: SYN, data and FIN retries (0: the stack's defaults)
  HttpRequest http = HttpRequest::kNone;  // --http close|keep-alive|mix
  uint64_t then_rate = 0;          // --then-rate N: after --duration, go on at N/s ...
  tcp::Duration then_duration{};   // --then-duration S: ... for S seconds (a load that falls)
  uint32_t flaps = 0;              // --flap N: the link goes down and comes back N times during --duration
  tcp::Duration flap_down = tcp::Duration::ms(200);  // --flap-down S: how long each time
  tcp::Duration report_every = tcp::Duration::s(1);
  uint16_t port_id = 0;
  std::string drivers_config;
  std::vector<std::pair<std::string, std::string>> port_opts;
  uint32_t mbufs = 0;
  bool help = false;
};

// The IPv6 source whose low 32 bits are `low` (an address of src_addrs6).
inline wire::Ipv6Addr source_addr6(const GenConfig& c, uint32_t low) {
  wire::Ipv6Addr a = c.src_addrs6.first;
  a.b[12] = static_cast<uint8_t>(low >> 24);
  a.b[13] = static_cast<uint8_t>(low >> 16);
  a.b[14] = static_cast<uint8_t>(low >> 8);
  a.b[15] = static_cast<uint8_t>(low);
  return a;
}

// "198.18.0.2:80" or "[2001:2::2]:80" (RFC 3986 §3.2.2).
std::string dst_text(const GenConfig& c);

// --http's Host field (RFC 9110 §7.2): dst_text() without the port when it
// is http's default, 80.
std::string http_host(const GenConfig& c);

// Parses the options after "--". Fails with one line naming the option.
dp::Parsed<GenConfig> parse_gen_args(const std::vector<std::string>& args);

std::string gen_help_text();

}  // namespace synmill::gen
