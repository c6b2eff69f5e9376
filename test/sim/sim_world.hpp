#pragma once
// Deterministic simulation: a client stack (active opens) and a server stack
// (passive) on one virtual clock, linked by two lossy Links. Every frame goes
// through lib/wire (build, checksum, parse), so the wire code is exercised too.
// Each planned connection moves seeded random bytes both ways, then closes by
// one of four modes; the checker verifies every byte once and in order, every
// connection CLOSED on both sides, and every pool back to its initial count.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim_link.hpp"
#include "tcp/stack.hpp"

namespace synmill::sim {

enum class CloseMode : uint8_t { kClientFirst, kServerFirst, kSimultaneous, kClientRst };

struct SimConfig {
  uint64_t seed = 1;
  uint32_t connections = 1000;
  uint32_t concurrency = 200;
  uint32_t min_bytes = 0;
  uint32_t max_bytes = 8192;  // per direction, uniform in [min_bytes, max_bytes]
  bool sack = true;           // offer SACK-permitted (RFC 2018): RFC 6675 recovery, else NewReno
  uint32_t send_buf = 16 * 1024;
  uint32_t rcv_wnd = 32 * 1024;
  LinkParams link;
  tcp::Duration time_limit = tcp::Duration::s(3600);  // simulated
  tcp::Duration time_wait = tcp::Duration::s(5);
  uint32_t client_addrs = 4;     // per family (<= 64: Stack::kMaxLocal6)
  // Share of the connections over IPv6 (issue 15), in percent, chosen per
  // connection from its seed; the rest over IPv4.
  uint32_t ipv6_percent = 25;
  uint32_t client_ports = 64000;  // few ports force reuse of tuples still in TIME_WAIT
  // Overload profile: the server's table, orphan bound and pool smaller than
  // the offered load needs (0 = the defaults above). With allow_resets a
  // connection may end by a reset or timeout before its data arrived (the
  // server reclaimed it); what did arrive must still be every byte once, in
  // order, and such a connection must not end normally on both sides.
  uint32_t server_max_conns = 0;
  uint32_t server_max_orphans = 0;
  uint32_t server_send_chunks = 0;
  uint8_t server_orphan_retries = 8;
  tcp::Duration server_idle_timeout{};
  // Client keep-alive (RFC 1122 §4.2.3.6): a client whose server reset the
  // connection and lost the RST finds out (0 = off).
  tcp::Duration client_keepalive{};
  bool allow_resets = false;
};

struct SimResult {
  bool ok = false;
  std::string error;  // first invariant that failed
  uint64_t trace_hash = 0;
  uint64_t frames = 0;
  uint64_t lost = 0;
  uint64_t completed = 0;      // connections whose data arrived byte-exact both ways
  uint64_t ipv6_opened = 0;    // of the connections opened, those over IPv6
  uint64_t failed_connect = 0; // SYN retries exhausted (only with loss)
  uint64_t close_normal = 0;   // both ends closed normally
  uint64_t close_other = 0;    // one end by RST/timeout (RST mode, or loss at the end)
  uint64_t reset_early = 0;    // ended by a reset/timeout before all data arrived (allow_resets)
  uint64_t idle_reclaimed_early = 0;  // lossy link: the server heard nothing for its idle timeout and reclaimed
  uint64_t link_overflow = 0;  // frames dropped by a full link queue
  uint64_t ack_burst_lost = 0; // pure ACKs lost in bursts
  uint32_t max_server_orphans = 0;  // the most orphans the server held at once
  uint64_t bytes = 0;
  uint64_t steps = 0;
  tcp::Duration sim_time;
  tcp::Duration transfer_time;  // sum over completed connections of open -> last byte delivered
  tcp::Counters client_ctr, server_ctr;
};

SimResult run_simulation(const SimConfig& cfg);

}  // namespace synmill::sim
