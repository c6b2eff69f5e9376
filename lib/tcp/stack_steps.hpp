#pragma once
// The steps of segment arrival that header prediction (stack_predict.cpp)
// shares with the RFC 9293 §3.10.7.4 ladder (stack_input.cpp,
// stack_receive.cpp): the ACK that completes a passive open (and
// ESTABLISHED's bookkeeping), an ACK of new data (with its RTT sample),
// in-order text, the peer's FIN, the delayed ACK, the receiver's window
// update. Defined inline here and always inlined (stack.hpp): a segment on
// a fast path runs them with no call, no register saves and no argument
// passing per step (issue 12: bench/instr_count.py, a full connection 4772
// -> 4632 instructions with the inline arm_timer() note and
// RecvBuffer::consume()). Included by the files that call them: those
// three and stack.cpp (resume_receive).
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

// SYN_RCVD, fifth check: the ACK of our SYN moves the connection to
// ESTABLISHED (RFC 9293 §3.10.7.4). Shared by the ladder and the handshake
// prediction (stack_predict.cpp). False when the segment is consumed.
inline bool Stack::complete_handshake(ConnHot& c, const SegmentIn& seg, Instant now) {
  if (!(c.snd_una < seg.ack && seg.ack <= c.snd_max)) {
    ++ctr_.drop.ack_unacceptable;
    reply_rst(seg);  // <SEQ=SEG.ACK><CTL=RST>
    return false;
  }
  if (c.listener != kNoListener) {
    const Listener& l = listeners_[c.listener];
    const bool queue_needed = l.aq_len > 0 || !app_accepting(*l.app);
    if (queue_needed && l.aq_len >= std::max<uint32_t>(cfg_.accept_queue, 1)) {
      ++ctr_.drop.accept_queue_full;  // the peer retransmits; so do we (SYN-ACK)
      return false;
    }
  }
  c.snd_wnd = static_cast<uint32_t>(seg.window) << c.snd_wscale;
  c.note_snd_wnd();
  c.snd_wl1 = seg.seq;
  if (c.retries == 0 && (c.flags & cflag::kRttTiming))
    rtt_sample(c, rtt_clock_us(now) - syn_rtt_start_us(c));
  c.flags &= static_cast<uint16_t>(~cflag::kRttTiming);
  c.snd_una = seg.ack;
  c.snd_nxt = seq_max(c.snd_nxt, c.snd_una);
  c.rtx_at = Deadline{};
  arm_timer(c);
  established(c, now);
  if (c.state == State::kClosed) return false;
  return true;  // text and FIN riding on the final ACK are processed
}

// SND.UNA moves to `ack` (> SND.UNA): the send queue gives the bytes back,
// RTT sample, congestion window (RFC 5681 §3.1, or the recovery's own rules),
// retransmission timer (RFC 6298 §5.2/5.3). Returns the data bytes acked
// (the ACK of a FIN is not data). Shared by the ladder and header prediction.
inline uint32_t Stack::ack_new_data(ConnHot& c, Seq ack, Instant now) {
  ConnExt* k = ext(c);  // none: no data was outstanding (a FIN at most)
  const uint32_t acked = static_cast<uint32_t>(ack - c.snd_una);
  uint32_t data_acked = 0;
  if (k != nullptr) {
    SendQueue& q = k->sendq;
    data_acked = std::min(acked, q.size());
    q.consume(chunks_, data_acked);
  }
  c.snd_una = ack;
  if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
  if (c.xflags & xflag::kSacked) {
    SackBoard& sb = held_ext(c).sacked;
    sb.advance(c.snd_una);
    if (sb.empty()) c.xflags &= static_cast<uint8_t>(~xflag::kSacked);
  }
  ctr_.tx_bytes += data_acked;
  // RFC 6298 §3 with Karn's rule: only never-retransmitted segments are timed.
  if ((c.flags & cflag::kRttTiming) && held_ext(c).rtt_seq < ack) {  // timing: one is held
    rtt_sample(c, rtt_clock_us(now) - held_ext(c).rtt_start_us);
    c.flags &= static_cast<uint16_t>(~cflag::kRttTiming);
  }
  c.retries = 0;
  if (c.flags & cflag::kRecovery) {
    on_ack_in_recovery(c, acked, now);
  } else {
    c.dupacks = 0;
    // RFC 5681 §3.1: slow start, then congestion avoidance.
    const uint32_t mss = mss_eff(c);
    if (c.cwnd < c.ssthresh)
      c.cwnd += std::min(acked, mss);
    else
      c.cwnd += std::max(1u, mss * mss / c.cwnd);
  }
  // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart.
  if (c.snd_una == c.snd_max) {
    c.rtx_at = Deadline{};
    arm_timer(c);
  } else if (!(c.flags & cflag::kRecovery) || c.rtx_at.none()) {
    start_rtx(c, now);
  }
  return data_acked;
}

