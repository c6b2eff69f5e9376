// Segments a connection sends: SYN / SYN-ACK, data and FIN within the peer's
// window and the congestion window, ACKs, RSTs, and RSTs for segments that
// match no connection (RFC 9293 §3.10.7.1).
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

uint32_t Stack::ts_clock(Instant now) const {
  return static_cast<uint32_t>(now.ns() / 1000000) + ts_offset_;  // 1 ms ticks, RFC 7323 §5.4
}

// The window field we put in a header. RFC 7323 §2.2: never scaled in a SYN;
// RFC 9293 §3.8.6.2.2: the right edge we advertised never moves left.
//
// The window is what the receive buffer can still hold: the configured cap
// less the bytes waiting for the application, no more than the application's
// rcv_space() and than the pool's free chunks can store (a connection out of
// buffer space stops opening its window; it never drops what it acknowledged).
uint32_t Stack::rcv_window(const ConnHot& c) const {
  uint32_t wnd = cfg_.rcv_wnd;
  // After a full close the application reads nothing more (data gets RST),
  // so it no longer limits the window: the peer's FIN must always fit.
  if ((c.flags & cflag::kAccepted) && !(c.flags & cflag::kOrphan)) {
    const uint32_t held = rcv_held(c);
    wnd = wnd > held ? wnd - held : 0;
    // Fair pool (stack_reclaim.cpp): min_conn_buf is always offered while
    // chunks exist; more only from chunks beyond the reserve.
    if (chunks_.available() < rcv_plenty_at_) wnd = std::min(wnd, pool_share(held, true));
    if (wnd > 0) wnd = std::min(wnd, apps_[c.app]->rcv_space(*this, id_of(c)));
  }
  return wnd;
}

// Every segment carrying our ACK resets the delayed-ACK state.
void Stack::note_ack_sent(ConnHot& c) {
  c.rcv_acked = c.rcv_nxt;
  c.flags &= static_cast<uint16_t>(~cflag::kAckDelayed);
}

uint16_t Stack::window_field(ConnHot& c, bool syn) { return window_field_inline(c, syn); }

// window_field(), inlined into this file's senders (no call per segment).
inline uint16_t Stack::window_field_inline(ConnHot& c, bool syn) {
  const uint32_t wnd = rcv_window(c);
  uint32_t field;
  uint32_t shift = 0;
  if (syn) {
    field = std::min<uint32_t>(wnd, 65535);
  } else {
    shift = (c.flags & cflag::kWscale) ? cfg_.wscale : 0;
    field = std::min<uint32_t>(wnd >> shift, 65535);
  }
  const Seq edge = c.rcv_nxt + (field << shift);
  if (edge > c.rcv_adv) c.rcv_adv = edge;
  // The peer's view of our window (rcv_wnd_edge()): a SYN's field at the
  // scale of the segments after it, rounded down (below).
  c.rcv_wnd_field = static_cast<uint16_t>(syn ? field >> rcv_shift(c) : field);
  if (field == 0 && !syn) ++ctr_.zero_window_sent;
  return static_cast<uint16_t>(field);
}

void Stack::fill_common(const ConnHot& c, SegmentOut& out, Instant now) const {
  out.tuple = c.tuple;
  out.ack = c.rcv_nxt;
  out.flags = flag::kAck;
  if (c.flags & cflag::kTimestamps) {
    out.opts.has_timestamps = true;
    out.opts.ts_val = ts_clock(now);
    out.opts.ts_ecr = c.ts_recent;
  }
}

void Stack::send_syn(ConnHot& c, bool with_ack, Instant now) {
  SegmentOut out;
  out.tuple = c.tuple;
  out.seq = c.snd_una;  // the ISS: only the SYN is in flight (conn.hpp)
  out.flags = with_ack ? (flag::kSyn | flag::kAck) : flag::kSyn;
  out.ack = with_ack ? c.rcv_nxt : Seq{};
  out.window = window_field_inline(c, true);
  out.opts.has_mss = true;
  out.opts.mss = our_mss(c.tuple);
  // Active opens offer everything configured; passive ones answer what the
  // peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
  const bool passive = with_ack && c.state == State::kSynRcvd && c.listener != kNoListener;
  if (!passive || (c.flags & cflag::kWscale)) {
    out.opts.has_wscale = true;
    out.opts.wscale = cfg_.wscale;
  }
  if (cfg_.sack && (!passive || (c.flags & cflag::kSack))) out.opts.sack_permitted = true;
  if (cfg_.timestamps && (!with_ack || (c.flags & cflag::kTimestamps))) {
    out.opts.has_timestamps = true;
    out.opts.ts_val = ts_clock(now);
    out.opts.ts_ecr = with_ack ? c.ts_recent : 0;
  }
  c.snd_nxt = c.snd_max = c.snd_una + 1;  // only the SYN is ever in flight in these states
  if (with_ack) note_ack_sent(c);
  // The SYN is timed from its first transmission (Stack::syn_rtt_start_us).
  if (c.retries == 0) c.flags |= cflag::kRttTiming;
  if (with_ack)
    ++ctr_.synack_out;
  else
    ++ctr_.syn_out;
  emit(out);
}

