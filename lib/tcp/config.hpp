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

// The keyed PRF behind the ISNs (RFC 6528 §3) and the SYN-cookie MAC
// (keyed_prf.hpp): chosen once, when the stack is built.
enum class PrfKind : uint8_t {
  kAuto,     // AES-128 when the CPU has AES-NI, else SipHash-2-4 (default)
  kSipHash,  // SipHash-2-4 always (the fallback, forced)
  kAes,      // what kAuto resolves to on an AES-NI CPU (asked for: as kAuto)
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
  PrfKind prf = PrfKind::kAuto;   // ISN and cookie PRF: every core of a process must resolve it alike

  // retransmission (RFC 6298)
  Duration rto_initial = Duration::s(1);
  Duration rto_min = Duration::ms(200);
  Duration rto_max = Duration::s(60);
  uint8_t syn_retries = 6;        // SYN_SENT gives up after this many retransmissions
  uint8_t synack_retries = 5;     // SYN_RCVD without the final ACK is reclaimed after these
  uint8_t data_retries = 15;      // data / FIN retransmissions before the connection is aborted
  uint8_t fin_retries = 8;        // FIN_WAIT_1 / CLOSING / LAST_ACK with no ACK of our FIN

  // reclaim timeouts (zero disables where noted). rto_initial, rto_max,
  // fin_wait2_timeout, close_wait_timeout and persist_timeout are held to at
  // most 30 minutes (deadline.hpp, kMaxDeadline: the record's deadlines are
  // 32-bit microseconds), delayed_ack to 499 ms (below); idle_timeout and
  // keepalive_* are not (they count ticks of at most that length).
  Duration fin_wait2_timeout = Duration::s(60);  // orphaned FIN_WAIT_2 (Linux tcp_fin_timeout)
  Duration close_wait_timeout = Duration::s(300);  // app never closes; 0 = never
  Duration time_wait = Duration::s(60);          // 2 x MSL (RFC 9293 §3.4.2: MSL 30 s here)
  TimeWaitRstPolicy time_wait_rst = TimeWaitRstPolicy::kIgnore;

  // Orphans: connections the application closed (close(), not shutdown())
  // that are still in FIN_WAIT_1, FIN_WAIT_2, CLOSING or LAST_ACK. At most
  // max_orphans per core (0 = max_conns / 4): one more evicts the oldest (RST),
  // as Linux bounds them with tcp_max_orphans. Their FIN is retransmitted
  // orphan_retries times instead of fin_retries (Linux tcp_orphan_retries).
  // When the connection table or the chunk pool runs short, orphans are
  // reclaimed first (stack_reclaim.cpp).
  uint32_t max_orphans = 0;
  uint8_t orphan_retries = 3;

  // Fair use of the chunk pool (stack_reclaim.cpp). Every connection may hold
  // min_conn_buf bytes of send queue and as much receive buffer (no more than
  // send_buf and rcv_wnd) whatever the pool's state (Linux tcp_wmem[0] / tcp_rmem[0]); pool_reserve chunks
  // (0 = send_chunks / 8) are kept for those minimums: once the free chunks
  // fall to the reserve, no connection grows beyond its minimum.
  // A connection holding data toward a peer window smaller than one
  // segment is a squatter: it never grows beyond its minimum, is the
  // first live connection to give way when the pool runs short, and is reset
  // after persist_timeout in that condition (0 = never; RFC 9293 §3.8.6.1
  // and RFC 6429 allow closing a persisting connection for lack of resources;
  // at most 30 minutes, as the timeouts above).
  uint32_t min_conn_buf = 2048;
  uint32_t pool_reserve = 0;
  // Connection extensions (conn.hpp ConnExt: send queue, receive buffer,
  // SACK scoreboard, recovery marks) in the per-core pool, 0 = max_conns. A
  // connection holds one only while data moves or waits; when none is free
  // the data that needed it is refused (counted as drop_ext_pool_empty) as
  // for an empty chunk pool, and at ext_reserve (0 = max_exts / 8) free ones
  // orphans, then squatters, holding one give way (stack_reclaim.cpp).
  uint32_t max_exts = 0;
  uint32_t ext_reserve = 0;
  Duration persist_timeout = Duration::s(120);

  // ESTABLISHED connections with no data either way (and none outstanding)
  // for idle_timeout are reset (0 = never, the default). Keep-alive (RFC 9293 §3.8.4, RFC 1122
  // §4.2.3.6; off when keepalive_time is 0, the default): after
  // keepalive_time without a segment from the peer, probes every
  // keepalive_intvl; keepalive_probes unanswered ones reset the connection.
  Duration idle_timeout{};
  Duration keepalive_time{};
  Duration keepalive_intvl = Duration::s(75);
  uint8_t keepalive_probes = 9;

  // receiving: RFC 1122 §4.2.3.2 / RFC 5681 §4.2 delayed ACK: an ACK for at
  // least every second full-sized segment, and none later than this after the
  // data it acknowledges (must stay below 500 ms: the stack holds it to 499 ms,
  // Stack::kMaxDelayedAck; the record keeps the deadline in 16 bits of 64 µs,
  // ConnHot::ack_at16). Zero: ACK every segment.
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

  // Header prediction (stack_predict.cpp): the common ESTABLISHED segment
  // skips the full RFC 9293 §3.10.7.4 ladder with the same outcome. Off only
  // to compare the two paths (test/fuzz/fuzz_stack.cpp).
  bool header_prediction = true;
};

}  // namespace synmill::tcp