// Send space came back: the application may write (on_writable), and take
// buffered bytes now (an echo freed by the ACK). False when it closed the
// connection meanwhile.
inline bool Stack::after_data_acked(ConnHot& c) {
  if (!(c.flags & cflag::kAccepted)) return true;
  if (!(c.flags & cflag::kFinQueued)) {
    App* const a = app_of(c);
    if (!(a->quiet() & App::kQuietWritable)) {
      a->on_writable(*this, id_of(c));
      if (c.state == State::kClosed) return false;
    }
  }
  if (rcv_held(c) > 0) {
    deliver(c);
    if (c.state == State::kClosed) return false;
  }
  check_window_update(c);
  return true;
}

inline void Stack::receive_data(ConnHot& c, Seq start, std::span<const uint8_t> data, Instant now) {
  const auto len = static_cast<uint32_t>(data.size());
  ConnExt* x = ext(c);
  if (x == nullptr) {
    // Nothing held: in-order bytes the application takes at once need no
    // buffer (nor an extension).
    if (start == c.rcv_nxt) {
      delivering_ = &c;
      const uint32_t taken = std::min<uint32_t>(app_of(c)->on_data(*this, id_of(c), data), len);
      delivering_ = nullptr;
      if (c.state == State::kClosed) return;
      c.rcv_nxt += taken;
      ctr_.rx_bytes += taken;
      // An extension taken from inside on_data (the application sent) starts
      // at the old RCV.NXT: the bytes just taken are read.
      if (ConnExt* y = ext(c)) y->rcvq.consume(chunks_, rcv_slots(c), taken);
      if (c.flags & cflag::kOrphan) {  // closed from inside on_data: the rest is not read
        c.flags |= cflag::kAckNow;
        return;
      }
      if (taken < len) {
        // The rest waits in the receive buffer, which needs an extension.
        // With none to be had it is not acknowledged: the peer sends it again.
        if (ConnExt* y = take_ext(c)) {
          if (y->rcvq.store(chunks_, rcv_slots(c), cfg_.rcv_wnd, c.rcv_nxt, data.subspan(taken)))
            c.rcv_nxt += len - taken;
          else
            ++ctr_.drop.rcv_buffer_full;  // not acknowledged: the peer sends it again
        }
      }
      ack_soon(c, now);
      return;
    }
    // Out of order: held in the receive buffer, which needs an extension.
    x = take_ext(c);
    if (x == nullptr) {
      c.flags |= cflag::kAckNow;  // the duplicate ACK it earns (RFC 5681 §4.2), without SACK blocks
      c.xflags |= xflag::kPureAck;
      return;
    }
  }
  RecvBuffer& q = x->rcvq;
  if (start != c.rcv_nxt) {
    // Out of order (RFC 9293 §3.10.7.4: "segments with higher beginning
    // sequence numbers SHOULD be held"): queue it and send an immediate
    // duplicate ACK carrying SACK blocks (RFC 5681 §4.2, RFC 2018 §4).
    c.flags |= cflag::kAckNow;
    c.xflags |= xflag::kPureAck;
    // RFC 2883 §4: bytes already held come back: the duplicate part goes in
    // a D-SACK block, followed by the block holding it (add_block below
    // makes that block the most recent, RFC 2018 §4). Linux
    // tcp_data_queue_ofo reports the same range (tcp_dsack_set).
    Seq dl, dr;
    if ((c.flags & cflag::kSack) && q.held_overlap(start, len, &dl, &dr)) q.set_dsack(dl, dr);
    if (q.holds(start, len)) {
      // Every byte is held already: the bytes first received stay (Linux
      // drops such a segment too, "all the bits are present").
      q.add_block(start, len);
      return;
    }
    if (!q.can_add_block(start, len)) {
      ++ctr_.drop.ooo_dropped;
      return;
    }
    if (!q.store(chunks_, rcv_slots(c), cfg_.rcv_wnd, start, data)) {
      ++ctr_.drop.rcv_buffer_full;
      return;
    }
    q.add_block(start, len);
    c.xflags |= xflag::kOooHeld;
    ++ctr_.ooo_queued;
    return;
  }
  // RFC 2883 §4: in-order bytes that run into data already held out of
  // order duplicate it: the overlap goes in a D-SACK block (Linux
  // tcp_ofo_queue, tcp_dsack_extend). The segment's bytes are the ones taken.
  Seq dl, dr;
  if ((c.flags & cflag::kSack) && q.has_ooo() && q.held_overlap(start, len, &dl, &dr)) {
    q.set_dsack(dl, dr);
    c.xflags |= xflag::kPureAck;
  }
  // Bytes held from before are offered again first (the application may
  // have room now); the segment's bytes queue behind any it still leaves.
  if (q.in_order(c.rcv_nxt) > 0) {
    deliver(c);
    if (c.state == State::kClosed) return;
  }
  const bool had_ooo = q.has_ooo();
  uint32_t taken = 0;
  if (q.in_order(c.rcv_nxt) == 0) {
    // Nothing waiting before it: the application reads from the segment.
    delivering_ = &c;
    taken = std::min<uint32_t>(app_of(c)->on_data(*this, id_of(c), data), len);
    delivering_ = nullptr;
    if (c.state == State::kClosed) return;
    c.rcv_nxt += taken;
    ctr_.rx_bytes += taken;
    q.consume(chunks_, rcv_slots(c), taken);
    if (c.flags & cflag::kOrphan) {  // closed from inside on_data: the rest is not read
      c.flags |= cflag::kAckNow;
      return;
    }
  }
  if (taken < len) {
    if (q.store(chunks_, rcv_slots(c), cfg_.rcv_wnd, c.rcv_nxt, data.subspan(taken)))
      c.rcv_nxt += len - taken;
    else
      ++ctr_.drop.rcv_buffer_full;  // not acknowledged: the peer sends it again
  }
  if (had_ooo) {
    // RFC 5681 §4.2: a segment that fills (part of) a hole is acknowledged at once.
    const Seq n = q.merge(c.rcv_nxt);
    if (n != c.rcv_nxt) ++ctr_.ooo_filled;
    c.rcv_nxt = n;
    c.flags |= cflag::kAckNow;
    if (q.has_ooo())
      c.xflags |= xflag::kPureAck;  // still a hole: SACK blocks go with it
    else
      c.xflags &= static_cast<uint8_t>(~xflag::kOooHeld);
    if (taken == len) deliver(c);
    return;
  }
  ack_soon(c, now);
}

