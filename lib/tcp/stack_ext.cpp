// Connection extensions (conn.hpp ConnExt): data-transfer state taken from a
// bounded per-stack pool when a connection first needs it and given back
// when it is idle again, so an idle connection costs its record and nothing
// more (issue 12: "buffers, SACK scoreboard and out-of-order state come from
// a pool only while a connection needs them").
//
// Taken (take_ext) by whatever first writes such state: data the
// application queues (send), received data the application does not take at
// once or that arrives out of order, a D-SACK to report, a FIN that must
// wait, fast retransmit or an RTO with something outstanding. (In-order data
// the application takes at once, and the delayed ACK for it, need none.)
// When the pool is empty the write is refused the way an empty chunk pool
// refuses it, and nothing else changes: send() takes nothing, received data
// is not acknowledged (the peer sends it again), a FIN that would wait is not acknowledged, no D-SACK is reported, and loss
// recovery is left to the retransmission timer. Each is counted as
// drop_ext_pool_empty. When the free extensions fall below the reserve,
// orphans and then squatters holding one are reset (relieve_pool).
//
// Given back (check_exts, when the outermost entry point ends, for every
// connection that held one during it; settle_ext, for the connection whose
// segment or timer that entry point handles, when its TimerHold ends, just
// before: nothing between the two touches that connection but another's
// callbacks, after which the list catches it again) when nothing is queued either way,
// nothing is held out of order and no FIN waits, no D-SACK is owed, no
// segment is being timed, and the connection is neither in recovery nor below
// `recover` (so the next one starts with recover = SND.UNA and makes the
// same decisions), nor squatting.
#include <new>

#include "tcp/stack.hpp"

namespace synmill::tcp {

ConnExt* Stack::take_ext(ConnHot& c) {
  ConnHot& k = c;
  if (k.ext != kNoExt) return &ext_[k.ext];
  const uint32_t e = ext_pool_.acquire();
  if (e == IndexPool::kNone) {
    ++ctr_.drop.ext_pool_empty;
    return nullptr;
  }
  ConnExt& x = ext_[e];
  if (e == exts_ready_) {  // first use: the send queue's vtable pointer and tail
    new (&x.sendq) SendQueue;
    ++exts_ready_;
  }
  // An extension comes back empty (give_back_ext): its queue and ring hold
  // nothing; the rest starts as it would have at the handshake (the SACK
  // scoreboard empty: xflag::kSacked is clear while none is held).
  x.rcvq.reset(c.rcv_nxt);
  x.sacked.clear();
  x.recover = c.snd_una;
  x.high_rxt = c.snd_una;
  x.squat_since = Deadline{};
  k.ext = e;
  if (!(c.xflags & xflag::kExtCheck) && !ext_settled_at_hold_end(c)) {
    c.xflags |= xflag::kExtCheck;
    ext_check_.push(idx_of(c));
    deferred_ = true;
  }
  return &x;
}

void Stack::settle_ext(ConnHot& c, bool outermost) {
  if (!outermost) {  // the outermost entry point's end looks
    watch_ext(c);
    return;
  }
  if (ext_idle(c, held_ext(c))) give_back_ext(c);
}

bool Stack::ext_idle(const ConnHot& c, const ConnExt& x) const {
  if (!x.sendq.empty() || x.rcvq.chunks() > 0 || x.rcvq.has_ooo() || x.rcvq.has_dsack()) return false;
  if (x.rcvq.in_order(c.rcv_nxt) > 0) return false;
  if (x.rcvq.has_fin() && !(c.flags & cflag::kPeerFin)) return false;
  if (c.flags & (cflag::kRecovery | cflag::kRttTiming)) return false;
  if (c.xflags & (xflag::kSacked | xflag::kOooHeld | xflag::kSquat)) return false;
  return !(c.snd_una < x.recover);
}

void Stack::give_back_ext(ConnHot& c) {
  ConnHot& k = c;
  if (k.ext == kNoExt) return;
  ConnExt& x = ext_[k.ext];
  if (!x.sendq.empty()) x.sendq.clear(chunks_);
  if (x.rcvq.chunks() > 0 || x.rcvq.has_ooo()) x.rcvq.clear(chunks_, rcv_slots(c));
  ext_pool_.release(k.ext);
  k.ext = kNoExt;
}

void Stack::check_exts() {
  for (const uint32_t i : ext_check_) {
    ConnHot& c = hot_[i];
    c.xflags &= static_cast<uint8_t>(~xflag::kExtCheck);
    if (c.state == State::kClosed) continue;  // free_slot gives it back
    const ConnExt* x = ext(c);
    if (x != nullptr && ext_idle(c, *x)) give_back_ext(c);
  }
  ext_check_.clear();
}

}  // namespace synmill::tcp
