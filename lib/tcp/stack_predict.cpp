// Header prediction (Van Jacobson's, as in BSD tcp_input and Linux
// tcp_rcv_established's fast path, and the short cuts of Linux
// tcp_rcv_state_process for SYN_RCVD and LAST_ACK): a segment that is the
// next one expected and needs none of the ladder's rejections skips the
// ladder of RFC 9293 §3.10.7.4 once the conditions that make every other
// rung a no-op are checked here. Three cases:
//
//   ESTABLISHED: an ACK of new data, in-order data, or a FIN (with or
//     without data), changing nothing but SND.UNA, RCV.NXT and what the FIN
//     does. The ladder's outcome for such a segment (stack_input.cpp
//     input_sync, input_ack, input_text_fin): PAWS passes (RFC 7323 §5.3),
//     the segment is acceptable (§3.10.7.4 first check), no RST or SYN, the
//     ACK is within [SND.UNA, SND.MAX] (RFC 5961 §5.2), there are no SACK
//     blocks to score nor duplicate ACK to count (RFC 5681 §2: a FIN is
//     never one), the window is unchanged and at least one segment (no
//     window update beyond SND.WL1/WL2, no persist, no squatter), no FIN was
//     sent, none received or held, no data is held out of order.
//   SYN_RCVD (passive open): the ACK that completes the handshake, possibly
//     with in-window data, no FIN: PAWS passes, SEG.SEQ = RCV.NXT (so the
//     segment is acceptable), no RST or SYN; then the ladder's fifth check
//     for SYN_RCVD (complete_handshake, the same code) and its seventh.
//   LAST_ACK: the ACK of our FIN, no data, no SACK blocks, nothing queued:
//     the connection ends (§3.10.7.4 fifth check, LAST-ACK STATE) and
//     nothing the ladder would have changed on the way (SND.UNA, the RTT
//     estimate, cwnd, TS.Recent, SND.WND) outlives it.
//
// What is left is done here in the same order as there, so the replies and
// the connection state are the same bit for bit: test/fuzz/fuzz_stack.cpp
// runs every input through two stacks, one with
// StackConfig::header_prediction off, and compares every segment sent and
// every state.
#include "tcp/stack.hpp"
#include "tcp/stack_steps.hpp"

