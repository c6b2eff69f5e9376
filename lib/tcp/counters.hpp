#pragma once
// Per-core counters: every event worth counting and one counter per drop
// reason. Single writer (the owning core); readers on other cores (telemetry)
// accept a torn-free-but-stale view of each 64-bit value.
#include <array>
#include <cstdint>
#include <string_view>

#include "tcp/state.hpp"

namespace synmill::tcp {

#define SYNMILL_EVENT_COUNTERS(X) \
  X(rx_segments)                  \
  X(predicted)    /* took the header-prediction fast path (stack_predict.cpp) */ \
  X(tx_segments)                  \
  X(rx_bytes)                     \
  X(tx_bytes)                     \
  X(syn_in)                       \
  X(synack_out)                   \
  X(syn_out)                      \
  X(cookies_sent)                 \
  X(cookies_validated)            \
  X(cookies_rejected)             \
  X(active_opens)                 \
  X(passive_opens)                \
  X(established)                  \
  X(rst_out)                      \
  X(rst_in)                       \
  X(challenge_acks)               \
  X(retransmits)                  \
  X(syn_retransmits)              \
  X(synack_retransmits)           \
  X(time_wait_entered)            \
  X(time_wait_reused)             \
  X(closed_normal)                \
  X(closed_reset)                 \
  X(closed_aborted)               \
  X(closed_timeout)               \
  X(closed_refused)               \
  X(est_ended_normal)             \
  X(est_ended_reset)              \
  X(est_ended_aborted)            \
  X(est_ended_timeout)            \
  X(delayed_acks)                 \
  X(dup_acks)                     \
  X(fast_retransmits)             \
  X(sack_recoveries)              \
  X(partial_acks)                 \
  X(rescue_retransmits)           \
  X(rto_timeouts)                 \
  X(rto_after_recovery)           \
  X(ooo_queued)                   \
  X(ooo_filled)                   \
  X(sack_blocks_sent)             \
  X(dsack_sent)                   \
  X(zero_window_sent)             \
  X(zero_window_probes)           \
  X(zero_window_probes_answered)  \
  X(window_updates)                \
  X(orphans_closed)               \
  X(reclaim_orphan_limit)         \
  X(reclaim_orphan_table)         \
  X(reclaim_orphan_pool)          \
  X(reclaim_orphan_retries)       \
  X(reclaim_orphan_replaced)      \
  X(reclaim_squatter_pool)        \
  X(reclaim_persist_timeout)      \
  X(reclaim_idle)                 \
  X(reclaim_keepalive)            \
  X(keepalive_probes)

#define SYNMILL_DROP_COUNTERS(X)                                                 \
  X(no_listener)          /* segment for no connection: answered with RST */     \
  X(bad_flags)            /* no SYN/ACK/RST in LISTEN, SYN+FIN, ... */           \
  X(land)                 /* source address == destination address */            \
  X(not_local6)           /* IPv6 segment to an address the stack was not given */ \
  X(addr6_full)           /* IPv6 connection refused: remote address table full */ \
  X(class_e)              /* IPv4 segment to 240.0.0.0/4: reserved, and the tag of IPv6 tuples */ \
  X(backlog_full)         /* SYN dropped: backlog full and cookies off */        \
  X(conn_table_full)      /* SYN or cookie ACK dropped: no connection slot */    \
  X(accept_queue_full)    /* final ACK dropped: application not accepting */     \
  X(out_of_window)        /* failed the RFC 9293 §3.10.7.4 acceptability test */ \
  X(paws)                 /* RFC 7323 §5 PAWS rejected an old timestamp */       \
  X(rst_out_of_window)    /* RST outside the window: ignored */                  \
  X(rst_in_window)        /* RST in window but not exact: challenge ACK */       \
  X(syn_in_sync)          /* SYN in a synchronized state: challenge ACK */       \
  X(ack_unacceptable)     /* ACK of something not sent (RFC 5961 §5.2) */        \
  X(ack_too_old)          /* ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5.2) */  \
  X(no_ack)               /* segment without ACK in a synchronized state */      \
  X(ooo_dropped)          /* out-of-order data not queued: block list full */    \
  X(past_fin)             /* data or another FIN beyond the peer's FIN: not taken */ \
  X(rcv_buffer_full)      /* in-window data not stored: chunk pool empty */      \
  X(zero_window)          /* data to a zero window (a probe): ACKed */           \
  X(unread_on_close)      /* unread bytes discarded by close() (were ACKed) */   \
  X(not_accepted)         /* data before the application accepted */             \
  X(data_after_close)     /* data after the application closed: RST sent */      \
  X(challenge_ack_limit)  /* challenge ACK suppressed by the per-conn limit */   \
  X(time_wait_full)       /* TIME_WAIT table full: connection closed directly */ \
  X(time_wait_syn_old)    /* SYN to a TIME_WAIT tuple rejected (RFC 6191) */     \
  X(send_pool_empty)      /* application send refused: chunk pool exhausted */   \
  X(ext_pool_empty)       /* data, send, FIN or delayed ACK without a connection extension (pool empty) */ \
  X(send_pool_pressure)   /* send held to the minimum: pool at its reserve or squatting */

struct Counters {
#define SYNMILL_DECLARE(name) uint64_t name = 0;
  SYNMILL_EVENT_COUNTERS(SYNMILL_DECLARE)
  struct Drops {
    SYNMILL_DROP_COUNTERS(SYNMILL_DECLARE)
  } drop;
#undef SYNMILL_DECLARE

  // Calls f(name, value) for every counter, drops prefixed "drop_".
  template <class F>
  void for_each(F&& f) const {
#define SYNMILL_VISIT(name) f(std::string_view(#name), name);
    SYNMILL_EVENT_COUNTERS(SYNMILL_VISIT)
#undef SYNMILL_VISIT
#define SYNMILL_VISIT_DROP(name) f(std::string_view("drop_" #name), drop.name);
    SYNMILL_DROP_COUNTERS(SYNMILL_VISIT_DROP)
#undef SYNMILL_VISIT_DROP
  }

  uint64_t total_drops() const {
    uint64_t n = 0;
#define SYNMILL_SUM(name) n += drop.name;
    SYNMILL_DROP_COUNTERS(SYNMILL_SUM)
#undef SYNMILL_SUM
    return n;
  }
};

// Gauges: connections per state on this core (what `ss -s` shows).
struct StateGauges {
  std::array<uint32_t, kNumStates> count{};
  uint32_t operator[](State s) const { return count[static_cast<int>(s)]; }
  void move(State from, State to) {
    --count[static_cast<int>(from)];
    ++count[static_cast<int>(to)];
  }
};

}  // namespace synmill::tcp
