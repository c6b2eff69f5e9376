// Timers: one timer id per connection, armed at or before the earliest of its
// retransmission deadline, its state's reclaim deadline and its delayed ACK.
// RFC 6298 RTO with exponential backoff; bounded retries per state; reclaim
// of stuck states.
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

// The connection's one timer, at its earliest deadline. Each deadline that is
// always now + a constant goes on that constant's FIFO list (O(1), no wheel
// slot, no cascade), a variable RTO on the wheel (timer_wheel.hpp).
//
// The timer moves only when the earliest deadline moves earlier. A later one
// (the RTO restarted by every ACK of new data, RFC 6298 §5.3; a delayed ACK
// behind an armed RTO) leaves it where it is: it fires early relative to the
// connection's deadlines, on_timer() finds nothing due and re-arms it at the
// real one. So a busy connection costs one timer event per RTO instead of a
// wheel move per ACK. Linux does the same: tcp_write_timer_handler() and
// tcp_delack_timer_handler() (net/ipv4/tcp_timer.c) re-arm with
// sk_reset_timer() when `icsk_timeout` / `icsk_ack.timeout` is still in the
// future, and tcp_send_delayed_ack() (tcp_output.c) keeps the earlier of a
// pending timer and the new timeout. When no deadline is left the timer is
// cancelled at once (unlike Linux's inet_csk_clear_xmit_timer(), which leaves
// it to fire: INET_CSK_CLEAR_TIMERS is undefined), so timers_armed() stays
// the number of connections with a deadline pending.
//
// The deadlines are 32-bit microseconds (deadline.hpp): the timer is armed at
// the earliest one's instant, rounded up to the microsecond, so it fires
// never before the exact deadline and, like any timer, at most one wheel tick
// after it. Each FIFO's deadlines are now + its constant rounded up: they
// never decrease, so the lists stay sorted and fire in arming order.
//
// Armed once per entry point: while a segment for the connection (or its own
// timer) is being handled, its deadlines may move several times (the SYN-ACK's
// retransmission ends, a response starts the RTO, an ACK ends it, a FIN starts
// it again); TimerHold defers those arm_timer() calls to the entry point's
// end, which arms the timer once at the deadlines as they are then. The
// deadlines themselves are set as before, to the microsecond; only the
// wheel's copy waits. Nothing reads the wheel for this connection in between
// (no timer fires inside an entry point).
void Stack::arm_timer_now(ConnHot& c) {
  Deadline d{};
  uint32_t fifo = kFifoWheel;
  if (!c.rtx_at.none()) {
    d = c.rtx_at;
    // Every deadline of an RTO of one length is now + that length: a FIFO.
    if (c.rto_ms == rto_initial_ms_)
      fifo = kFifoRtoInitial;
    else if (c.rto_ms == rto_min_ms_)
      fifo = kFifoRtoMin;
  }
  if (!c.state_at.none() && (d.none() || before(c.state_at, d))) {
    d = c.state_at;
    switch (c.state) {
      case State::kEstablished: fifo = kFifoQuiet; break;
      case State::kFinWait2: fifo = kFifoFinWait2; break;
      case State::kCloseWait: fifo = kFifoCloseWait; break;
      default: fifo = kFifoWheel; break;
    }
  }
  if (c.flags & cflag::kAckDelayed) {
    const Deadline a = ack_at(c, static_cast<uint32_t>(now_us_));
    if (d.none() || before(a, d)) {
      d = a;
      fifo = kFifoDelack;
    }
  }
  const uint32_t id = idx_of(c);
  if (d.none()) {
    wheel_.cancel_rec(id);
    return;
  }
  // Armed at or before d already: it fires early, on_timer() re-arms. (The
  // node holds the deadline as the record does: µs since start_, serial.)
  if (c.timer.armed() && !before(d, Deadline{c.timer.at})) return;
  // The deadline in full µs, read relative to the entry point's clock
  // (deadlines lie within 2^31 µs of it, deadline.hpp).
  const int64_t at = static_cast<int64_t>(now_us_) + static_cast<int32_t>(d.us - static_cast<uint32_t>(now_us_));
  if (c.timer.armed())
    wheel_.arm_rec(id, fifo, static_cast<uint64_t>(at < 0 ? 0 : at));
  else
    wheel_.arm_rec_unarmed(id, fifo, static_cast<uint64_t>(at < 0 ? 0 : at));
}