inline void Stack::try_fin(ConnHot& c, Instant now) {
  const ConnExt* x = ext(c);
  if (x == nullptr) return;  // no FIN waits (input_text_fin acts on one at once)
  const RecvBuffer& q = x->rcvq;
  if ((c.flags & cflag::kPeerFin) || !q.fin_at(c.rcv_nxt)) return;
  if (q.in_order(c.rcv_nxt) > 0 && (c.flags & cflag::kAccepted)) {
    deliver(c);  // the application may have room now
    if (c.state == State::kClosed || q.in_order(c.rcv_nxt) > 0) return;
  }
  if (!(c.flags & cflag::kAccepted) && c.listener != kNoListener) {
    ++ctr_.drop.not_accepted;
    return;
  }
  accept_fin(c, now);
}

// RFC 9293 §3.10.7.4 "eighth": the FIN's transitions.
inline void Stack::accept_fin(ConnHot& c, Instant now) {
  c.rcv_nxt += 1;
  if (ConnExt* x = ext(c)) x->rcvq.consume(chunks_, rcv_slots(c), 1);  // the FIN is "read" with it: no byte held
  c.flags |= cflag::kPeerFin | cflag::kAckNow;
  switch (c.state) {
    case State::kSynRcvd:
    case State::kEstablished:
      set_state(c, State::kCloseWait);
      if (close_wait_us_ > 0) c.state_at = deadline_in_us(now, close_wait_us_);
      else if (cfg_.close_wait_timeout.count_ns() > 0) c.state_at = deadline_in(now, cfg_.close_wait_timeout);
      app_of(c)->on_peer_close(*this, id_of(c));
      // The timer goes to the CLOSE_WAIT deadline only if the application
      // left the connection there: most close() at once (LAST_ACK, whose
      // FIN's RTO arms it), and a timer armed and moved in between would be
      // work for nothing. (Whatever armed it inside the callback saw
      // state_at already.)
      if (c.state == State::kCloseWait && !c.state_at.none()) arm_timer(c);
      break;
    case State::kFinWait1:
      if ((c.flags & cflag::kFinSent) && c.snd_una == c.snd_max) {
        send_ack(c, now);
        enter_time_wait(c, now);
        return;
      }
      set_state(c, State::kClosing);
      if (!(c.flags & cflag::kOrphan)) app_of(c)->on_peer_close(*this, id_of(c));
      break;
    case State::kFinWait2:
      send_ack(c, now);
      if (!(c.flags & cflag::kOrphan)) app_of(c)->on_peer_close(*this, id_of(c));
      if (c.state == State::kFinWait2) enter_time_wait(c, now);
      return;
    default: break;
  }
}

