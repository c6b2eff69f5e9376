// Overload policies: what gives way when the connection table or the chunk
// pool runs short, and what reclaims connections nobody uses.
//
// Orphans (the application called close(); FIN_WAIT_1, FIN_WAIT_2, CLOSING,
// LAST_ACK) sit on a list, oldest first. There are at most max_orphans of
// them: one more resets the oldest. (Linux resets the socket being closed
// instead, tcp_close() -> tcp_check_oom(); the oldest orphan has had its FIN
// retransmissions, the newest has not.) Their FIN is retried orphan_retries
// times (Linux tcp_orphan_retries). A full table resets the oldest orphan so
// that a new SYN finds a slot (Linux tcp_out_of_resources() kills orphans
// first); a short chunk pool resets orphans holding chunks, then squatters.
// A connection whose application is still attached is never reset to make
// room for an orphan, nor for a new connection.
//
// Fair pool (Linux tcp_wmem[0] / tcp_rmem[0]): below min_conn_buf a connection
// may always queue and be offered window, from a reserve of chunks kept for
// that; beyond it only while the pool has chunks above the reserve. A
// squatter (data queued toward a peer window below one segment) never grows
// beyond its minimum, and is reset after persist_timeout, or
// sooner when the pool runs short. RFC 9293 §3.8.6.1 says a sender keeps
// probing a zero window as long as the peer answers; RFC 6429 (and RFC 9293
// §3.8.6.1, which cites it) leaves a sender free to close such a connection
// when it runs out of resources, which is what this does.
//
// Idle reclaim and keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) run on one
// tick per ESTABLISHED connection (state_at): on_segment() only sets two bits
// of the hot record, and the tick counts the ticks without them.
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

namespace {
constexpr uint32_t kNone = UINT32_MAX;
constexpr uint32_t kPoolScan = 32;      // orphans looked at per relief for chunks
constexpr uint32_t kPoolEvictions = 4;  // connections reset per relief (per entry point)
}  // namespace

// ---- the lists ------------------------------------------------------------------

template <bool kOrphans>
uint32_t Stack::list_prev(const ConnHot& k) const {
  if constexpr (kOrphans) {
    const uint32_t v = k.orphan_prev();
    return v == ConnHot::kNoLink ? kNone : v;
  } else {
    return held_ext(k).squat_prev;
  }
}

template <bool kOrphans>
uint32_t Stack::list_next(const ConnHot& k) const {
  if constexpr (kOrphans) {
    const uint32_t v = k.orphan_next();
    return v == ConnHot::kNoLink ? kNone : v;
  } else {
    return held_ext(k).squat_next;
  }
}

template <bool kOrphans>
void Stack::set_list_prev(ConnHot& k, uint32_t v) {
  if constexpr (kOrphans)
    k.set_orphan_prev(v == kNone ? ConnHot::kNoLink : v);
  else
    held_ext(k).squat_prev = v;
}

template <bool kOrphans>
void Stack::set_list_next(ConnHot& k, uint32_t v) {
  if constexpr (kOrphans)
    k.set_orphan_next(v == kNone ? ConnHot::kNoLink : v);
  else
    held_ext(k).squat_next = v;
}

template <bool kOrphans>
void Stack::list_push(uint32_t i) {
  SlotList& l = kOrphans ? orphans_ : squatters_;
  ConnHot* const hot = hot_.get();
  set_list_prev<kOrphans>(hot[i], l.tail);
  set_list_next<kOrphans>(hot[i], kNone);
  if (l.tail != kNone)
    set_list_next<kOrphans>(hot[l.tail], i);
  else
    l.head = i;
  l.tail = i;
  ++l.size;
}