void Stack::send_ack(ConnHot& c, Instant now) {
  SegmentOut out;
  fill_common(c, out, now);
  // SND.MAX, not SND.NXT: after an RTO rewound SND.NXT the peer may hold
  // everything up to SND.MAX, and would find an ACK below its RCV.NXT
  // unacceptable (RFC 9293 §3.10.7.4) and drop the news it carries.
  out.seq = c.snd_max;
  out.window = window_field_inline(c, false);
  c.flags &= static_cast<uint16_t>(~cflag::kAckNow);
  c.xflags &= static_cast<uint8_t>(~xflag::kPureAck);
  // RFC 2018 §4: SACK blocks in every ACK while data is out of order (data
  // segments carry them too, see output()), and RFC 2883 D-SACK for a
  // duplicate just received (pure ACKs only).
  if (ConnExt* x = ext(c); x != nullptr && (c.flags & cflag::kSack)) {  // none: nothing to report
    RecvBuffer& q = x->rcvq;
    q.fill_sack(out.opts, true);
    if (out.opts.sack_count > 0) {
      ++ctr_.sack_blocks_sent;
      if (q.has_dsack()) ++ctr_.dsack_sent;
    }
    q.clear_dsack();
  }
  note_ack_sent(c);
  emit(out);
}

void Stack::send_rst(ConnHot& c, Instant now) {
  SegmentOut out;
  fill_common(c, out, now);
  // SND.MAX, the peer's RCV.NXT when all arrived (RFC 9293 §3.10.7.4: an
  // exact hit), but never beyond the peer's window: a zero-window probe
  // byte the peer refused would put SND.MAX one past RCV.NXT + RCV.WND, and
  // the peer drops such an RST without a word (RFC 9293 §3.10.7.4 first
  // check; Linux tcp_validate_incoming). Linux sends at tcp_acceptable_seq():
  // min(SND.NXT, SND.UNA + SND.WND); so do we. Inside the window but not at
  // RCV.NXT, the peer answers with a challenge ACK (RFC 5961 §3.2), and the
  // RST to that (no TCB left here) carries SEQ = its ACK: exact.
  out.seq = static_cast<uint32_t>(c.snd_max - c.snd_una) <= c.snd_wnd ? c.snd_max : c.snd_una + c.snd_wnd;
  out.flags = flag::kRst | flag::kAck;
  out.window = 0;
  emit(out);
}

void Stack::reply_rst(const SegmentIn& seg) {
  if (seg.has(flag::kRst)) return;  // never answer an RST
  SegmentOut out;
  out.tuple = seg.tuple;
  out.local6 = seg.local6;  // IPv6: the peer's address may be in no table
  out.remote6 = seg.remote6;
  if (seg.has(flag::kAck)) {
    out.seq = seg.ack;  // <SEQ=SEG.ACK><CTL=RST>
    out.flags = flag::kRst;
  } else {
    out.seq = Seq{0};   // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    out.ack = seg.seq + seg.seg_len();
    out.flags = flag::kRst | flag::kAck;
  }
  emit(out);
}

// Sends what the windows allow (RFC 9293 §3.8.6.2.1 usable window, RFC 5681
// cwnd; in SACK recovery RFC 6675 pipe instead of SND.NXT - SND.UNA), the FIN
// after the last byte once the application closed, and any ACK still owed.
// Nagle (RFC 1122 §4.2.3.4) only where the connection asked for it.
void Stack::output(ConnHot& c, Instant now) {
  // Nothing to do (most calls: a pure ACK received, or the connection is
  // idle): no ACK owed, no FIN to send, no recovery, and every queued byte
  // is at or below SND.NXT (then SND.NXT == SND.MAX: without a FIN only
  // data lies beyond SND.NXT), so the loop below would send nothing and the
  // persist check needs unsent data. Apart from output_now(), so that such
  // calls return without its register saves.
  if (!(c.flags & (cflag::kAckNow | cflag::kFinQueued | cflag::kRecovery)) &&
      sendq_size(c) <= static_cast<uint32_t>(c.snd_nxt - c.snd_una))
    return;
  output_now(c, now);
}

