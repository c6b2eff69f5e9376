// Header prediction (Van Jacobson's, as in BSD tcp_input and Linux
// tcp_rcv_established's fast path): in ESTABLISHED, a segment that is the
// next one expected and changes nothing but SND.UNA and RCV.NXT — an ACK of
// new data, or in-order data — skips the ladder of RFC 9293 §3.10.7.4 once
// the conditions that make every other rung a no-op are checked here.
//
// The ladder's outcome for such a segment (stack_input.cpp input_sync,
// input_ack, input_text_fin): PAWS passes (RFC 7323 §5.3), the segment is
// acceptable (§3.10.7.4 first check), no RST or SYN, the ACK is within
// [SND.UNA, SND.MAX] (RFC 5961 §5.2), there are no SACK blocks to score nor
// duplicate ACK to count (RFC 5681 §2), the window is unchanged and at least
// one segment (no window update beyond SND.WL1/WL2, no persist, no squatter),
// no FIN was sent or received, no data is held out of order. What is left is
// done here in the same order as there, so the replies and the connection
// state are the same bit for bit: test/fuzz/fuzz_stack.cpp runs every input
// through two stacks, one with StackConfig::header_prediction off, and
// compares every segment sent and every state.
#include "tcp/stack.hpp"

namespace synmill::tcp {

bool Stack::input_predicted(ConnHot& c, const SegmentIn& seg, Instant now) {
  constexpr uint8_t kCtl = flag::kSyn | flag::kFin | flag::kRst | flag::kAck | flag::kUrg;
  if ((seg.flags & kCtl) != flag::kAck || seg.seq != c.rcv_nxt) return false;
  if (c.flags & (cflag::kRecovery | cflag::kOrphan | cflag::kFinSent | cflag::kPeerFin)) return false;
  if (c.xflags & (xflag::kSacked | xflag::kOooHeld | xflag::kSquat)) return false;
  if (seg.opts.sack_count != 0 || c.dupacks != 0) return false;
  const bool ts = (c.flags & cflag::kTimestamps) != 0;
  if (ts && (!seg.opts.has_timestamps || static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0)) return false;
  if (seg.ack < c.snd_una || seg.ack > c.snd_max) return false;
  if ((static_cast<uint32_t>(seg.window) << c.snd_wscale) != c.snd_wnd || c.snd_wnd < mss_eff(c)) return false;
  if (!(c.snd_wl1 < seg.seq || (c.snd_wl1 == seg.seq && c.snd_wl2 <= seg.ack))) return false;
  const auto len = static_cast<uint32_t>(seg.payload.size());
  if (len == 0) {
    if (seg.ack == c.snd_una) return false;  // a duplicate ACK, or nothing to do: the ladder
  } else {
    // In the window, to an application that has accepted the connection.
    if (!(c.flags & cflag::kAccepted) || !(c.rcv_adv > c.rcv_nxt) || seg.seq + len > c.rcv_adv) return false;
    if (rcv_has_fin(c)) return false;
  }
  ++ctr_.predicted;

  // input_sync: TS.Recent (RFC 7323 §4.3, SEG.SEQ <= Last.ACK.sent).
  if (ts && seg.seq <= c.rcv_acked) c.ts_recent = seg.opts.ts_val;

  // input_ack: new data acknowledged.
  const uint32_t data_acked = c.snd_una < seg.ack ? ack_new_data(c, seg.ack, now) : 0;
  c.snd_wl1 = seg.seq;  // the window itself is unchanged
  c.snd_wl2 = seg.ack;
  if (data_acked > 0 && !after_data_acked(c)) return true;

  // input_text_fin: in-order data, all inside the window.
  if (len > 0) {
    // The callbacks above may have changed what the checks saw.
    if (c.state != State::kEstablished || (c.flags & cflag::kOrphan) || rcv_has_fin(c)) {
      input_text_fin(c, seg, now);
      return true;
    }
    receive_data(c, seg.seq, seg.payload, now);
    if (c.state == State::kClosed) return true;
  }
  try_fin(c, now);
  return true;
}

}  // namespace synmill::tcp