void Stack::start_rtx(ConnHot& c, Instant now) {
  c.rtx_at = deadline_in_us(now, uint64_t{c.rto_ms} * 1000);  // the RTO is whole milliseconds
  arm_timer(c);
}

void Stack::start_rtx_new(ConnHot& c, Instant now) {
  assert(!c.timer.armed() && c.state_at.none() && !(c.flags & cflag::kAckDelayed) && c.rto_ms == rto_initial_ms_);
  c.rtx_at = deadline_in_us(now, uint64_t{rto_initial_ms_} * 1000);
  if (&c == timer_held_) {
    timer_due_ = true;
    return;
  }
  // arm_timer()'s deadline, for this case: the RTO on its FIFO.
  const int64_t at = static_cast<int64_t>(now_us_) + static_cast<int32_t>(c.rtx_at.us - static_cast<uint32_t>(now_us_));
  wheel_.arm_rec_unarmed(idx_of(c), kFifoRtoInitial, static_cast<uint64_t>(at < 0 ? 0 : at));
}

void Stack::on_timer(ConnHot& c, Instant now) {
  if (c.state == State::kClosed) return;
  if ((c.flags & cflag::kAckDelayed) && ack_units_left(c, static_cast<uint32_t>(now_us(now))) <= 0) {  // RFC 1122 §4.2.3.2
    c.flags &= static_cast<uint16_t>(~cflag::kAckDelayed);
    ++ctr_.delayed_acks;
    send_ack(c, now);
  }
  if (!c.rtx_at.none() && due(c.rtx_at, now)) {
    c.rtx_at = Deadline{};
    retransmit(c, now);
    if (c.state == State::kClosed) return;
  }
  if (!c.state_at.none() && due(c.state_at, now)) {
    c.state_at = Deadline{};
    switch (c.state) {
      case State::kFinWait2:  // orphaned FIN_WAIT_2 (the peer vanished)
        send_rst(c, now);
        finish(c, CloseReason::kFinWait2Timeout);
        return;
      case State::kCloseWait:  // the application never closed
        send_rst(c, now);
        finish(c, CloseReason::kCloseWaitTimeout);
        return;
      case State::kEstablished:  // idle reclaim and keep-alive (stack_reclaim.cpp)
        quiet_tick(c, now);
        if (c.state == State::kClosed) return;
        break;
      default: break;
    }
  }
  arm_timer(c);
}

