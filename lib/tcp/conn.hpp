#pragma once
// One connection's state, in two parts (issue 12, "a two-cache-line
// connection record, with an extension taken on demand"):
//   ConnHot   120 bytes: the record. Everything an idle connection keeps:
//             first (one cache line) what the per-segment path reads (the
//             delayed-ACK deadline in 16 bits beside it), then RTT /
//             congestion state and two deadlines (32-bit µs, deadline.hpp),
//             then what the application interface and the overload policies
//             use (handle generation, application, idle / keep-alive ticks,
//             which an orphan's list links overlay), the index of its
//             extension, and its timer node (timer_wheel.hpp; ConnCold and
//             the wheel's 16-byte node per slot were folded in). The
//             application's word (Stack::user) lies beside the record, in a
//             per-slot array backed only where an application writes it.
//   ConnExt   data-transfer state (send queue, receive buffer and its chunk
//             ring, SACK scoreboard, out-of-order blocks, recovery marks,
//             squat stamp), taken from a bounded per-stack pool when the
//             connection first needs it and given back once it is idle again
//             (stack_ext.cpp).
// An idle ESTABLISHED connection therefore holds ConnHot (its timer node
// inside) and its index slot, and nothing else.
#include <cstdint>

#include "tcp/recv_buffer.hpp"
#include "tcp/sack_board.hpp"
#include "tcp/send_queue.hpp"
#include "tcp/state.hpp"
#include "tcp/deadline.hpp"
#include "tcp/timer_wheel.hpp"
#include "tcp/types.hpp"

