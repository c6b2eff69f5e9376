// Segment arrival for a connection in the table: RFC 9293 §3.10.7.3 (SYN_SENT)
// and §3.10.7.4 (every other state), in the RFC's order, with RFC 5961
// (blind-attack mitigations) and RFC 7323 (window scale, timestamps, PAWS).
// The steps header prediction shares (complete_handshake, ack_new_data,
// after_data_acked, established) are in stack_steps.hpp, inline.
#include <algorithm>

#include "tcp/stack.hpp"
#include "tcp/stack_steps.hpp"
#include "wire/tcp_frame.hpp"

namespace synmill::tcp {

namespace {
constexpr uint16_t kMinSndMss = 64;  // deliberate floor, cf. Linux tcp_min_snd_mss / CVE-2019-11479
}

// Options from the peer's SYN (or SYN-ACK). RFC 9293 §3.7.1 (MSS, 536 when
// absent), RFC 7323 §2.2 (window scale both ways or not at all, shift <= 14),
// §3.2 (timestamps both ways), RFC 2018 §2 (SACK-permitted).
void Stack::negotiate(ConnHot& c, const wire::TcpOptions& o) {
  // Without the option: 536 for IPv4, 1220 for IPv6 (RFC 8200 §8.3, minimum
  // MTU 1280 less 60; Linux's default too).
  const uint16_t peer_mss = o.has_mss ? o.mss : wire::tcp_default_mss(is_ipv6(c.tuple) ? wire::IpFamily::kV6 : wire::IpFamily::kV4);
  c.snd_mss = std::max<uint16_t>(std::min(peer_mss, our_mss(c.tuple)), kMinSndMss);
  uint16_t f = c.flags;  // one store for the three flags below
  if (o.has_wscale) {
    f |= cflag::kWscale;
    c.snd_wscale = std::min<uint8_t>(o.wscale, 14);
  }
  const bool ts = cfg_.timestamps && o.has_timestamps;
  if (ts) {
    f |= cflag::kTimestamps;
    c.ts_recent = o.ts_val;
  }
  if (cfg_.sack && o.sack_permitted) f |= cflag::kSack;
  c.flags = f;
  // RFC 6928 §2 initial window: 10 segments up to 14600 bytes. SMSS here and
  // in all congestion arithmetic is the payload a segment carries (mss_eff:
  // the MSS less the timestamp option).
  const uint32_t mss = c.snd_mss - (ts ? 12u : 0u);
  c.cwnd = std::min(10 * mss, std::max(2 * mss, 14600u));
}

// ---- SYN_SENT, RFC 9293 §3.10.7.3 ----------------------------------------------

void Stack::input_syn_sent(ConnHot& c, const SegmentIn& seg, Instant now) {
  // First: the ACK must acknowledge our SYN.
  if (seg.has(flag::kAck) && (seg.ack <= c.snd_una || seg.ack > c.snd_max)) {
    if (!seg.has(flag::kRst)) {
      ++ctr_.drop.ack_unacceptable;
      reply_rst(seg);
    }
    return;
  }
  // Second: RST is acceptable only with an acceptable ACK.
  if (seg.has(flag::kRst)) {
    ++ctr_.rst_in;
    if (seg.has(flag::kAck)) finish(c, CloseReason::kRefused);
    else ++ctr_.drop.rst_out_of_window;
    return;
  }
  if (!seg.has(flag::kSyn)) {
    ++ctr_.drop.bad_flags;
    return;
  }
  // Fourth: SYN.
  c.set_irs(seg.seq);
  c.rcv_nxt = seg.seq + 1;
  c.rcv_adv = c.rcv_nxt;
  negotiate(c, seg.opts);  // our SYN offered every option, so the peer's reply decides
  c.snd_wnd = seg.window;  // RFC 7323 §2.2: the window in a SYN is never scaled
  c.set_max_snd_wnd_syn(c.snd_wnd);
  c.snd_wl1 = seg.seq;
  if (seg.has(flag::kAck)) {
    c.snd_una = seg.ack;
    if (c.retries == 0 && (c.flags & cflag::kRttTiming))
      rtt_sample(c, rtt_clock_us(now) - syn_rtt_start_us(c));
    c.flags &= static_cast<uint16_t>(~cflag::kRttTiming);
    c.rtx_at = Deadline{};
    arm_timer(c);
    c.flags |= cflag::kAckNow;
    established(c, now);  // data on a SYN-ACK is not queued (no reassembly here)
    return;
  }
  // Simultaneous open: SYN_RCVD, SYN-ACK with our original ISS.
  set_state(c, State::kSynRcvd);
  send_syn(c, true, now);
  start_rtx(c, now);
}

// ---- the acceptability test, RFC 9293 §3.10.7.4 first check ---------------------

bool Stack::acceptable(const ConnHot& c, const SegmentIn& seg) const {
  const uint32_t wnd = c.rcv_adv > c.rcv_nxt ? static_cast<uint32_t>(c.rcv_adv - c.rcv_nxt) : 0;
  const uint32_t len = seg.seg_len();
  const Seq end = c.rcv_nxt + wnd;
  if (len == 0) return wnd == 0 ? seg.seq == c.rcv_nxt : seq_in(seg.seq, c.rcv_nxt, end);
  if (wnd == 0) return false;
  return seq_in(seg.seq, c.rcv_nxt, end) || seq_in(seg.seq + (len - 1), c.rcv_nxt, end);
}

void Stack::challenge_ack(ConnHot& c, Instant now) {
  // RFC 5961 §7: rate limited, here per connection so that no counter is
  // shared between connections (a global one is a side channel, CVE-2016-5696).
  // The second modulo 16 (conn.hpp): a count left from exactly 16k seconds
  // before reads as this second's, so that second allows fewer, never more.
  const auto sec = static_cast<uint32_t>(now.ns() / 1000000000) & 15;
  if (sec != c.challenge_epoch_s) {
    c.challenge_epoch_s = sec;
    c.challenge_count = 0;
  }
  if (c.challenge_count >= cfg_.challenge_acks_per_sec) {
    ++ctr_.drop.challenge_ack_limit;
    return;
  }
  ++c.challenge_count;
  ++ctr_.challenge_acks;
  send_ack(c, now);
}

// ---- every other state, RFC 9293 §3.10.7.4 ---------------------------------------

void Stack::input_sync(ConnHot& c, const SegmentIn& seg, Instant now) {
  const bool rst = seg.has(flag::kRst);
  // RFC 7323 §3.2: once negotiated, a non-RST segment without timestamps is
  // dropped; §5.3 R1 (PAWS): an older TSval makes the segment unacceptable.
  if ((c.flags & cflag::kTimestamps) && !rst) {
    if (!seg.opts.has_timestamps) {
      ++ctr_.drop.paws;
      return;
    }
    if (static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0) {
      ++ctr_.drop.paws;
      challenge_ack(c, now);
      return;
    }
  }
  // A retransmitted SYN in SYN_RCVD gets the SYN-ACK again (as Linux does),
  // rather than the bare ACK of the unacceptable-segment rule. (The IRS is
  // RCV.NXT - 1 here: nothing advances RCV.NXT before the handshake completes.)
  if (c.state == State::kSynRcvd && seg.has(flag::kSyn) && seg.seq + 1 == c.rcv_nxt) {
    if (!seg.has(flag::kAck)) {
      send_syn(c, true, now);
      return;
    }
    // Simultaneous open (RFC 9293 Figure 8): the peer's SYN-ACK acknowledges
    // our SYN; its SYN is a duplicate of the one that brought us here.
    if (seg.ack == c.snd_max && c.listener == kNoListener) {
      if (input_ack(c, seg, now)) c.flags |= cflag::kAckNow;
      return;
    }
  }
  // First: sequence number.
  if (!acceptable(c, seg)) {
    if (rst) {
      ++ctr_.drop.out_of_window;
      return;
    }
    // RFC 9293 §3.8.6.1: data at RCV.NXT to a zero window is a window probe;
    // the ACK below answers it with the current (zero) window.
    if (c.rcv_adv <= c.rcv_nxt && seg.seq == c.rcv_nxt && !seg.payload.empty()) {
      ++ctr_.drop.zero_window;
      ++ctr_.zero_window_probes_answered;
      c.flags |= cflag::kAckNow;
      return;
    }
    ++ctr_.drop.out_of_window;
    // RFC 2883: an old duplicate is reported in a D-SACK block.
    if ((c.flags & cflag::kSack) && !seg.payload.empty() && seg.seq < c.rcv_nxt)
    {
      if (ConnExt* x = take_ext(c)) {  // without one, the duplicate ACK goes without D-SACK
        x->rcvq.set_dsack(seg.seq, seg.seq + static_cast<uint32_t>(seg.payload.size()));
        c.xflags |= xflag::kPureAck;
      }
    }
    // Data gets its duplicate ACK; a bare out-of-window ACK is answered
    // through the rate limiter so two confused ends cannot ACK-storm.
    if (seg.payload.empty() && !seg.has(flag::kSyn) && !seg.has(flag::kFin))
      challenge_ack(c, now);
    else
      c.flags |= cflag::kAckNow;
    return;
  }
  // Second: RST.
  if (rst) {
    input_rst(c, seg, now);
    return;
  }
  // Fourth: SYN.
  if (seg.has(flag::kSyn)) {
    ++ctr_.drop.syn_in_sync;
    if (c.state == State::kSynRcvd && c.listener != kNoListener) {
      finish(c, CloseReason::kReset);  // RFC 9293: return to LISTEN
      return;
    }
    challenge_ack(c, now);  // RFC 5961 §4.2
    return;
  }
  // Fifth: ACK.
  if (!seg.has(flag::kAck)) {
    ++ctr_.drop.no_ack;
    return;
  }
  // RFC 7323 §4.3 (2), §5.3 R3: TS.Recent is taken from a segment with
  // SEG.SEQ <= Last.ACK.sent, the RCV.NXT of our last ACK (rcv_acked): a
  // delayed ACK covering several segments echoes the earliest one's TSval (as
  // Linux tcp_replace_ts_recent: !after(seq, rcv_wup)). Only a segment that
  // got past the RST and SYN checks counts: an in-window RST or SYN that
  // draws only a challenge ACK (RFC 5961 §3.2, §4.2) is dropped and must not
  // move TS.Recent (Linux updates it in tcp_ack, after tcp_validate_incoming).
  if ((c.flags & cflag::kTimestamps) && seg.opts.has_timestamps && seg.seq <= c.rcv_acked)
    c.ts_recent = seg.opts.ts_val;
  const bool handshake = c.state == State::kSynRcvd;
  if (!input_ack(c, seg, now)) return;
  // Data on the segment that completes the handshake is acknowledged at once
  // (no delayed ACK while the connection starts, as Linux's quick-ACK mode).
  if (handshake && !seg.payload.empty()) c.flags |= cflag::kAckNow;
  // Sixth (URG) is not supported: the urgent pointer is ignored (RFC 6093 §6).
  // Seventh and eighth: text and FIN.
  input_text_fin(c, seg, now);
}

// Returns false when the segment is consumed (dropped, or the connection ended).
bool Stack::input_rst(ConnHot& c, const SegmentIn& seg, Instant now) {
  ++ctr_.rst_in;
  // RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; any other in-window
  // RST gets a challenge ACK.
  if (seg.seq != c.rcv_nxt) {
    ++ctr_.drop.rst_in_window;
    challenge_ack(c, now);
    return false;
  }
  if (c.state == State::kSynRcvd && c.listener == kNoListener)
    finish(c, CloseReason::kRefused);
  else
    finish(c, CloseReason::kReset);
  return false;
}

bool Stack::input_ack(ConnHot& c, const SegmentIn& seg, Instant now) {
  if (c.state == State::kSynRcvd) return complete_handshake(c, seg, now);

  // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (seg.ack > c.snd_max) {
    ++ctr_.drop.ack_unacceptable;
    challenge_ack(c, now);
    return false;
  }
  if (seg.ack < c.snd_una - c.max_snd_wnd()) {
    ++ctr_.drop.ack_too_old;
    challenge_ack(c, now);
    return false;
  }