template <bool kOrphans>
void Stack::list_remove(uint32_t i) {
  SlotList& l = kOrphans ? orphans_ : squatters_;
  ConnHot* const hot = hot_.get();
  ConnHot& k = hot[i];
  const uint32_t prev = list_prev<kOrphans>(k), next = list_next<kOrphans>(k);
  if (prev != kNone)
    set_list_next<kOrphans>(hot[prev], next);
  else
    l.head = next;
  if (next != kNone)
    set_list_prev<kOrphans>(hot[next], prev);
  else
    l.tail = prev;
  // k's own links stay as they were: membership is the flag (cflag::kOrphan
  // for a record that is not CLOSED, xflag::kSquat), never the links, which
  // are read only while on the list and written afresh by list_push (and by
  // alloc_conn, for an orphan's record: its links overlay ESTABLISHED's
  // tick counts).
  --l.size;
}

void Stack::unlist(ConnHot& c) {
  if (c.flags & cflag::kOrphan)
    list_remove<true>(idx_of(c));
  else if (c.xflags & xflag::kSquat)
    list_remove<false>(idx_of(c));
}

// ---- orphans ----------------------------------------------------------------------

void Stack::become_orphan(ConnHot& c) {
  if (c.xflags & xflag::kSquat) list_remove<false>(idx_of(c));
  while (orphans_.size >= max_orphans_) {
    ++ctr_.reclaim_orphan_limit;
    evict(hot_[orphans_.head], CloseReason::kReclaimed);
  }
  c.flags |= cflag::kOrphan;
  list_push<true>(idx_of(c));
  ++ctr_.orphans_closed;
}

void Stack::evict(ConnHot& c, CloseReason why) {
  if (c.state != State::kSynSent) send_rst(c, now_);
  finish(c, why);
}

void Stack::release_now(ConnHot& c) {
  const uint32_t i = idx_of(c);
  if (!reap_.remove_last(i)) return;
  free_slot(i);
}

bool Stack::reclaim_slot() {
  if (orphans_.size == 0) return false;
  ConnHot& o = hot_[orphans_.head];
  ++ctr_.reclaim_orphan_table;
  evict(o, CloseReason::kReclaimed);
  release_now(o);
  return true;
}

// The chunk pool below its reserve, or the extension pool below its own:
// orphans holding what is short, then squatters (which hold both), are reset.
bool Stack::relieve_pool() {
  uint32_t evicted = 0;
  uint32_t freed = 0;      // chunks the resets give back at reap()
  uint32_t freed_ext = 0;  // extensions they give back
  const uint32_t cs = chunks_.chunk_size();
  // Until the pools are back at their reserves, a few resets per entry point.
  for (;;) {
    const bool chunks_short = chunks_.available() + freed < reserve_;
    const bool exts_short = ext_pool_.available() + freed_ext < ext_reserve_;
    if (evicted >= kPoolEvictions || (!chunks_short && !exts_short)) break;
    auto holds = [&](uint32_t j) {
      const uint32_t e = hot_[j].ext;
      if (e == kNoExt) return false;
      return exts_short || !ext_[e].sendq.empty() || ext_[e].rcvq.chunks() > 0;
    };
    // The oldest orphan that holds chunks (a callback may have changed the
    // list: look again from the head after every reset).
    uint32_t i = orphans_.head;
    for (uint32_t seen = 0; i != kNone && seen < kPoolScan; ++seen, i = list_next<true>(hot_[i]))
      if (holds(i)) break;
    if (i != kNone && holds(i)) {
      ++ctr_.reclaim_orphan_pool;
    } else if (squatters_.size > 0) {
      i = squatters_.head;
      ++ctr_.reclaim_squatter_pool;
    } else {
      break;
    }
    if (const ConnExt* x = ext(hot_[i])) {
      freed += (x->sendq.size() + cs - 1) / cs + x->rcvq.chunks();
      ++freed_ext;
    }
    evict(hot_[i], CloseReason::kReclaimed);
    ++evicted;
  }
  return evicted > 0;
}

