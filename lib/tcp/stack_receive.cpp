// Receiving text (RFC 9293 §3.10.7.4 "seventh" and "eighth"): in-order bytes
// go straight to the application; what it does not take, and out-of-order
// bytes, wait in the connection's RecvBuffer (chunks from the core's pool).
// Once acknowledged a byte is never dropped: a full buffer closes the window
// instead. Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2), the peer's FIN
// once everything before it was taken, window updates (RFC 9293 §3.8.6.2.2).
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

void Stack::receive_data(ConnHot& c, Seq start, std::span<const uint8_t> data, Instant now) {
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

void Stack::deliver(ConnHot& c) {
  ConnExt* x = ext(c);
  if (x == nullptr) return;  // nothing held
  RecvBuffer& q = x->rcvq;
  const RecvBuffer::Slots s = rcv_slots(c);
  while (q.read_seq() < c.rcv_nxt && !(c.flags & cflag::kOrphan)) {
    const std::span<const uint8_t> d = q.peek(chunks_, s, c.rcv_nxt);
    delivering_ = &c;
    const uint32_t taken =
        std::min<uint32_t>(app_of(c)->on_data(*this, id_of(c), d), static_cast<uint32_t>(d.size()));
    delivering_ = nullptr;
    if (c.state == State::kClosed) return;
    q.consume(chunks_, s, taken);
    ctr_.rx_bytes += taken;
    if (taken < d.size()) return;
  }
  if (c.flags & cflag::kOrphan) discard_unread(c);
  q.trim(chunks_, s, c.rcv_nxt);
}

// Bytes the application will never read after a full close: dropped (they
// were acknowledged; the application chose not to read them).
void Stack::discard_unread(ConnHot& c) {
  if (!(c.flags & cflag::kAccepted) || delivering_ == &c) return;  // deliver() finishes the job
  ConnExt* x = ext(c);
  if (x == nullptr) return;  // nothing held
  RecvBuffer& q = x->rcvq;
  const uint32_t n = q.in_order(c.rcv_nxt);
  if (n == 0) return;
  ++ctr_.drop.unread_on_close;
  q.consume(chunks_, rcv_slots(c), n);
}

void Stack::try_fin(ConnHot& c, Instant now) {
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
void Stack::accept_fin(ConnHot& c, Instant now) {
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
void Stack::ack_soon(ConnHot& c, Instant now) {
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

// Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce a window that grew
// by min(buffer / 2, MSS) or more beyond what the peer was last told.
void Stack::check_window_update(ConnHot& c) {
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
