// Loss recovery before the retransmission timer: fast retransmit (RFC 5681
// §3.2), NewReno fast recovery (RFC 6582) without SACK, conservative
// SACK-based recovery (RFC 6675) when SACK was negotiated. The RTO side
// (RFC 6298, Karn) lives in stack_timers.cpp.
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

// RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: outstanding data, no payload, no SYN
// or FIN, ACK == SND.UNA, window unchanged. RFC 6675 §2 also counts an ACK
// whose SACK blocks report new data; here such a segment counts even when it
// carries data (deviation: in a two-way transfer the peer's SACK blocks ride
// on its data, and each one still says a segment left the network; Linux
// counts SACKed segments regardless of the carrier too).
bool Stack::is_dup_ack(const ConnHot& c, const SegmentIn& seg, bool sack_news) const {
  if (seg.ack != c.snd_una || c.snd_max == c.snd_una) return false;
  // Answers to zero-window probes are not duplicates (nothing can be lost
  // in a closed window).
  if (c.snd_wnd == 0 || seg.window == 0) return false;
  if (seg.has(flag::kSyn)) return false;
  if (sack_news) return true;
  if (!seg.payload.empty() || seg.has(flag::kFin)) return false;
  return (static_cast<uint32_t>(seg.window) << c.snd_wscale) == c.snd_wnd;
}

void Stack::on_dup_ack(ConnHot& c, Instant now) {
  ++ctr_.dup_acks;
  if (c.dupacks < ConnHot::kMaxDupacks) ++c.dupacks;
  if (c.flags & cflag::kRecovery) {
    // RFC 6582 §3.2 step 4: each further duplicate ACK inflates cwnd by one
    // segment (it left the network). With SACK the pipe estimate does this.
    if (!(c.flags & cflag::kSack)) c.cwnd += mss_eff(c);
    return;
  }
  ConnExt* k = ext(c);
  const bool sack_lost = (c.xflags & xflag::kSacked) && held_ext(c).sacked.lost_below(c.snd_una + 1, mss_eff(c));
  if (c.dupacks < SackBoard::kDupThresh && !sack_lost) return;
  // Recovery keeps its marks in the extension (only a lone FIN is
  // outstanding without one); with none to be had the timer retransmits.
  if (k == nullptr && (k = take_ext(c)) == nullptr) return;
  // RFC 6582 §3.2 step 2: only when the ACK covers more than `recover` (no
  // second reduction for losses of one window, nor right after an RTO).
  // The RFC's recover is the highest sequence number sent, SND.MAX - 1; ours
  // is SND.MAX, hence >=.
  if (c.snd_una < k->recover) return;
  enter_recovery(c, now);
}

void Stack::enter_recovery(ConnHot& c, Instant now) {
  ConnExt& k = held_ext(c);  // the callers hold one (a SACK scoreboard, or on_dup_ack took it)
  const uint32_t mss = mss_eff(c);
  const auto flight = static_cast<uint32_t>(c.snd_max - c.snd_una);
  // RFC 5681 §3.2 eq. (4), in whole segments (a fractional window would
  // leave a sub-MSS gap that sender SWS avoidance never fills).
  c.ssthresh = std::max(flight / 2 / mss * mss, 2 * mss);
  k.recover = c.snd_max;
  c.flags |= cflag::kRecovery;
  c.xflags &= static_cast<uint8_t>(~xflag::kRescued);
  ++ctr_.fast_retransmits;
  if (c.flags & cflag::kSack) {
    ++ctr_.sack_recoveries;
    c.cwnd = c.ssthresh;  // RFC 6675 §5 step (4.2)
    k.high_rxt = c.snd_una;
  } else {
    c.cwnd = c.ssthresh + 3 * mss;  // RFC 6582 §3.2 step 3
  }
  // Retransmit the first unacknowledged segment (RFC 6675 §5 step (4.3)).
  const uint32_t sent = send_range(c, c.snd_una, mss_eff(c), now);
  k.high_rxt = seq_max(k.high_rxt, c.snd_una + sent);
  start_rtx(c, now);
}

void Stack::on_ack_in_recovery(ConnHot& c, uint32_t acked, Instant now) {
  ConnExt& k = held_ext(c);  // in recovery: one is held
  const uint32_t mss = mss_eff(c);
  if (c.snd_una >= k.recover) {
    // Full acknowledgment: leave recovery (RFC 6582 §3.2 step 6, option 1;
    // RFC 6675 §5 step (B) sets cwnd to ssthresh).
    const auto flight = static_cast<uint32_t>(c.snd_max - c.snd_una);
    c.cwnd = (c.flags & cflag::kSack) ? c.ssthresh
                                        : std::min(c.ssthresh, std::max(flight, mss) + mss);
    c.flags &= static_cast<uint16_t>(~cflag::kRecovery);
    c.dupacks = 0;
    return;
  }
  ++ctr_.partial_acks;
  if (c.flags & cflag::kSack) {
    k.high_rxt = seq_max(k.high_rxt, c.snd_una);
  } else {
    // RFC 6582 §3.2 step 5: retransmit the first unacknowledged segment,
    // deflate cwnd by the amount acknowledged, add back one segment.
    send_range(c, c.snd_una, mss_eff(c), now);
    c.cwnd = c.cwnd > acked ? c.cwnd - acked : 0;
    if (acked >= mss) c.cwnd += mss;
    c.cwnd = std::max(c.cwnd, mss);
  }
  // RFC 6582 §3.2 step 5 / §4: the timer is reset on every partial ACK (the
  // "Slow-but-Steady" variant): a long recovery is not cut short by an RTO.
  start_rtx(c, now);
}