  const bool fin_acked_before = (c.flags & cflag::kFinSent) && c.snd_una == c.snd_max;
  ConnExt* k = ext(c);
  // RFC 2018 §3 / RFC 6675 §4: SACK blocks update the scoreboard first.
  // (Without an extension no data is outstanding, at most a FIN: no SACK
  // block can fall inside (SND.UNA, SND.MAX].)
  bool sack_news = false;
  if ((c.flags & cflag::kSack) && seg.opts.sack_count > 0 && k != nullptr) {
    sack_news = k->sacked.update(seg.opts, c.snd_una, c.snd_max);
    if (!k->sacked.empty()) c.xflags |= xflag::kSacked;
  }
  const bool dup = is_dup_ack(c, seg, sack_news);
  uint32_t data_acked = 0;
  if (c.snd_una < seg.ack) {
    data_acked = ack_new_data(c, seg.ack, now);
  } else if (dup) {
    on_dup_ack(c, now);
    if (c.state == State::kClosed) return false;
  }
  // RFC 6675 §5 step (2) on any segment whose SACK blocks report new data,
  // not only on duplicate ACKs: in a two-way transfer the peer's SACK blocks
  // mostly ride on its data segments (Linux counts SACKed segments the same way).
  if (sack_news && !dup && !(c.flags & cflag::kRecovery) && c.snd_una >= held_ext(c).recover &&
      held_ext(c).sacked.lost_below(c.snd_una + 1, mss_eff(c)))
    enter_recovery(c, now);
  // RFC 9293 §3.10.7.4: window update from the most recent segment.
  if (window_newer(c, seg.seq, seg.ack)) {
    c.snd_wnd = static_cast<uint32_t>(seg.window) << c.snd_wscale;
    c.note_snd_wnd();
    c.snd_wl1 = seg.seq;
  }
  // RFC 9293 §3.8.6.1: while the peer's window is closed, an ACK answering our
  // probes shows it alive; persisting never gives up while they come (but a
  // squatter does, after persist_timeout: stack_reclaim.cpp).
  if (c.snd_wnd == 0) c.retries = 0;
  if (((c.xflags & xflag::kSquat) || c.snd_wnd < mss_eff(c)) && check_squat(c, now)) return false;