namespace synmill::tcp {

// Handle an application keeps: slot index plus a generation so a stale handle
// to a reused slot is refused.
struct ConnId {
  uint32_t idx = UINT32_MAX;
  uint32_t gen = 0;
  friend constexpr bool operator==(ConnId, ConnId) = default;
  bool valid() const { return idx != UINT32_MAX; }
};

enum class CloseReason : uint8_t {
  kNormal,            // both FINs exchanged and acknowledged
  kReset,             // the peer sent an acceptable RST
  kRefused,           // RST in answer to our SYN
  kAborted,           // the application called abort()
  kTimeout,           // retransmissions exhausted (SYN, SYN-ACK, data or FIN)
  kFinWait2Timeout,   // orphaned FIN_WAIT_2 reclaimed
  kCloseWaitTimeout,  // the application never closed
  kDataAfterClose,    // data arrived after the application closed: RST sent
  kShutdown,          // the stack is shutting down
  kReclaimed,         // reset to make room: orphan over the bound, or the table / pool ran short
  kReplaced,          // an orphan whose peer opened the tuple anew (SYN, stack_reclaim.cpp)
  kPersistTimeout,    // squatting a zero or tiny window past persist_timeout
  kIdleTimeout,       // ESTABLISHED with no data either way for idle_timeout
  kKeepaliveTimeout,  // keep-alive probes unanswered
};

constexpr const char* to_string(CloseReason r) {
  switch (r) {
    case CloseReason::kNormal: return "normal";
    case CloseReason::kReset: return "reset";
    case CloseReason::kRefused: return "refused";
    case CloseReason::kAborted: return "aborted";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kFinWait2Timeout: return "fin_wait2_timeout";
    case CloseReason::kCloseWaitTimeout: return "close_wait_timeout";
    case CloseReason::kDataAfterClose: return "data_after_close";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kReclaimed: return "reclaimed";
    case CloseReason::kReplaced: return "replaced";
    case CloseReason::kPersistTimeout: return "persist_timeout";
    case CloseReason::kIdleTimeout: return "idle_timeout";
    case CloseReason::kKeepaliveTimeout: return "keepalive_timeout";
  }
  return "?";
}

namespace cflag {
inline constexpr uint16_t kTimestamps = 1 << 0;   // RFC 7323 timestamps negotiated
inline constexpr uint16_t kWscale = 1 << 1;       // window scaling negotiated
inline constexpr uint16_t kSack = 1 << 2;         // SACK-permitted negotiated
// bit 3 is free (a passive open is ConnHot::listener != Stack::kNoListener)
inline constexpr uint16_t kFinQueued = 1 << 4;    // application asked to close: FIN after the data
inline constexpr uint16_t kFinSent = 1 << 5;      // our FIN occupies sequence SND.MAX - 1
inline constexpr uint16_t kOrphan = 1 << 6;       // application closed fully: no more reads
inline constexpr uint16_t kAccepted = 1 << 7;     // on_open delivered
inline constexpr uint16_t kAckNow = 1 << 8;       // an ACK is owed to the peer
inline constexpr uint16_t kRttTiming = 1 << 9;    // a segment is being timed (Karn): the SYN, or ConnExt::rtt_seq
inline constexpr uint16_t kInAcceptQueue = 1 << 10;
inline constexpr uint16_t kPeerFin = 1 << 11;     // the peer's FIN has been received
inline constexpr uint16_t kOutputPending = 1 << 12;  // output() runs when the entry point ends
inline constexpr uint16_t kNagle = 1 << 13;       // RFC 1122 §4.2.3.4: hold small segments while data is unacknowledged
inline constexpr uint16_t kRecovery = 1 << 14;    // in fast recovery (RFC 6582 NewReno or RFC 6675 SACK)
inline constexpr uint16_t kAckDelayed = 1 << 15;  // a delayed ACK is due at ConnHot::ack_at16
}  // namespace cflag

namespace xflag {
inline constexpr uint8_t kPureAck = 1 << 0;  // the owed ACK goes out alone, before data (dup ACK, SACK, D-SACK)
inline constexpr uint8_t kSacked = 1 << 1;   // the SACK scoreboard holds blocks (ConnExt::sacked not empty)
inline constexpr uint8_t kOooHeld = 1 << 2;  // out-of-order data held (ConnExt::rcvq has blocks)
inline constexpr uint8_t kRescued = 1 << 3;  // RFC 6675 rescue retransmission sent in this recovery
inline constexpr uint8_t kHeard = 1 << 4;    // a segment arrived since the last idle/keep-alive tick
inline constexpr uint8_t kActive = 1 << 5;   // data arrived, or ours was acknowledged, since that tick
inline constexpr uint8_t kSquat = 1 << 6;    // data queued toward a window below one segment
inline constexpr uint8_t kExtCheck = 1 << 7;  // holds a ConnExt: see whether it can go back when the entry point ends
}  // namespace xflag

// All-zero bytes are a CLOSED slot that was never used; alloc_conn() starts
// each use from ConnHot{} (extension kNone, timer unarmed) keeping `gen`. At
// 120 bytes (4-byte aligned) "cache line" below means the record's first 64
// bytes and the rest. A free slot's snd_wnd holds the next
// free slot (IndexPool's free list threaded through the records).
struct ConnHot {
  static constexpr uint32_t kNoExt = (uint32_t{1} << 24) - 1;  // `ext` is 24 bits
  static constexpr uint32_t kNoLink = (uint32_t{1} << 24) - 1;
  static constexpr uint32_t kMaxDupacks = 7;  // dupacks saturates here (3 bits; read only below 3)
  // ---- first cache line: the per-segment path ----
  FourTuple tuple;         // 12 (the index reads it from the slot)
  State state;             // 1
  uint8_t challenge_count; // RFC 5961 §7 challenge ACKs sent in second challenge_epoch_s
  uint16_t flags;          // cflag::*
  // SND.UNA is also the ISS while our SYN is unacknowledged (only the SYN is
  // in flight in SYN_SENT / SYN_RCVD), so the ISS needs no field.
  Seq snd_una, snd_nxt, snd_max;  // SND.MAX: highest sequence sent + 1 (SND.NXT rewinds on RTO)
  uint32_t snd_wnd;        // peer's window, scaled
  // RFC 5961 §5.2 MAX.SND.WND, the largest window the peer offered, kept as
  // the largest window field and read scaled (max_snd_wnd()). The SYN's
  // window, never scaled (RFC 7323 §2.2), is kept rounded up to the scale's
  // unit: MAX.SND.WND reads up to 2^Snd.Wind.Shift - 1 bytes above it until
  // a larger window arrives (a deliberate deviation, for two bytes of the
  // record: the §5.2 ACK test then accepts up to that many bytes more, never
  // fewer; Linux's max_window keeps the exact byte count).
  uint16_t max_wnd_field;
  // The IRS's low 16 bits, for replace_orphan() alone (a duplicate of the
  // orphan's opening SYN never replaces it; stack_reclaim.cpp). In SYN_RCVD
  // the full IRS is RCV.NXT - 1.
  uint16_t irs_lo;
  // SND.WL1. RFC 9293's SND.WL2 needs no field: every window update sets it
  // to a SEG.ACK >= SND.UNA's value then, and SND.UNA only grows, so
  // SND.WL2 =< SND.UNA always and its test (SND.WL2 =< SEG.ACK) is read as
  // SND.UNA =< SEG.ACK (Stack::window_newer, stack.hpp).
  Seq snd_wl1;
  Seq rcv_nxt;
  Seq rcv_adv;             // right edge of the window we advertised
  uint32_t ts_recent;      // RFC 7323 §4.3 TS.Recent
  Seq rcv_acked;           // RCV.NXT in the last ACK we sent (delayed ACK counts from it)
  // The window field of the last segment we sent, at the scale of our
  // non-SYN segments (a SYN-ACK's, never scaled, is kept rounded down to
  // it): the peer believes our window ends at rcv_acked + (field << scale)
  // (Stack::rcv_wnd_edge; every segment carrying a window carries our ACK).
  uint16_t rcv_wnd_field;
  // Delayed-ACK deadline, valid while cflag::kAckDelayed: 64 µs units,
  // rounded down, modulo 2^16 (Stack::ack_units_left reads it).
  uint16_t ack_at16;
  uint16_t snd_mss;        // largest payload we put in a segment
  uint8_t retries;         // consecutive retransmissions of the oldest segment
  uint8_t xflags;          // xflag::*
  // ---- the rest: RTT, congestion, deadlines, the application's ----
  uint32_t cwnd, ssthresh;
  uint32_t srtt_us, rttvar_us;  // RFC 6298, 0 = no sample yet
  uint32_t rto_ms : 21;    // at most kMaxDeadline (1.8e6 ms, deadline.hpp) fits 21 bits
  uint32_t snd_wscale : 4; // shift applied to the peer's window field (RFC 7323 §2.3: at most 14)
  uint32_t dupacks : 3;    // RFC 5681 §2 duplicate ACKs in a row, saturating at kMaxDupacks
  uint32_t challenge_epoch_s : 4;  // RFC 5961 §7 rate-limit window: seconds, modulo 16
  Deadline rtx_at;             // retransmission or persist deadline; none = no deadline
  Deadline state_at;           // reclaim deadline for the current state; none = no deadline
  uint32_t gen = 0;        // ConnId::gen of the current use
  uint32_t ext : 24 = kNoExt;  // index of the ConnExt held, kNoExt = none
  uint32_t listener : 8;   // index of the listener (passive), Stack::kNoListener (active)
  uint16_t app = 0;
  // ESTABLISHED only (idle reclaim and keep-alive, stack_reclaim.cpp): the
  // tick counts. An orphan (cflag::kOrphan, never ESTABLISHED: close() moves
  // it on) keeps the links of the orphan list in the same six bytes instead
  // (orphan_prev / orphan_next: 24 bits each, slots are below 2^24).
  uint16_t idle_ticks = 0;   // ticks without data either way
  uint16_t quiet_ticks = 0;  // ticks without any segment from the peer
  uint8_t ka_probes = 0;     // keep-alive probes sent since the peer was last heard
  uint8_t link_hi = 0;       // orphans: the links' high bits
  // The connection's timer (timer_wheel.hpp: the wheel's node for this slot,
  // all-zero when unarmed), at the earliest of the deadlines above or before.
  TimerWheel::Node timer{};