// RFC 6675 §2 / §4 SetPipe(): the octets in flight. A FIN is no octet: it
// occupies a sequence number but no room in the network worth a segment, and
// counting it would keep the last lost segment of a closing connection out of
// a cwnd of whole segments (Linux counts packets, and a FIN rides on one).
uint32_t Stack::sack_pipe(ConnHot& c) {
  ConnExt& k = held_ext(c);  // in recovery: one is held
  const Seq data_max = (c.flags & cflag::kFinSent) ? c.snd_max - 1 : c.snd_max;
  return k.sacked.pipe(c.snd_una, seq_max(data_max, c.snd_una), k.high_rxt, mss_eff(c));
}

// RFC 6675 §5 step (C) with NextSeg() rule 1: retransmit lost ranges while
// the pipe leaves room for one more segment.
void Stack::sack_retransmit(ConnHot& c, Instant now) {
  ConnExt& k = held_ext(c);  // in recovery: one is held
  const uint32_t smss = mss_eff(c);
  for (;;) {
    const uint32_t pipe = sack_pipe(c);
    if (c.cwnd < pipe + smss) return;
    Seq l, r;
    if (!k.sacked.next_lost(c.snd_una, seq_max(k.high_rxt, c.snd_una), smss, &l, &r)) return;
    const uint32_t sent = send_range(c, l, std::min(static_cast<uint32_t>(r - l), smss), now);
    if (sent == 0) return;
    k.high_rxt = l + sent;
  }
}

// RFC 6675 §4 NextSeg() rule (4), once per recovery: when no lost range
// (rule 1) and no new data (rule 2) could go and the pipe still has room for
// a segment, one "rescue" retransmission of up to SMSS that includes the
// highest unSACKed outstanding sequence number. A lost tail (nothing SACKed
// above it, so never IsLost) is then repaired without waiting for the RTO.
// HighRxt is not moved (RFC 6675 §4). Only what lies above HighRxt is
// rescued (deviation: the RFC allows a range already retransmitted).
void Stack::rescue_retransmit(ConnHot& c, Instant now) {
  if (c.xflags & xflag::kRescued) return;
  ConnExt& k = held_ext(c);  // in recovery: one is held
  const uint32_t smss = mss_eff(c);
  if (c.cwnd < sack_pipe(c) + smss) return;
  Seq l, r;
  if (k.sacked.next_lost(c.snd_una, seq_max(k.high_rxt, c.snd_una), smss, &l, &r)) return;  // rule 1 first
  if (!k.sacked.top_hole(c.snd_una, c.snd_max, &l, &r)) return;
  // Only bytes not retransmitted in this recovery yet (above HighRxt): a
  // hole rule 1 already repaired is not sent a second time.
  if (!(k.high_rxt < r)) return;
  l = seq_max(l, k.high_rxt);
  if (static_cast<uint32_t>(r - l) > smss) l = r - smss;
  if (send_range(c, l, static_cast<uint32_t>(r - l), now) == 0) return;
  c.xflags |= xflag::kRescued;
  ++ctr_.rescue_retransmits;
}

// Sends [left, left + len) again from the send queue (left >= SND.UNA), the
// FIN with it when the range reaches it. Returns the sequence space sent.
uint32_t Stack::send_range(ConnHot& c, Seq left, uint32_t len, Instant now) {
  const SendQueue& q = sendq_of(c);
  const auto off = static_cast<uint32_t>(left - c.snd_una);
  const uint32_t data_end = q.size();
  const bool fin_sent = (c.flags & cflag::kFinSent) != 0;
  if (off > data_end || (off == data_end && !fin_sent)) return 0;
  const uint32_t n = std::min(len, data_end - off);
  const bool fin = fin_sent && off + n == data_end && (n < len || n == 0);
  if (n == 0 && !fin) return 0;
  SegmentOut out;
  fill_common(c, out, now);
  out.seq = left;
  out.window = window_field(c, false);
  if (n > 0) {
    out.payload_src = &q;
    out.payload_offset = off;
    out.payload_len = n;
  }
  if (fin) out.flags |= flag::kFin;
  // Karn (RFC 6298 §3): a retransmitted segment is never timed.
  if ((c.flags & cflag::kRttTiming) && seq_in(held_ext(c).rtt_seq, left, left + n + (fin ? 1u : 0u)))
    c.flags &= static_cast<uint16_t>(~cflag::kRttTiming);
  ++ctr_.retransmits;
  note_ack_sent(c);
  emit(out);
  return n + (fin ? 1u : 0u);
}

}  // namespace synmill::tcp