// A SYN (no ACK, RST or FIN) for a tuple an orphan still holds. RFC 9293
// §3.10.7.4 and RFC 5961 §4 answer a SYN in a synchronized state with a
// (challenge) ACK; a peer that has forgotten the connection then answers
// with an RST and retries its SYN a second or more later, and a peer that
// ignores unexpected ACKs (load generators that keep no TIME_WAIT) never gets
// through. As Linux and FreeBSD do for TIME_WAIT (tcp_timewait_state_process,
// tcp_twcheck), synmill lets such a SYN replace the orphan when the peer has
// evidently moved on, by the rules of RFC 6191 §2 that stack_time_wait.cpp
// applies:
//   - the SYN's sequence number lies beyond the right edge of the window
//     (RFC 6191 without timestamps asks only for one above RCV.NXT; an orphan
//     keeps RFC 5961 §4's protection against blind in-window SYNs), and with
//     timestamps on both its TSval is not older than TS.Recent (RFC 6191 §2,
//     RFC 7323 §5 PAWS);
//   - or, either way, our FIN has gone unacknowledged through at least one
//     retransmission: the peer is not answering the old connection (peers
//     that draw a new timestamp clock per connection, as Linux does since
//     4.10, fail the timestamp test half the time).
// Where RFC 9293 §3.10.7.4 and RFC 5961 §4 would send a challenge ACK, this
// departs from them, as Linux's and FreeBSD's TIME_WAIT recycling does.
// The new connection's ISS lies above the old SND.NXT (RFC 6191 §2, as in
// TIME_WAIT). A duplicate of the SYN that opened the old connection never
// replaces it. No RST goes to the old connection: it would reach the peer's
// new SYN_SENT, which ignores an RST without an acceptable ACK anyway.
bool Stack::replace_orphan(ConnHot& c, const SegmentIn& seg, Instant now) {
  switch (c.state) {
    case State::kFinWait1:
    case State::kFinWait2:
    case State::kClosing:
    case State::kLastAck: break;
    default: return false;
  }
  // The IRS's low 16 bits (ConnHot::irs_lo): a new SYN that shares them
  // (one in 65,536) is answered as RFC 9293 §3.10.7.4 / RFC 5961 §4 answer
  // any SYN in these states, with a challenge ACK, and gets through once the
  // orphan ends.
  if (static_cast<uint16_t>(seg.seq.raw()) == c.irs_lo) return false;
  Listener* l = listener_for(seg.tuple.local_port);
  if (l == nullptr) return false;
  const Seq right = seq_max(c.rcv_adv, c.rcv_nxt);
  bool moved_on = right <= seg.seq;
  if ((c.flags & cflag::kTimestamps) && seg.opts.has_timestamps &&
      static_cast<int32_t>(seg.opts.ts_val - c.ts_recent) < 0)
    moved_on = false;
  const bool fin_unanswered =
      (c.flags & cflag::kFinSent) && c.snd_una != c.snd_max && c.retries >= 1;
  if (!moved_on && !fin_unanswered) return false;
  const Seq iss = c.snd_max + 65535 + 2;
  ++ctr_.reclaim_orphan_replaced;
  finish(c, CloseReason::kReplaced);
  release_now(c);
  ++ctr_.syn_in;
  seg_hash_ = tw_.hash(seg.tuple);  // (segment_in sets it only where it finds no connection)
  syn_to_listener(*l, seg, now, iss);
  return true;
}

// ---- fair pool ------------------------------------------------------------------------

// The fair pool's share for a connection that holds `held` bytes (of its
// send queue, or received and not taken): min_conn_buf is always offered
// while chunks exist; more (with `spare`) only from the free chunks beyond
// the reserve; never more than the free chunks can store.
uint32_t Stack::pool_share(uint32_t held, bool spare) const {
  const uint32_t avail = chunks_.available();
  const uint64_t cs = chunks_.chunk_size();
  uint64_t share = cfg_.min_conn_buf > held ? cfg_.min_conn_buf - held : 0;
  if (spare && avail > reserve_) share = std::max<uint64_t>(share, std::min<uint64_t>((avail - reserve_) * cs, UINT32_MAX));
  return static_cast<uint32_t>(std::min<uint64_t>(share, avail * cs));
}