void Stack::output_now(ConnHot& c, Instant now) {
  // The states that send data or a FIN, as one bit test.
  constexpr auto bit = [](State s) { return uint32_t{1} << static_cast<uint32_t>(s); };
  constexpr uint32_t kCanSend = bit(State::kEstablished) | bit(State::kCloseWait) | bit(State::kFinWait1) |
                                bit(State::kClosing) | bit(State::kLastAck);
  static_assert(kNumStates <= 32);
  if ((kCanSend >> static_cast<uint32_t>(c.state)) & 1u) {
    // The extension does not change while output_now() runs (nothing here
    // takes or gives one back): the queue and the RTT marks are read from it.
    ConnExt* const x = ext(c);
    const SendQueue& q = x != nullptr ? x->sendq : empty_sendq_;
    const uint32_t mss_e = mss_eff(c);
    // One segment from SND.NXT: `len` bytes of the queue from `sent` on (PSH
    // when they are all that is unsent), the FIN when due, SACK blocks from
    // `sack` (null: none); then SND.NXT / SND.MAX, RTT timing, the owed ACK
    // and the retransmission timer.
    auto send_one = [&](uint32_t sent, uint32_t len, uint32_t unsent, bool fin_due, const wire::TcpOptions* sack) {
      SegmentOut out;
      fill_common(c, out, now);
      out.seq = c.snd_nxt;
      out.window = window_field_inline(c, false);
      if (sack != nullptr && sack->sack_count > 0) {
        out.opts.sack_count = sack->sack_count;
        std::copy(sack->sack, sack->sack + sack->sack_count, out.opts.sack);
        ++ctr_.sack_blocks_sent;
      }
      if (len > 0) {
        out.payload_src = &q;
        out.payload_offset = sent;
        out.payload_len = len;
        if (len == unsent) out.flags |= flag::kPsh;
      }
      if (fin_due) out.flags |= flag::kFin;
      const bool new_data = c.snd_nxt == c.snd_max;
      if (!new_data) ++ctr_.retransmits;
      c.snd_nxt += len + (fin_due ? 1u : 0u);
      if (fin_due) c.flags |= cflag::kFinSent;
      if (c.snd_nxt > c.snd_max) {
        // (A FIN alone may go without an extension: then it is not timed.)
        if (new_data && !(c.flags & cflag::kRttTiming) && x != nullptr) {
          c.flags |= cflag::kRttTiming;
          x->rtt_seq = out.seq;
          x->rtt_start_us = rtt_clock_us(now);
        }
        c.snd_max = c.snd_nxt;
      }
      c.flags &= static_cast<uint16_t>(~cflag::kAckNow);
      note_ack_sent(c);
      emit(out);
      if (c.rtx_at.none()) start_rtx(c, now);
    };
    // The common case (a response, a FIN): nothing to retransmit, no
    // recovery, no SACK state either way, no ACK owed alone, no duplicate
    // ACKs (no limited transmit), no Nagle, and every unsent byte fits one
    // segment the congestion and peer windows take. The loop below would
    // send exactly that segment (with the FIN when one is due: the FIN is
    // not sent yet) and stop, its SWS and Nagle tests needing a segment cut
    // short; it goes here without the loop's general steps.
    bool simple = false;
    if (!(c.flags & (cflag::kRecovery | cflag::kNagle)) &&
        !(c.xflags & (xflag::kPureAck | xflag::kOooHeld | xflag::kSacked)) && c.snd_nxt == c.snd_max &&
        c.dupacks == 0) {
      const uint32_t sent = static_cast<uint32_t>(c.snd_nxt - c.snd_una);
      const uint32_t queued = q.size();
      const uint32_t unsent = sent < queued ? queued - sent : 0;
      // unsent within both windows' room past SND.NXT (cwnd - sent,
      // SND.WND - sent; none when sent exceeds them): with unsent > 0, sent
      // + unsent is the queue's end, which must lie within both windows.
      if (unsent == 0 || (unsent <= mss_e && queued <= std::min(c.cwnd, c.snd_wnd))) {
        const bool fin_due = (c.flags & (cflag::kFinQueued | cflag::kFinSent)) == cflag::kFinQueued;
        if (unsent > 0 || fin_due) send_one(sent, unsent, unsent, fin_due, nullptr);
        simple = true;
      }
    }
    if (!simple) {
      // An ACK owed for out-of-order data (or a duplicate) goes out on its own,
      // before any data: a duplicate ACK counts only without payload (RFC 5681
      // §2), and only a pure ACK carries our SACK blocks.
      if ((c.flags & cflag::kAckNow) && (c.xflags & xflag::kPureAck)) send_ack(c, now);
      const bool sack_recovery = (c.flags & (cflag::kRecovery | cflag::kSack)) ==
                                 (cflag::kRecovery | cflag::kSack);
      if (sack_recovery) sack_retransmit(c, now);
      uint32_t pipe = sack_recovery ? sack_pipe(c) : 0;
      // RFC 2018 §4: while out-of-order data is held, data segments carry the
      // SACK blocks too (the peer may be sending data, not pure ACKs), their
      // payload shortened so the options fit in the MSS (as Linux does).
      wire::TcpOptions sack_opts;
      uint32_t seg_max = mss_e;
      if ((c.xflags & xflag::kOooHeld) && (c.flags & cflag::kSack)) {
        sack_opts.has_timestamps = (c.flags & cflag::kTimestamps) != 0;
        held_ext(c).rcvq.fill_sack(sack_opts, false);  // kOooHeld: one is held
        const auto fit = static_cast<uint32_t>(wire::tcp_sack_blocks_that_fit(sack_opts));
        sack_opts.sack_count = static_cast<uint8_t>(fit);
        if (fit > 0) seg_max = mss_e - (4 + 8 * fit);
      }
      for (;;) {
        // Go-back-N after an RTO skips what the peer SACKed (RFC 6675 §5.1),
        // but never the segment at SND.UNA: RFC 2018 §8, after a timeout the
        // left edge is retransmitted whether or not it was SACKed (the
        // receiver may lie or have reneged).
        if (c.snd_una < c.snd_nxt && c.snd_nxt < c.snd_max && (c.xflags & xflag::kSacked))
          c.snd_nxt = held_ext(c).sacked.skip(c.snd_nxt);
        const uint32_t sent = static_cast<uint32_t>(c.snd_nxt - c.snd_una);
        const uint32_t queued = q.size();
        const uint32_t unsent = sent < queued ? queued - sent : 0;
        const uint32_t flight = sack_recovery ? pipe : sent;
        // RFC 3042 limited transmit: the first two duplicate ACKs each let one
        // new segment out (cwnd itself unchanged), so small windows still
        // collect the three duplicates fast retransmit needs.
        const uint32_t limited = (c.flags & cflag::kRecovery) || c.snd_nxt != c.snd_max
                                     ? 0
                                     : std::min<uint32_t>(c.dupacks, 2) * mss_e;
        const uint32_t cwnd_room = c.cwnd + limited > flight ? c.cwnd + limited - flight : 0;
        const uint32_t wnd_room = c.snd_wnd > sent ? c.snd_wnd - sent : 0;
        const uint32_t len = std::min({unsent, seg_max, cwnd_room, wnd_room});
        const bool fin_due = (c.flags & cflag::kFinQueued) && len == unsent &&
                             (!(c.flags & cflag::kFinSent) || c.snd_nxt < c.snd_max);
        if (len == 0 && !fin_due) break;
        // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): no short segment cut by
        // the windows while an ACK is still to come to open them further,
        // unless (3) it is at least Fs = 1/2 of the largest window the peer
        // offered, or it is a retransmission the peer's window cuts: after an
        // RTO the timeout is the override, and a window below one MSS must
        // not stop retransmission (Linux tcp_retransmit_skb sends
        // min(MSS, window)).
        if (len < seg_max && len < unsent && !fin_due && c.snd_max != c.snd_una) {
          const bool half_max_window = len >= c.max_snd_wnd() / 2;
          const bool rtx_into_window = c.snd_nxt < c.snd_max && len == wnd_room;
          if (!half_max_window && !rtx_into_window) break;
        }
        // Nagle: a short segment waits while new data is unacknowledged.
        if ((c.flags & cflag::kNagle) && len < seg_max && !fin_due && c.snd_nxt == c.snd_max &&
            c.snd_una != c.snd_max)
          break;
        send_one(sent, len, unsent, fin_due, &sack_opts);
        pipe += len;  // octets only, as sack_pipe()
        if (fin_due) break;
        // All that was queued went and no FIN is to follow: SND.NXT is at the
        // end of the queue, which is SND.MAX (no FIN lies beyond it), so the
        // next round would find nothing to send.
        if (len == unsent && !(c.flags & cflag::kFinQueued)) break;
      }
      // Nothing more could go (no lost range, no new data): RFC 6675 rule (4).
      if (sack_recovery && (c.flags & cflag::kRecovery)) rescue_retransmit(c, now);
    }
    // Zero window with data waiting and nothing in flight: the retransmission
    // timer doubles as the persist timer (RFC 9293 §3.8.6.1).
    if (c.snd_wnd == 0 && q.size() > 0 && c.snd_una == c.snd_max && c.rtx_at.none())
      start_rtx(c, now);
  }
  if (c.flags & cflag::kAckNow) send_ack(c, now);
}

}  // namespace synmill::tcp