  uint32_t max_snd_wnd() const { return uint32_t{max_wnd_field} << snd_wscale; }
  // MAX.SND.WND from the SYN's unscaled window (negotiated scale set).
  void set_max_snd_wnd_syn(uint32_t wnd) {
    // ceil(wnd / 2^scale) as -floor(-wnd / 2^scale) (C++20: >> of a negative int is arithmetic)
    max_wnd_field = static_cast<uint16_t>(-(-static_cast<int32_t>(wnd) >> snd_wscale));
  }
  // After snd_wnd took a segment's window (SEG.WND << Snd.Wind.Shift).
  void note_snd_wnd() {
    const auto f = static_cast<uint16_t>(snd_wnd >> snd_wscale);
    if (f > max_wnd_field) max_wnd_field = f;
  }
  void set_irs(Seq irs) { irs_lo = static_cast<uint16_t>(irs.raw()); }

  uint32_t orphan_prev() const { return idle_ticks | (uint32_t{ka_probes} << 16); }
  uint32_t orphan_next() const { return quiet_ticks | (uint32_t{link_hi} << 16); }
  void set_orphan_prev(uint32_t v) {
    idle_ticks = static_cast<uint16_t>(v);
    ka_probes = static_cast<uint8_t>(v >> 16);
  }
  void set_orphan_next(uint32_t v) {
    quiet_ticks = static_cast<uint16_t>(v);
    link_hi = static_cast<uint8_t>(v >> 16);
  }
};
// RFC 9293 §3.10.7.4: whether a segment's window is newer than the one held
// (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), with
// SND.WL2 read as SND.UNA (see ConnHot::snd_wl1). Called once SND.UNA has
// taken in the segment's ACK. The two readings differ only for an old ACK
// (SEG.ACK < SND.UNA) carrying SEG.SEQ = SND.WL1, whose window this one
// leaves alone: RFC 9293 updates the window only when SND.UNA =< SEG.ACK
// and says an old ACK "can be ignored", and Linux's tcp_ack() takes no window
// from one either (its old_ack path).
inline bool window_newer(const ConnHot& c, Seq seq, Seq ack) {
  return c.snd_wl1 < seq || (c.snd_wl1 == seq && c.snd_una <= ack);
}

static_assert(sizeof(ConnHot) == 120, "the connection record: everything an idle connection keeps, its timer included");

// Data-transfer state, held only while the connection needs it (see the top
// of this file and stack_ext.cpp for when it is taken and given back).
// Ordered by use: the send queue, the marks, the start of the receive buffer;
// the out-of-order blocks and the SACK scoreboard (only with loss) last. The
// receive buffer's chunk ring is a slice of the stack's array, indexed by the
// extension, not by the connection.
struct ConnExt {
  SendQueue sendq;         // bytes from SND.UNA (or ISS+1) on: unacknowledged and unsent
  // RFC 6298 RTT sample of a data segment or FIN (cflag::kRttTiming once
  // synchronized; the SYN's sample needs no field, see Stack::syn_rtt_start_us).
  Seq rtt_seq;             // sequence whose ACK ends the timed sample
  uint32_t rtt_start_us;   // the send time, Stack::rtt_clock_us
  Seq recover;             // RFC 6582 §3.2 / RFC 6675 §5: SND.MAX when recovery (or an RTO) began
  Seq high_rxt;            // RFC 6675 HighRxt + 1: end of the highest retransmitted range
  // When the connection began to squat (xflag::kSquat): the first µs at or
  // after that instant (Stack::deadline_at; within persist_timeout, at most
  // kMaxDeadline, of now), so 32 bits keep ConnExt at 256 bytes.
  Deadline squat_since;
  uint32_t squat_prev, squat_next;  // links of the squatter list (a squatter holds data, so an extension)
  RecvBuffer rcvq;         // received, not yet taken by the application; out-of-order data
  SackBoard sacked;        // what the peer SACKed above SND.UNA (RFC 6675 scoreboard)
};
static_assert(sizeof(void*) != 8 || sizeof(ConnExt) == 256, "a power of two: ext_[i] is a shift");

}  // namespace synmill::tcp