  const bool fin_acked = (c.flags & cflag::kFinSent) && c.snd_una == c.snd_max;
  if (fin_acked && !fin_acked_before) {
    switch (c.state) {
      case State::kFinWait1:
        set_state(c, State::kFinWait2);
        if ((c.flags & cflag::kOrphan) && cfg_.fin_wait2_timeout.count_ns() > 0) {
          c.state_at = deadline_in(now, cfg_.fin_wait2_timeout);
          arm_timer(c);
        }
        break;
      case State::kClosing:
        enter_time_wait(c, now);
        return false;
      case State::kLastAck:
        finish(c, CloseReason::kNormal);
        return false;
      default: break;
    }
  }
  return data_acked == 0 || after_data_acked(c);
}

void Stack::input_text_fin(ConnHot& c, const SegmentIn& seg, Instant now) {
  std::span<const uint8_t> data = seg.payload;
  Seq start = seg.seq;
  const Seq fin_seq = seg.seq + static_cast<uint32_t>(seg.payload.size());
  bool fin = seg.has(flag::kFin);
  // Trim to the window: bytes before RCV.NXT were delivered already (RFC 2883:
  // reported as a D-SACK block); bytes past the advertised right edge are not
  // accepted (nor a FIN after them).
  if (start < c.rcv_nxt) {
    // Part of it came before: the peer retransmits (our ACK may have been
    // lost, or it is recovering), so it gets its ACK at once.
    c.flags |= cflag::kAckNow;
    const uint32_t skip = static_cast<uint32_t>(c.rcv_nxt - start);
    if ((c.flags & cflag::kSack) && !data.empty()) {
      if (ConnExt* x = take_ext(c)) {  // without one, no D-SACK block
        x->rcvq.set_dsack(start, start + std::min<uint32_t>(skip, static_cast<uint32_t>(data.size())));
        c.xflags |= xflag::kPureAck;
      }
    }
    data = skip >= data.size() ? data.subspan(data.size()) : data.subspan(skip);
    start = c.rcv_nxt;
  }
  const Seq right = seq_max(c.rcv_adv, c.rcv_nxt);
  if (start + static_cast<uint32_t>(data.size()) > right) {
    data = data.subspan(0, start < right ? static_cast<uint32_t>(right - start) : 0);
    fin = false;
  }
  // RFC 9293 §3.10.7.4 eighth: a FIN fixes the end of the stream. Once one
  // is held (it came out of order), bytes at or past it are not taken, nor
  // a FIN at another sequence number; the first FIN stays. (Linux queues
  // them and purges the out-of-order queue at tcp_fin; a later FIN below
  // the held one is where the two differ: Linux ends at the lower one.)
  if (rcv_has_fin(c) && !(c.flags & cflag::kPeerFin)) {
    const Seq end = held_ext(c).rcvq.fin_seq();
    const bool past = start + static_cast<uint32_t>(data.size()) > end;
    const bool other_fin = fin && fin_seq != end;
    if (past) data = data.subspan(0, start < end ? static_cast<uint32_t>(end - start) : 0);
    if (other_fin) fin = false;
    if (past || other_fin) {
      ++ctr_.drop.past_fin;
      c.flags |= cflag::kAckNow;
    }
  }

  const bool receiving = c.state == State::kEstablished || c.state == State::kFinWait1 ||
                         c.state == State::kFinWait2;
  if (!data.empty() && receiving) {
    if (c.flags & cflag::kOrphan) {
      // RFC 1122 §4.2.2.13 / RFC 9293 §3.10.4: data after a full close gets RST.
      ++ctr_.drop.data_after_close;
      send_rst(c, now);
      finish(c, CloseReason::kDataAfterClose);
      return;
    }
    if (!(c.flags & cflag::kAccepted)) {
      ++ctr_.drop.not_accepted;  // unacknowledged: the peer retransmits once accepted
      return;
    }
    receive_data(c, start, data, now);
    if (c.state == State::kClosed) return;
  }

  // Eighth: FIN. Remembered where it lies (it may come before a hole fills)
  // and acted on once every byte before it has arrived and been taken.
  if (fin && !(c.flags & cflag::kPeerFin) && fin_seq >= c.rcv_nxt) {
    if (fin_seq > c.rcv_nxt) c.flags |= cflag::kAckNow;  // beyond a hole: duplicate ACK (RFC 5681 §4.2)
    const ConnExt* hx = ext(c);
    const bool holds = hx != nullptr && (hx->rcvq.in_order(c.rcv_nxt) > 0 || hx->rcvq.has_ooo() || hx->rcvq.has_fin());
    if (fin_seq == c.rcv_nxt && ((c.flags & cflag::kAccepted) || c.listener == kNoListener) && !holds) {
      // Nothing held and nothing to wait for: the FIN takes effect now
      // (what try_fin would decide once it was remembered), with nothing to
      // remember it in. An extension held for sending (the ACK in this
      // segment may just have emptied its queue) changes nothing here.
      accept_fin(c, now);
      return;
    }
    ConnExt* x = take_ext(c);
    if (x == nullptr) return;  // not acknowledged: the peer sends it again (counted)
    RecvBuffer& rq = x->rcvq;
    if (!rq.has_fin()) {
      rq.set_fin(fin_seq);
      // Bytes held beyond it (they came before it) are dropped, as Linux
      // tcp_fin purges its out-of-order queue.
      if (rq.cut_from(fin_seq)) {
        ++ctr_.drop.past_fin;
        if (!rq.has_ooo()) c.xflags &= static_cast<uint8_t>(~xflag::kOooHeld);
      }
    }
  }
  try_fin(c, now);  // this FIN, or one held until a hole filled
}

}  // namespace synmill::tcp
