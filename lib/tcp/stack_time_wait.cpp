// TIME_WAIT in the compact table: RFC 9293 §3.10.7.4 for the state, RFC 6191
// for reuse by a new SYN, RFC 1337 for RSTs, RFC 7323 §5 PAWS.
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

namespace {
constexpr uint8_t kTwTimestamps = 1;
}

void Stack::enter_time_wait(ConnHot& c, Instant now) {
  if (cfg_.time_wait == Duration{}) {
    // No TIME_WAIT configured (a load generator that reuses tuples at once,
    // as dperf does): closed here, the tuple free for the next connect().
    // RFC 9293 §3.10.7.4 wants 2 MSL; Linux has no such knob for a socket
    // (tcp_tw_reuse only lets connect() take over a TIME_WAIT tuple).
    finish(c, CloseReason::kNormal);
    return;
  }
  TimeWaitEntry e{};
  e.tuple = c.tuple;
  e.snd_nxt = c.snd_max.raw();
  e.rcv_nxt = c.rcv_nxt.raw();
  e.ts_recent = c.ts_recent;
  e.rcv_wnd = window_field(c, false);
  e.flags = (c.flags & cflag::kTimestamps) ? kTwTimestamps : 0;
  if (tw_.insert(e, now) != TimeWaitTable::kNone) {
    ++ctr_.time_wait_entered;
    if (is_ipv6(e.tuple)) addr6_.retain(e.tuple.remote_ip);  // the entry holds the peer's address too
  } else  // full (or no index slot within its probe bound): closed at once,
    ++ctr_.drop.time_wait_full;  // as Linux does when its bucket is full
  finish(c, CloseReason::kNormal);
}

void Stack::input_time_wait(TimeWaitTable::Ref r, const SegmentIn& seg, Instant now) {
  const TimeWaitEntry e = tw_.get(r);
  const bool ts = (e.flags & kTwTimestamps) != 0;
  auto ack = [&] {
    SegmentOut out;
    out.tuple = e.tuple;
    out.seq = Seq{e.snd_nxt};
    out.ack = Seq{e.rcv_nxt};
    out.flags = flag::kAck;
    out.window = e.rcv_wnd;
    if (ts) {
      out.opts.has_timestamps = true;
      out.opts.ts_val = ts_clock(now);
      out.opts.ts_ecr = e.ts_recent;
    }
    emit(out);
  };
  if (seg.has(flag::kRst)) {
    ++ctr_.rst_in;
    // RFC 1337: ignore (default). Or RFC 9293 §3.10.7.4 with RFC 5961 §3.2:
    // an RST exactly at RCV.NXT closes, another in-window one gets an ACK.
    if (cfg_.time_wait_rst == TimeWaitRstPolicy::kClose) {
      const Seq rcv{e.rcv_nxt};
      if (seg.seq == rcv)
        tw_erase(r);
      else if (seq_in(seg.seq, rcv, rcv + std::max<uint32_t>(e.rcv_wnd, 1)))
        ack();
    }
    return;
  }
  // RFC 6191 §2: a SYN with a newer timestamp (or, without timestamps, a
  // higher sequence number) reopens the tuple with an ISS above the old SND.NXT.
  if (seg.has(flag::kSyn) && !seg.has(flag::kAck)) {
    // RFC 6191 §2: a newer timestamp, or an equal one with a higher sequence.
    const int32_t ts_delta = static_cast<int32_t>(seg.opts.ts_val - e.ts_recent);
    const bool newer = (ts && seg.opts.has_timestamps)
                           ? (ts_delta > 0 || (ts_delta == 0 && Seq{e.rcv_nxt} < seg.seq))
                           : Seq{e.rcv_nxt} < seg.seq;
    Listener* l = listener_for(seg.tuple.local_port);
    if (newer && l != nullptr && !seg.has(flag::kFin)) {
      const Seq iss = Seq{e.snd_nxt} + 65535 + 2;
      tw_erase(r);
      ++ctr_.time_wait_reused;
      ++ctr_.syn_in;
      syn_to_listener(*l, seg, now, iss);
      return;
    }
    ++ctr_.drop.time_wait_syn_old;
    ack();  // RFC 5961 §4: an old SYN gets an ACK and is dropped
    return;
  }
  // PAWS (RFC 7323 §5.3) as in any synchronized state.
  if (ts && seg.opts.has_timestamps && static_cast<int32_t>(seg.opts.ts_val - e.ts_recent) < 0) {
    ++ctr_.drop.paws;
    ack();
    return;
  }
  // The only thing that can arrive legitimately is a retransmission of the
  // peer's FIN: acknowledge it and restart the 2 MSL timeout.
  if (seg.has(flag::kFin) && seg.seq + seg.seg_len() == Seq{e.rcv_nxt}) {
    tw_.restart(r, now);  // (kept as it was when the ring has no room)
    ack();
    return;
  }
  if (!seg.payload.empty() || seg.has(flag::kFin) || seg.has(flag::kSyn) ||
      Seq{e.rcv_nxt} != seg.seq) {
    ++ctr_.drop.out_of_window;
    ack();
  }
}

}  // namespace synmill::tcp