namespace synmill::tcp {

namespace {
constexpr uint8_t kCtl = flag::kSyn | flag::kFin | flag::kRst | flag::kAck | flag::kUrg;
}

bool Stack::predict_established(ConnHot& c, const SegmentIn& seg, Instant now) {
  const uint8_t ctl = seg.flags & kCtl;
  if ((ctl & ~flag::kFin) != flag::kAck || seg.seq != c.rcv_nxt) return false;
  const bool fin = ctl & flag::kFin;
  if (c.flags & (cflag::kRecovery | cflag::kOrphan | cflag::kFinSent | cflag::kPeerFin)) return false;
  if (c.xflags & (xflag::kSacked | xflag::kOooHeld | xflag::kSquat)) return false;
  if (seg.opts.sack_count != 0 || c.dupacks != 0) return false;
  const bool ts = (c.flags & cflag::kTimestamps) != 0;
  if (ts && (!seg.opts.has_timestamps || static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0)) return false;
  if (seg.ack < c.snd_una || seg.ack > c.snd_max) return false;
  if ((static_cast<uint32_t>(seg.window) << c.snd_wscale) != c.snd_wnd || c.snd_wnd < mss_eff(c)) return false;
  if (!window_newer(c, seg.seq, seg.ack)) return false;
  const auto len = static_cast<uint32_t>(seg.payload.size());
  if (len == 0) {
    // A duplicate ACK, or nothing to do: the ladder. (A FIN is never a
    // duplicate, RFC 5681 §2.)
    if (!fin && seg.ack == c.snd_una) return false;
  } else {
    // In the window, to an application that has accepted the connection.
    if (!(c.flags & cflag::kAccepted) || !(c.rcv_adv > c.rcv_nxt) || seg.seq + len > c.rcv_adv) return false;
  }
  if (fin) {
    // A FIN occupies sequence space: acceptable only in an open window
    // (first check). One held already (it came out of order): the ladder
    // sorts out which counts.
    if (!(c.rcv_adv > c.rcv_nxt) || rcv_has_fin(c)) return false;
  } else if (len > 0 && rcv_has_fin(c)) {
    return false;
  }
  ++ctr_.predicted;

  // input_sync: TS.Recent (RFC 7323 §4.3, SEG.SEQ <= Last.ACK.sent).
  if (ts && seg.seq <= c.rcv_acked) c.ts_recent = seg.opts.ts_val;

  // input_ack: new data acknowledged.
  const uint32_t data_acked = c.snd_una < seg.ack ? ack_new_data(c, seg.ack, now) : 0;
  c.snd_wl1 = seg.seq;  // the window itself is unchanged
  if (data_acked > 0 && !after_data_acked(c)) return true;

  // input_text_fin. A FIN (with any data before it): the ladder's own
  // seventh and eighth steps, as it would run them now; a bare FIN at
  // RCV.NXT with nothing held takes effect at once (the branch of
  // input_text_fin such a FIN meets).
  if (fin) {
    const ConnExt* hx = ext(c);
    const bool holds = hx != nullptr && (hx->rcvq.in_order(c.rcv_nxt) > 0 || hx->rcvq.has_ooo() || hx->rcvq.has_fin());
    if (len == 0 && seg.seq == c.rcv_nxt && c.state == State::kEstablished &&
        (c.flags & (cflag::kAccepted | cflag::kPeerFin)) == cflag::kAccepted && !holds) {
      accept_fin(c, now);
      return true;
    }
    input_text_fin(c, seg, now);
    return true;
  }
  // In-order data, all inside the window. The callbacks above may have
  // changed what the checks saw.
  predicted_text(c, seg, now,
                 len > 0 && (c.state != State::kEstablished || (c.flags & cflag::kOrphan) || rcv_has_fin(c)));
  return true;
}

// input_text_fin for a predicted segment without FIN: its in-order data, all
// inside the window, then try_fin; or input_text_fin itself where the
// callbacks before it changed what the prediction checked (`changed`).
inline void Stack::predicted_text(ConnHot& c, const SegmentIn& seg, Instant now, bool changed) {
  if (!seg.payload.empty()) {
    if (changed) {
      input_text_fin(c, seg, now);
      return;
    }
    receive_data(c, seg.seq, seg.payload, now);
    if (c.state == State::kClosed) return;
  }
  try_fin(c, now);
}

bool Stack::predict_handshake(ConnHot& c, const SegmentIn& seg, Instant now) {
  // Simultaneous open (no listener) and everything else: the ladder.
  if ((seg.flags & kCtl) != flag::kAck || seg.seq != c.rcv_nxt || c.listener == kNoListener) return false;
  const bool ts = (c.flags & cflag::kTimestamps) != 0;
  if (ts && (!seg.opts.has_timestamps || static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0)) return false;
  const auto len = static_cast<uint32_t>(seg.payload.size());
  // Acceptable (first check): SEG.SEQ = RCV.NXT, and data needs an open window.
  if (len > 0 && !(c.rcv_adv > c.rcv_nxt)) return false;
  ++ctr_.predicted;

  // input_sync: TS.Recent (RFC 7323 §4.3), then the fifth check.
  if (ts && seg.seq <= c.rcv_acked) c.ts_recent = seg.opts.ts_val;
  if (!complete_handshake(c, seg, now)) return true;
  // Data on the segment that completes the handshake is acknowledged at once.
  if (len > 0) c.flags |= cflag::kAckNow;
  // input_text_fin: in-order data, all inside the window, to an application
  // that has taken the connection (on_open may have changed all of that).
  predicted_text(c, seg, now,
                 len > 0 && (c.state != State::kEstablished || (c.flags & (cflag::kOrphan | cflag::kPeerFin)) ||
                             !(c.flags & cflag::kAccepted) || seg.seq != c.rcv_nxt || seg.seq + len > c.rcv_adv ||
                             rcv_has_fin(c)));
  return true;
}

[[gnu::flatten]] bool Stack::predict_last_ack(ConnHot& c, const SegmentIn& seg, Instant now) {
  (void)now;
  if ((seg.flags & kCtl) != flag::kAck || seg.seq != c.rcv_nxt || !seg.payload.empty()) return false;
  // Our FIN is the only thing outstanding and this ACK covers it.
  if (seg.ack != c.snd_max || c.snd_una == c.snd_max || !(c.flags & cflag::kFinSent)) return false;
  if (seg.ack < c.snd_una - c.max_snd_wnd()) return false;  // RFC 5961 §5.2 (never, in practice)
  if (seg.opts.sack_count != 0 || (c.flags & cflag::kRecovery) || (c.xflags & xflag::kSquat)) return false;
  if (sendq_size(c) != 0) return false;
  if ((c.flags & cflag::kTimestamps) &&
      (!seg.opts.has_timestamps || static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0))
    return false;
  ++ctr_.predicted;
  // input_ack: SND.UNA = SND.MAX acknowledges the FIN: LAST-ACK STATE ends.
  finish(c, CloseReason::kNormal);
  return true;
}

}  // namespace synmill::tcp