void Stack::retransmit(ConnHot& c, Instant now) {
  uint8_t limit = cfg_.data_retries;
  switch (c.state) {
    case State::kSynSent: limit = cfg_.syn_retries; break;
    case State::kSynRcvd: limit = cfg_.synack_retries; break;
    case State::kFinWait1:
    case State::kClosing:
    case State::kLastAck: limit = cfg_.fin_retries; break;
    default: break;
  }
  // Orphans are retried fewer times (Linux tcp_orphan_retries): nobody waits
  // for them, and their slots are wanted.
  const bool orphan = (c.flags & cflag::kOrphan) && synchronized(c.state);
  if (orphan) limit = std::min(limit, cfg_.orphan_retries);
  if (c.retries >= limit) {
    if (orphan) ++ctr_.reclaim_orphan_retries;
    // Reclaims SYN_SENT, SYN_RCVD without the final ACK, FIN_WAIT_1 / CLOSING /
    // LAST_ACK whose FIN is never acknowledged, and dead peers.
    if (c.state != State::kSynSent && c.state != State::kSynRcvd) send_rst(c, now);
    finish(c, CloseReason::kTimeout);
    return;
  }
  ++c.retries;
  // RFC 6298 §5.5: back off; §5.7: RTO after a SYN timeout is at least 3 s
  // is left to rto_initial.
  c.rto_ms = std::min<uint32_t>(c.rto_ms * 2, static_cast<uint32_t>(cfg_.rto_max.count_ms()));
  c.flags &= static_cast<uint16_t>(~cflag::kRttTiming);  // Karn
  switch (c.state) {
    case State::kSynSent:
      ++ctr_.syn_retransmits;
      send_syn(c, false, now);
      break;
    case State::kSynRcvd:
      ++ctr_.synack_retransmits;
      send_syn(c, true, now);
      break;
    default: {
      if (((c.xflags & xflag::kSquat) || c.snd_wnd < mss_eff(c)) && check_squat(c, now)) return;
      if (c.snd_wnd == 0 && sendq_size(c) > 0) {
        // Persist (RFC 9293 §3.8.6.1): probe the zero window with one byte,
        // the first unacknowledged one; no congestion response. The probes
        // back off like the RTO and go on as long as the peer answers them
        // (input_ack resets the retry count).
        ++ctr_.zero_window_probes;
        if (c.snd_max != c.snd_una) {
          send_range(c, c.snd_una, 1, now);
        } else {
          c.snd_wnd = 1;
          output(c, now);
          c.snd_wnd = 0;
        }
        break;
      }
      // RFC 6298 §5.4-5.6: timeout. RFC 5681 §3.1 eq. (4): ssthresh from the
      // flight size, held constant on repeated timeouts of the same segment;
      // cwnd to the loss window; go back to SND.UNA.
      ++ctr_.rto_timeouts;
      if (c.flags & cflag::kRecovery) {
        ++ctr_.rto_after_recovery;
        c.flags &= static_cast<uint16_t>(~cflag::kRecovery);
      }
      c.dupacks = 0;
      const uint32_t in_flight = static_cast<uint32_t>(c.snd_max - c.snd_una);
      const uint32_t mss = mss_eff(c);
      if (c.retries == 1) c.ssthresh = std::max(in_flight / 2, 2 * mss);
      c.cwnd = mss;
      // RFC 6582 §3.2 step 1 / RFC 6675 §5.1: no fast retransmit for what was
      // outstanding at the timeout. (Only a FIN can be outstanding without
      // an extension; with none to be had, the timer alone retransmits it.)
      if (ConnExt* k = take_ext(c)) {
        k->recover = c.snd_max;
        k->high_rxt = c.snd_una;
        // RFC 2018 §8 / RFC 6675 §5.1: the receiver may have reneged; after a
        // second timeout in a row the SACK information is no longer trusted.
        if (c.retries >= 2) {
          k->sacked.clear();
          c.xflags &= static_cast<uint8_t>(~xflag::kSacked);
        }
      }
      c.snd_nxt = c.snd_una;
      output(c, now);
      break;
    }
  }
  if (c.state == State::kClosed) return;
  start_rtx(c, now);
  // A squatter's probes come no later than its persist deadline.
  if ((c.xflags & xflag::kSquat) && cfg_.persist_timeout.count_ns() > 0) {
    const Deadline deadline = deadline_at(instant_of(held_ext(c).squat_since) + cfg_.persist_timeout);  // a squatter holds data
    if (before(deadline, c.rtx_at)) {
      const Deadline soonest = deadline_in(now, cfg_.timer_tick);
      c.rtx_at = before(deadline, soonest) ? soonest : deadline;
      arm_timer(c);
    }
  }
}

// ---- application timers -----------------------------------------------------

void Stack::on_wheel(uint32_t id, Instant now) {
  const uint32_t n = cfg_.max_conns;
  if (id < n) {
    TimerHold hold(*this, hot_[id]);
    on_timer(hot_[id], now);
    if (!hold.holds) watch_ext(hot_[id]);  // else the hold's end looks (settle_ext)
  } else if (id < 2 * n) {
    ConnHot& c = hot_[id - n];
    if (c.state == State::kClosed || (c.flags & cflag::kOrphan)) return;
    app_of(c)->on_timer(*this, id_of(c));
  } else {
    const uint32_t t = id - 2 * n;
    App* app = worker_timer_app_[t];
    worker_timer_app_[t] = nullptr;
    if (app != nullptr) app->on_worker_timer(*this, t);
  }
}

bool Stack::set_timer(ConnId id, Duration after) {
  const ConnHot* c = lookup(id);
  if (c == nullptr || c->state == State::kClosed || (c->flags & cflag::kOrphan)) return false;
  app_timers_used_ = true;
  wheel_.arm(app_timer_id(id.idx), now_ + after);
  return true;
}

void Stack::cancel_timer(ConnId id) {
  if (lookup(id) != nullptr) wheel_.cancel(app_timer_id(id.idx));
}

bool Stack::set_worker_timer(uint32_t timer, Duration after, App& app) {
  if (timer >= kWorkerTimers) return false;
  worker_timer_app_[timer] = &app;
  wheel_.arm(worker_timer_id(timer), now_ + after);
  return true;
}

void Stack::cancel_worker_timer(uint32_t timer) {
  if (timer >= kWorkerTimers) return;
  worker_timer_app_[timer] = nullptr;
  wheel_.cancel(worker_timer_id(timer));
}

}  // namespace synmill::tcp