// RFC 1122 §4.2.3.2 / RFC 5681 §4.2: in-order data is acknowledged at least
// every second full-sized segment and at most cfg.delayed_ack after it came.
inline void Stack::ack_soon(ConnHot& c, Instant now) {
  if (c.flags & cflag::kAckNow) return;
  const auto unacked = static_cast<uint32_t>(c.rcv_nxt - c.rcv_acked);
  if (cfg_.delayed_ack.count_ns() <= 0 || unacked >= 2 * mss_eff(c)) {
    c.flags |= cflag::kAckNow;
    return;
  }
  // The application already queued an answer: the ACK rides on it (or goes
  // at once if the windows hold the answer back).
  if (c.flags & cflag::kOutputPending) {
    c.flags |= cflag::kAckNow;
    return;
  }
  if (!(c.flags & cflag::kAckDelayed)) {
    c.flags |= cflag::kAckDelayed;
    set_ack_at(c, deadline_in(now, cfg_.delayed_ack));
    arm_timer(c);
  }
}


inline void Stack::established(ConnHot& c, Instant now) {
  // A close() issued in SYN_RCVD takes effect now (RFC 9293 §3.10.4).
  set_state(c, (c.flags & cflag::kFinQueued) ? State::kFinWait1 : State::kEstablished);
  ++ctr_.established;
  c.retries = 0;
  c.rcv_acked = c.rcv_nxt;
  if (ConnExt* x = ext(c)) {  // taken in SYN_SENT / SYN_RCVD by send()
    x->rcvq.reset(c.rcv_nxt);
    x->recover = c.snd_una - 1;  // RFC 6582 §3.2 step 1: recover starts at the ISS (SND.UNA is ISS + 1 now)
    x->high_rxt = c.snd_una;
  }
  if (quiet_tick_.count_ns() > 0 && c.state == State::kEstablished) {
    c.idle_ticks = c.quiet_ticks = 0;
    c.ka_probes = 0;
    c.state_at = deadline_in(now, quiet_tick_);
    arm_timer(c);
  }
  if (c.listener == kNoListener) {
    c.flags |= cflag::kAccepted;
    app_of(c)->on_open(*this, id_of(c));
    return;
  }
  Listener& l = listeners_[c.listener];
  --l.half_open;
  if (l.aq_len == 0 && app_accepting(*l.app)) {
    c.flags |= cflag::kAccepted;
    l.app->on_open(*this, id_of(c));
    return;
  }
  // The caller checked there is room (RFC 9293 leaves the accept queue to the
  // implementation; a full queue drops the final ACK as Linux does).
  const uint32_t cap = std::max<uint32_t>(cfg_.accept_queue, 1);
  l.aq[(l.aq_head + l.aq_len) % cap] = idx_of(c);
  ++l.aq_len;
  ++queued_accepts_;
  deferred_ = true;
  c.flags |= cflag::kInAcceptQueue;
}

// RFC 6298 §2: SRTT, RTTVAR and RTO from one measurement (microseconds).
inline void Stack::rtt_sample(ConnHot& c, uint32_t rtt_us) {
  rtt_us = std::max<uint32_t>(rtt_us, 1);
  if (c.srtt_us == 0) {
    c.srtt_us = rtt_us;
    c.rttvar_us = rtt_us / 2;
  } else {
    const uint32_t err = c.srtt_us > rtt_us ? c.srtt_us - rtt_us : rtt_us - c.srtt_us;
    c.rttvar_us = (3 * c.rttvar_us + err) / 4;
    c.srtt_us = (7 * c.srtt_us + rtt_us) / 8;
  }
  // RTO = SRTT + max(G, 4 * RTTVAR) within [rto_min, rto_max] (RFC 6298
  // §2.2, §2.4), the bounds converted once (Stack::Stack).
  // At the floor (an RTT well below rto_min: most samples on a LAN) the
  // value is rto_min_ms_, worked out once, with no division.
  const uint64_t rto_us = c.srtt_us + std::max<uint64_t>(rto_granularity_us_, 4ull * c.rttvar_us);
  c.rto_ms = rto_us <= rto_min_us_ ? rto_min_ms_ : static_cast<uint32_t>(std::min(rto_us, rto_max_us_) / 1000);
}

// Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce a window that grew
// by min(buffer / 2, MSS) or more beyond what the peer was last told.
inline void Stack::check_window_update(ConnHot& c) {
  const Seq edge = rcv_wnd_edge(c);
  const uint32_t offered = edge > c.rcv_nxt ? static_cast<uint32_t>(edge - c.rcv_nxt) : 0;
  const uint32_t step = std::min<uint32_t>(cfg_.rcv_wnd / 2, c.snd_mss);
  // rcv_window() never exceeds cfg.rcv_wnd: with the window offered that
  // wide already (the common case), no update can be due.
  if (uint64_t{offered} + step > cfg_.rcv_wnd) return;
  if (rcv_window(c) >= offered + step) {
    if (!(c.flags & cflag::kAckNow)) ++ctr_.window_updates;
    c.flags |= cflag::kAckNow;
  }
}

}  // namespace synmill::tcp
