#pragma once
// Per-core TCP configuration, fixed at start-up. Every timeout that reclaims a
// stuck state is here, with its default and the rule it implements.
#include <cstdint>

#include "tcp/types.hpp"

namespace synmill::tcp {

enum class CookieMode : uint8_t {
  kOff,       // never: a full backlog drops SYNs (counted)
  kOverflow,  // only when the listener's half-open backlog is full (default)
  kAlways,    // every SYN gets a cookie SYN-ACK, no state kept
};

// What an in-window RST does to a TIME_WAIT entry.
enum class TimeWaitRstPolicy : uint8_t {
  kIgnore,  // RFC 1337 §3 fix (1): ignore RST in TIME_WAIT (default)
  kClose,   // RFC 9293 §3.10.7.4: close the TIME_WAIT entry
};

struct StackConfig {
  // capacities (pools sized at start-up)
  uint32_t max_conns = 65536;
  uint32_t max_time_wait = 65536;
  uint32_t send_chunks = 65536;   // chunks in the per-core pool: send queues and receive buffers
  uint32_t chunk_size = 2048;
  uint32_t send_buf = 64 * 1024;  // per-connection cap on unacknowledged + unsent bytes
  // Receive window we advertise, and the per-connection cap on buffered
  // received bytes (in order but not taken by the application, plus out of
  // order): the window shrinks as the buffer fills (zero when it is full).
  uint32_t rcv_wnd = 64 * 1024;
  uint8_t wscale = 7;             // our window-scale shift (RFC 7323 §2.2)
  uint16_t mss = 1460;            // our MSS (advertised, and cap on what we send)
  bool timestamps = true;         // RFC 7323
  bool sack = true;               // RFC 2018 (SACK-permitted is negotiated)

  // listener
  uint32_t backlog = 1024;        // half-open (SYN_RCVD) entries per listener
  uint32_t accept_queue = 1024;   // established, not yet accepted by the application
  CookieMode cookies = CookieMode::kOverflow;
  Duration cookie_lifetime = Duration::s(64);

  // retransmission (RFC 6298)
  Duration rto_initial = Duration::s(1);
  Duration rto_min = Duration::ms(200);
  Duration rto_max = Duration::s(60);
  uint8_t syn_retries = 6;        // SYN_SENT gives up after this many retransmissions
  uint8_t synack_retries = 5;     // SYN_RCVD without the final ACK is reclaimed after these
  uint8_t data_retries = 15;      // data / FIN retransmissions before the connection is aborted
  uint8_t fin_retries = 8;        // FIN_WAIT_1 / CLOSING / LAST_ACK with no ACK of our FIN

  // reclaim timeouts (zero disables where noted)
  Duration fin_wait2_timeout = Duration::s(60);  // orphaned FIN_WAIT_2 (Linux tcp_fin_timeout)
  Duration close_wait_timeout = Duration::s(300);  // app never closes; 0 = never
  Duration time_wait = Duration::s(60);          // 2 x MSL (RFC 9293 §3.4.2: MSL 30 s here)
  TimeWaitRstPolicy time_wait_rst = TimeWaitRstPolicy::kIgnore;

  // receiving: RFC 1122 §4.2.3.2 / RFC 5681 §4.2 delayed ACK: an ACK for at
  // least every second full-sized segment, and none later than this after the
  // data it acknowledges (must stay below 500 ms). Zero: ACK every segment.
  // Out-of-order data, a filled hole, FIN and handshakes are acknowledged at once.
  Duration delayed_ack = Duration::ms(40);

  // sending: Nagle (RFC 1122 §4.2.3.4) is off by default: the built-in apps
  // write whole requests/responses and want them on the wire at once.
  // Stack::set_nodelay(id, false) turns it on for one connection; this turns
  // it on for every new connection.
  bool nagle = false;

  // RFC 5961 §7: challenge ACKs are rate limited; here per connection
  uint8_t challenge_acks_per_sec = 10;

  Duration timer_tick = Duration::ms(1);
};

}  // namespace synmill::tcp