uint32_t Stack::send_cap(const ConnHot& c) const {
  const uint32_t q = sendq_size(c);
  const uint32_t room = cfg_.send_buf > q ? cfg_.send_buf - q : 0;
  const bool spare = !(c.xflags & xflag::kSquat);
  if (spare && chunks_.available() >= send_plenty_at_) return room;  // pool_share() >= send_buf >= room
  return std::min(room, pool_share(q, spare));
}

bool Stack::check_squat(ConnHot& c, Instant now) {
  ConnExt* k = ext(c);  // a squatter holds data, so an extension
  // Any data held toward a window below one segment: also a connection at
  // its minimum, which the application cannot grow while the window is shut,
  // so that thousands of zero-window peers at their minimum still meet
  // persist_timeout.
  const bool squat = c.snd_wnd < mss_eff(c) && k != nullptr && !k->sendq.empty();
  if (squat != ((c.xflags & xflag::kSquat) != 0)) {
    if (squat) {
      c.xflags |= xflag::kSquat;
      held_ext(c).squat_since = deadline_at(now);
      if (!(c.flags & cflag::kOrphan)) list_push<false>(idx_of(c));
    } else {
      if (!(c.flags & cflag::kOrphan)) list_remove<false>(idx_of(c));
      c.xflags &= static_cast<uint8_t>(~xflag::kSquat);
    }
  }
  if (squat && cfg_.persist_timeout.count_ns() > 0 && now - instant_of(held_ext(c).squat_since) >= cfg_.persist_timeout) {
    ++ctr_.reclaim_persist_timeout;
    evict(c, CloseReason::kPersistTimeout);
    return true;
  }
  return false;
}

// ---- idle and keep-alive ----------------------------------------------------------------

void Stack::send_keepalive(ConnHot& c, Instant now) {
  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1 and no data: the peer finds it
  // old and answers with an ACK (RFC 9293 §3.10.7.4).
  SegmentOut out;
  fill_common(c, out, now);
  out.seq = c.snd_max - 1;
  out.window = window_field(c, false);
  note_ack_sent(c);  // it carries our ACK (RFC 7323 §4.3 Last.ACK.sent)
  ++ctr_.keepalive_probes;
  emit(out);
}

void Stack::quiet_tick(ConnHot& c, Instant now) {
  if (c.xflags & xflag::kHeard) {
    c.quiet_ticks = 0;
    c.ka_probes = 0;
  } else if (c.quiet_ticks < UINT16_MAX) {
    ++c.quiet_ticks;
  }
  if (c.xflags & xflag::kActive)
    c.idle_ticks = 0;
  else if (c.idle_ticks < UINT16_MAX)
    ++c.idle_ticks;
  c.xflags &= static_cast<uint8_t>(~(xflag::kHeard | xflag::kActive));
  // Both only while nothing is outstanding: otherwise the retransmission
  // (or persist) timer finds out whether the peer is alive.
  const bool quiet = c.snd_una == c.snd_max && sendq_size(c) == 0;
  if (!quiet) c.idle_ticks = 0;
  if (cfg_.idle_timeout.count_ns() > 0 && quiet_tick_ * c.idle_ticks >= cfg_.idle_timeout) {
    ++ctr_.reclaim_idle;
    evict(c, CloseReason::kIdleTimeout);
    return;
  }
  if (cfg_.keepalive_time.count_ns() > 0 && quiet &&
      quiet_tick_ * c.quiet_ticks >= cfg_.keepalive_time + cfg_.keepalive_intvl * c.ka_probes) {
    if (c.ka_probes >= cfg_.keepalive_probes) {
      ++ctr_.reclaim_keepalive;
      evict(c, CloseReason::kKeepaliveTimeout);
      return;
    }
    ++c.ka_probes;
    send_keepalive(c, now);
  }
  c.state_at = deadline_in(now, quiet_tick_);
}

}  // namespace synmill::tcp
