// Stack: construction, connection slots, state bookkeeping, the top-level entry
// points and the application calls.
#include "tcp/stack.hpp"
#include "tcp/stack_steps.hpp"
#include "wire/tcp_frame.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
#include <utility>

namespace synmill::tcp {

namespace {

// ConnHot{} written as what it is: zero bytes, 16 at a time, then the one
// default that is not zero (the extension, kNoExt). GCC writes `c =
// ConnHot{}` with rep stos (slow to start; 18 instructions as callgrind
// counts them). fresh_record_is_zero_but_ext() checks the premise (Stack's
// constructor, debug builds).
template <size_t... I>
inline void zero_16s(unsigned char* p, std::index_sequence<I...>) {
  typedef unsigned char V16 __attribute__((vector_size(16)));
  const V16 z{};
  (std::memcpy(p + 16 * I, &z, 16), ...);
}

inline void reset_record(ConnHot& c) {
  static_assert(sizeof(ConnHot) % 8 == 0);
  auto* p = reinterpret_cast<unsigned char*>(&c);
  zero_16s(p, std::make_index_sequence<sizeof(ConnHot) / 16>{});
  if constexpr (sizeof(ConnHot) % 16 != 0) {
    const uint64_t z = 0;
    std::memcpy(p + sizeof(ConnHot) - 8, &z, 8);
  }
  c.ext = ConnHot::kNoExt;
}

[[maybe_unused]] bool fresh_record_is_zero_but_ext() {
  alignas(ConnHot) unsigned char a[sizeof(ConnHot)], b[sizeof(ConnHot)];
  std::memset(a, 0xA5, sizeof a);  // reset_record() writes every byte
  std::memset(b, 0, sizeof b);     // ConnHot{} over zero bytes: its padding stays zero
  reset_record(*new (a) ConnHot);
  new (b) ConnHot{};
  return std::memcmp(a, b, sizeof a) == 0;
}

}  // namespace

// Every public entry point opens an Entry. Connections finished while it is
// open stay in their slot (state CLOSED) until the outermost Entry ends, so a
// callback that aborts a connection never frees memory the caller still uses.
struct Stack::Entry {
  Stack& s;
  Entry(Stack& st, Instant now) : s(st) {
    if (s.depth_++ == 0 && now != s.now_) s.set_now(now);
  }
  ~Entry() {
    // The work lists are looked at only when something was put on one
    // (deferred_): most segments leave all of them empty.
    if (s.depth_ == 1 && s.deferred_) {
      s.deferred_ = false;  // set again by whatever the work below defers
      if (s.queued_accepts_ != 0) s.drain_accept_queues();
      if (!s.pending_out_.empty()) s.flush_pending_output();
      if (!s.ext_check_.empty()) s.check_exts();
      if (!s.reap_.empty()) s.reap();
      // An application not accepting yet leaves its queue: look again at the
      // next entry point's end, as before any deferral.
      if (s.queued_accepts_ != 0) s.deferred_ = true;
    }
    if (s.depth_ == 1) {
      // A pool ran short: orphans and squatters give their chunks (or
      // extensions) back.
      // (chunks_.available() < low_water_ || ext_pool_.available() < ext_low_water_)
      if ((s.chunks_.in_use() >= s.chunks_relieve_at_ || s.ext_pool_.in_use() >= s.exts_relieve_at_) &&
          s.relieve_pool())
        s.reap();
    }
    --s.depth_;
  }
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
};

Stack::Stack(const StackConfig& cfg, const StackSecrets& secrets, TxSink& tx, Instant start)
    : cfg_(cfg),
      tx_(tx),
      isn_(secrets.isn_key, cfg.prf),
      cookies_(secrets.cookie_key, cfg.cookie_lifetime, start, cfg.prf, cfg.timestamps),
      ts_offset_(secrets.ts_offset),
      conn_pool_(cfg.max_conns),
      hot_(cfg.max_conns),
      user_(cfg.max_conns),
      ext_pool_(cfg.max_exts != 0 ? cfg.max_exts : cfg.max_conns),
      ext_(ext_pool_.capacity()),
      ext_reserve_(cfg.ext_reserve != 0 ? std::min(cfg.ext_reserve, ext_pool_.capacity())
                                        : ext_pool_.capacity() / 8),
      ext_low_water_(ext_reserve_ / 2),
      // ids: connections (their nodes in the records), then one application
      // timer per connection, then the worker timers
      wheel_(2 * cfg.max_conns + kWorkerTimers, cfg.timer_tick, start, kNumTimerFifos,
             cfg.max_conns > 0 ? &hot_.get()->timer : nullptr, sizeof(ConnHot), cfg.max_conns),
      // every holder of a peer's IPv6 address: a connection or a TIME_WAIT entry
      addr6_(std::max<uint32_t>(cfg.max_conns + cfg.max_time_wait, 1), secrets.table_seed ^ 0x243f6a8885a308d3ULL),
      // one index for connections and TIME_WAIT: a segment's tuple is probed once
      tw_(cfg.max_time_wait, cfg.time_wait, secrets.table_seed ^ 0x9e3779b97f4a7c15ULL, start, cfg.max_conns,
          cfg.max_conns > 0 ? &hot_.get()->tuple : nullptr, sizeof(ConnHot)),
      chunks_(cfg.send_chunks, cfg.chunk_size),
      rcv_nslots_((cfg.rcv_wnd + cfg.chunk_size - 1) / cfg.chunk_size + 2),
      rcv_slots_(static_cast<size_t>(ext_pool_.capacity()) * rcv_nslots_),
      listeners_(kMaxListeners),
      worker_timer_app_(kWorkerTimers, nullptr),
      now_(start),
      start_(start),
      max_orphans_(cfg.max_orphans != 0 ? cfg.max_orphans : std::max<uint32_t>(cfg.max_conns / 4, 1)),
      reserve_(cfg.pool_reserve != 0 ? std::min(cfg.pool_reserve, cfg.send_chunks)
                                      : cfg.send_chunks / 8),
      low_water_(std::max<uint32_t>(reserve_ / 2, 1)) {
  // One tick serves idle reclaim and keep-alive: a quarter of the shorter
  // period (so each fires within a quarter of its setting), no longer than
  // the probe interval.
  Duration tick{};
  auto consider = [&tick](Duration d) {
    if (d.count_ns() > 0 && (tick.count_ns() == 0 || d < tick)) tick = d;
  };
  consider(cfg.idle_timeout / 4);
  if (cfg.keepalive_time.count_ns() > 0) {
    consider(cfg.keepalive_time / 4);
    consider(cfg.keepalive_intvl);
  }
  if (tick.count_ns() > 0 && tick < cfg.timer_tick) tick = cfg.timer_tick;
  // The record's deadlines lie at most kMaxDeadline (30 min) ahead
  // (deadline.hpp): the idle / keep-alive tick is no longer (the counts
  // carry longer timeouts), nor the timeouts a deadline is set from.
  quiet_tick_ = std::min(tick, kMaxDeadline);
  for (Duration* d : {&cfg_.rto_initial, &cfg_.rto_max, &cfg_.fin_wait2_timeout, &cfg_.close_wait_timeout,
                      &cfg_.delayed_ack, &cfg_.persist_timeout})
    *d = std::min(*d, kMaxDeadline);
  // RFC 1122 §4.2.3.2: an ACK is delayed less than 0.5 s (the record keeps
  // its deadline in 16 bits of 64 µs, ConnHot::ack_at16).
  cfg_.delayed_ack = std::min(cfg_.delayed_ack, kMaxDelayedAck);
  ack_units_max_ = static_cast<int32_t>((cfg_.delayed_ack.count_ns() / 1000 + 2 * kAckUnit - 1) >> kAckUnitShift);
  rto_initial_ms_ = static_cast<uint32_t>(cfg_.rto_initial.count_ms());
  rto_granularity_us_ = static_cast<uint64_t>(std::max<int64_t>(cfg_.timer_tick.count_us(), 0));
  rto_min_us_ = static_cast<uint64_t>(std::max<int64_t>(cfg_.rto_min.count_us(), 0));
  rto_max_us_ = std::max(rto_min_us_, static_cast<uint64_t>(std::max<int64_t>(cfg_.rto_max.count_us(), 0)));
  rto_min_ms_ = static_cast<uint32_t>(rto_min_us_ / 1000);
  if (cfg_.close_wait_timeout.count_ns() > 0 && cfg_.close_wait_timeout.count_ns() % 1000 == 0)
    close_wait_us_ = static_cast<uint64_t>(cfg_.close_wait_timeout.count_ns() / 1000);
  // 24-bit slot links and extension indexes in the record (conn.hpp).
  assert(cfg.max_conns < ConnHot::kNoLink && ext_pool_.capacity() < ConnHot::kNoExt);
  static_assert(kMaxListeners < kNoListener, "ConnHot::listener is 8 bits");
  cfg_.wscale = std::min<uint8_t>(cfg_.wscale, 14);  // RFC 7323 §2.3
  set_overloaded(false);  // cookies_first_
  // available() < w <=> capacity - in_use < w <=> in_use >= capacity - w + 1 (0: always, w > capacity)
  auto relieve_at = [](uint32_t capacity, uint32_t w) { return w <= capacity ? capacity - w + 1 : 0u; };
  chunks_relieve_at_ = relieve_at(chunks_.capacity(), low_water_);
  exts_relieve_at_ = relieve_at(ext_pool_.capacity(), ext_low_water_);
  auto plenty_at = [this](uint64_t bytes) {
    const uint64_t cs = chunks_.chunk_size();
    return static_cast<uint32_t>(std::min<uint64_t>(reserve_ + (bytes + cs - 1) / cs, UINT32_MAX));
  };
  rcv_plenty_at_ = plenty_at(cfg_.rcv_wnd);
  send_plenty_at_ = plenty_at(cfg_.send_buf);
  assert(fresh_record_is_zero_but_ext());  // alloc_conn()'s reset_record() is ConnHot{}
  reap_ = SlotStack(cfg.max_conns);
  pending_out_ = SlotStack(cfg.max_conns);
  ext_check_ = SlotStack(cfg.max_conns);
  apps_.reserve(16);
  // The slot pool's free list runs through the free records (index_pool.hpp):
  // a free slot's snd_wnd (alloc_conn() rewrites the whole record).
  if (cfg.max_conns > 0) conn_pool_.thread_through(&hot_.get()->snd_wnd, sizeof(ConnHot));
  gauges_.count[static_cast<int>(State::kClosed)] = cfg.max_conns;
}

Stack::~Stack() = default;

// ---- listeners --------------------------------------------------------------

bool Stack::listen(uint16_t port, App& app) {
  if (port == 0 || listener_for(port) != nullptr) return false;
  for (auto& l : listeners_) {
    if (l.active || l.app != nullptr) continue;  // keep stopped slots: connections may point at them
    l.port = port;
    l.active = true;
    l.app = &app;
    l.index = static_cast<uint8_t>(&l - listeners_.data());
    l.app_idx = app_index(app);
    l.half_open = 0;
    l.aq_head = l.aq_len = 0;
    l.aq = std::make_unique<uint32_t[]>(std::max<uint32_t>(cfg_.accept_queue, 1));
    return true;
  }
  return false;
}

bool Stack::has_listener(uint16_t port) const {
  return std::any_of(listeners_.begin(), listeners_.end(),
                     [port](const Listener& l) { return l.active && l.port == port; });
}

void Stack::stop_listening() {
  for (auto& l : listeners_) l.active = false;
}

Stack::Listener* Stack::listener_for(uint16_t port) {
  for (auto& l : listeners_)
    if (l.active && l.port == port) return &l;
  return nullptr;
}

uint16_t Stack::app_index(App& app) {
  for (size_t i = 0; i < apps_.size(); ++i)
    if (apps_[i] == &app) return static_cast<uint16_t>(i);
  apps_.push_back(&app);
  return static_cast<uint16_t>(apps_.size() - 1);
}

StateGauges Stack::gauges() const {
  StateGauges g = gauges_;
  g.count[static_cast<int>(State::kListen)] = static_cast<uint32_t>(std::count_if(
      listeners_.begin(), listeners_.end(), [](const Listener& l) { return l.active; }));
  g.count[static_cast<int>(State::kTimeWait)] += tw_.size();
  return g;
}

// ---- connection slots ---------------------------------------------------------

ConnHot* Stack::alloc_conn(const FourTuple& t_in, uint64_t hash, State st, uint8_t listener, uint16_t app,
                           const wire::Ipv6Addr* remote6) {
  uint32_t i = conn_pool_.acquire();
  // Table full: the oldest orphan gives way, so a new connection finds room
  // while orphans exist (as Linux's tcp_out_of_resources kills orphans first).
  if (i == IndexPool::kNone && reclaim_slot()) i = conn_pool_.acquire();
  if (i == IndexPool::kNone) {
    ++ctr_.drop.conn_table_full;
    return nullptr;
  }
  FourTuple t = t_in;
  // RFC 9293 §3.7.1 default until negotiated (IPv6: 1220, RFC 8200 §8.3)
  uint16_t mss = wire::tcp_default_mss(wire::IpFamily::kV4);
  if (is_ipv6(t)) {
    mss = wire::tcp_default_mss(wire::IpFamily::kV6);  // the connection holds its peer's address (addr_table6.hpp)
    if (remote6 != nullptr) {
      t.remote_ip = addr6_.acquire(*remote6);
      hash = tw_.hash(t);
    } else {
      addr6_.retain(t.remote_ip);
    }
    if (t.remote_ip == AddrTable6::kNone) {
      ++ctr_.drop.addr6_full;
      conn_pool_.release(i);
      return nullptr;
    }
  }
#ifndef NDEBUG  // (slots_ready_ serves the checks only)
  if (i == slots_ready_) {  // first use of the slot: its zero bytes are a CLOSED record, gen 0
    assert(i < cfg_.max_conns);
    ++slots_ready_;
  }
  assert(i < slots_ready_);
#endif
  ConnHot& c = hot_[i];
  assert(i + 1 == slots_ready_ || c.ext == kNoExt);  // free_slot() gave its extension back
  // The record is reset before it is indexed: a slot refused below goes
  // back to the pool as a CLOSED record, its gen counted once more.
  const uint32_t gen = c.gen;
  reset_record(c);  // c = ConnHot{}: list links and extension kNone, state CLOSED
  c.gen = gen + 1;
  if (user_used_) user_[i] = 0;  // the application's word of the new use (Stack::user)
  c.tuple = t;  // the index reads the tuple from the slot
  if (!tw_.insert_conn(t, i, hash)) {
    release6(t);
    conn_pool_.release(i);
    return nullptr;
  }
  set_state(c, st);
  c.listener = listener;
  c.rto_ms = rto_initial_ms_;  // cfg_.rto_initial in ms, computed once (no division per connection)
  c.snd_mss = mss;
  c.ssthresh = UINT32_MAX;
  c.flags = cfg_.nagle ? cflag::kNagle : uint16_t{0};  // reset_record() left them 0
  c.app = app;
  return &c;
}

ConnHot* Stack::lookup(ConnId id) {
  if (id.idx >= cfg_.max_conns) return nullptr;
  ConnHot& c = hot_[id.idx];
  if (c.state == State::kClosed || c.gen != id.gen) return nullptr;
  return &c;
}

const ConnHot* Stack::lookup(ConnId id) const {
  return const_cast<Stack*>(this)->lookup(id);
}

App* Stack::app_of(const ConnHot& c) { return apps_[c.app]; }

std::optional<ConnId> Stack::find(const FourTuple& t) const {
  const uint32_t i = tw_.find_conn(t);
  if (i == TimeWaitTable::kNone || hot_[i].state == State::kClosed) return std::nullopt;
  return id_of(hot_[i]);
}

State Stack::state_of(const FourTuple& t) const {
  if (const auto id = find(t)) return hot_[id->idx].state;
  if (tw_.find(t) != TimeWaitTable::kNone) return State::kTimeWait;
  return has_listener(t.local_port) ? State::kListen : State::kClosed;
}

void Stack::finish(ConnHot& c, CloseReason why) {
  if (c.state == State::kClosed) return;
  const bool passive = c.listener != kNoListener;
  if (c.state == State::kSynRcvd && passive) --listeners_[c.listener].half_open;
  // Every connection counted in `established` ends in one est_ended_*
  // (reset: reset or refused; aborted: aborted, reclaimed, replaced, data
  // after close, shutdown; timeout: retries, persist, idle, keep-alive,
  // FIN_WAIT_2, CLOSE_WAIT): the conservation the overload test checks.
  if (c.state != State::kSynRcvd && c.state != State::kSynSent) {
    switch (why) {
      case CloseReason::kNormal: ++ctr_.est_ended_normal; break;
      case CloseReason::kReset:
      case CloseReason::kRefused: ++ctr_.est_ended_reset; break;
      case CloseReason::kAborted:
      case CloseReason::kDataAfterClose:
      case CloseReason::kShutdown:
      case CloseReason::kReclaimed:
      case CloseReason::kReplaced: ++ctr_.est_ended_aborted; break;
      default: ++ctr_.est_ended_timeout; break;
    }
  }
  switch (why) {
    case CloseReason::kNormal: ++ctr_.closed_normal; break;
    case CloseReason::kReset: ++ctr_.closed_reset; break;
    case CloseReason::kRefused: ++ctr_.closed_refused; break;
    case CloseReason::kAborted:
    case CloseReason::kDataAfterClose:
    case CloseReason::kShutdown:
    case CloseReason::kReclaimed:
    case CloseReason::kReplaced: ++ctr_.closed_aborted; break;
    case CloseReason::kTimeout:
    case CloseReason::kFinWait2Timeout:
    case CloseReason::kCloseWaitTimeout:
    case CloseReason::kPersistTimeout:
    case CloseReason::kIdleTimeout:
    case CloseReason::kKeepaliveTimeout: ++ctr_.closed_timeout; break;
  }
  unlist(c);
  set_state(c, State::kClosed);
  c.rtx_at = c.state_at = Deadline{};
  wheel_.cancel_rec(idx_of(c));
  if (app_timers_used_) wheel_.cancel(app_timer_id(idx_of(c)));
  reap_.push(idx_of(c));
  deferred_ = true;
  // The application learns of every connection it was told about: accepted
  // passive ones and all active ones.
  if ((c.flags & cflag::kAccepted) || !passive) {
    App* const a = app_of(c);
    if (!(a->quiet() & App::kQuietClosed)) a->on_closed(*this, id_of(c), why);
  }
}

void Stack::reap() {
  for (uint32_t i : reap_) free_slot(i);
  reap_.clear();
}

void Stack::free_slot(uint32_t i) {
  ConnHot& c = hot_[i];
  tw_.erase_conn(c.tuple, i);
  release6(c.tuple);
  // Every slot freed here was finished first: finish() cancelled both
  // timers, and set_timer() refuses a CLOSED connection, so the
  // application's stays unarmed. The record's is looked at again.
  wheel_.cancel_rec(i);
  assert(!wheel_.armed(app_timer_id(i)));
  give_back_ext(c);
  conn_pool_.release(i);
}

void Stack::flush_pending_output() {
  for (uint32_t k = 0; k < pending_out_.size(); ++k) {  // output() may not add more, but be safe
    ConnHot& c = hot_[pending_out_[k]];
    if (!(c.flags & cflag::kOutputPending)) continue;
    c.flags &= static_cast<uint16_t>(~cflag::kOutputPending);
    if (c.state != State::kClosed) output(c, now_);
  }
  pending_out_.clear();
}

void Stack::drain_accept_queues() {
  if (queued_accepts_ == 0) return;
  const uint32_t cap = std::max<uint32_t>(cfg_.accept_queue, 1);
  for (auto& l : listeners_) {
    while (l.aq_len > 0 && l.app != nullptr && app_accepting(*l.app)) {
      const uint32_t i = l.aq[l.aq_head];
      l.aq_head = (l.aq_head + 1) % cap;
      --l.aq_len;
      --queued_accepts_;
      ConnHot& c = hot_[i];
      if (c.state == State::kClosed || !(c.flags & cflag::kInAcceptQueue)) continue;
      c.flags = static_cast<uint16_t>((c.flags & ~cflag::kInAcceptQueue) | cflag::kAccepted);
      l.app->on_open(*this, id_of(c));
    }
  }
}

// ---- the data path ------------------------------------------------------------

void Stack::segment_in(const SegmentIn& seg, Instant now) {
  Entry entry(*this, now);
  ++ctr_.rx_segments;
  if (seg.tuple.local_ip == seg.tuple.remote_ip) {  // land attack: never answered
    ++ctr_.drop.land;
    return;
  }
  // One probe for both tables (time_wait_table.hpp): a connection, a
  // TIME_WAIT entry, or neither.
  const uint64_t h = tw_.hash(seg.tuple);
  const TimeWaitTable::Flow flow = tw_.find_flow(seg.tuple, h);
  if (flow.conn && hot_[flow.pos].state != State::kClosed) {
    ConnHot& c = hot_[flow.pos];
    // Marks for the idle / keep-alive tick (stack_reclaim.cpp): heard from,
    // and data moved (payload, or an ACK other than the one we hold).
    c.xflags |= static_cast<uint8_t>(
        xflag::kHeard | ((!seg.payload.empty() || seg.ack != c.snd_una) ? xflag::kActive : 0));
    if ((c.flags & cflag::kOrphan) && (seg.flags & (flag::kSyn | flag::kAck | flag::kRst | flag::kFin)) == flag::kSyn &&
        replace_orphan(c, seg, now))
      return;
    // output_soon() for this connection needs no place on pending_out_:
    // the output() below is the one it asks for.
    const ConnHot* const outer = segment_conn_;
    segment_conn_ = &c;
    TimerHold hold(*this, c);  // c's timer is armed once, when this segment is done (stack_timers.cpp)
    if (cfg_.header_prediction && input_predicted(c, seg, now)) {
      // done: the fast path (stack_predict.cpp)
    } else if (c.state == State::kSynSent) {
      input_syn_sent(c, seg, now);
    } else {
      input_sync(c, seg, now);
    }
    segment_conn_ = outer;
    if (c.state != State::kClosed) {
      // This output() is the one a send() or close() from a callback asked
      // for (output_soon): the segment is processed, RCV.NXT is final.
      c.flags &= static_cast<uint16_t>(~cflag::kOutputPending);
      output(c, now);
      if (!hold.holds) watch_ext(c);  // else the hold's end looks (settle_ext)
    }
    return;
  }
  seg_hash_ = h;  // for a new connection's insert (alloc_conn)
  // (A connection slot still CLOSED in its last entry point may stand before
  // the TIME_WAIT entry it left: then look for that one.)
  const TimeWaitTable::Ref tw = !flow.found() ? TimeWaitTable::kNone : !flow.conn ? flow.pos : tw_.find(seg.tuple);
  if (tw != TimeWaitTable::kNone) {
    input_time_wait(tw, seg, now);
    return;
  }
  if (Listener* l = listener_for(seg.tuple.local_port)) {
    input_listen(*l, seg, now);
    return;
  }
  if (!seg.has(flag::kRst)) ++ctr_.drop.no_listener;
  reply_rst(seg);
}

void Stack::on_segment(const SegmentIn& seg, Instant now) {
  if (seg.v6()) [[unlikely]] {
    on_segment6(seg, now);
    return;
  }
  if (is_ipv6(seg.tuple)) [[unlikely]] {  // IPv4 to 240.0.0.0/4 (RFC 1112 §4: reserved; never ours)
    ++ctr_.rx_segments;
    ++ctr_.drop.class_e;
    return;
  }
  segment_in(seg, now);
}

void Stack::on_segment6(const SegmentIn& seg, Instant now) {
  SegmentIn s = seg;  // IPv6: the tuple's address fields come from the tables
  if (!map_in6(s)) {
    ++ctr_.rx_segments;
    return;
  }
  segment_in(s, now);
}

// ---- application calls ----------------------------------------------------------

ConnId Stack::connect(const FourTuple& t, App& app, Instant now) {
  Entry entry(*this, now);
  if (is_ipv6(t)) return ConnId{};  // 240.0.0.0/4 is reserved (and tags IPv6 tuples): connect6()
  const uint64_t h = tw_.hash(t);
  if (tw_.find_flow(t, h).found()) return ConnId{};  // a connection (even one closing now) or TIME_WAIT
  ConnHot* c = alloc_conn(t, h, State::kSynSent, kNoListener, app_index(app));
  if (c == nullptr) return ConnId{};
  return active_open(*c, now);
}

// IPv6 (stack_ipv6.cpp has the rest; here for the entry guard).
ConnId Stack::connect6(uint32_t local_tag, uint16_t local_port, const wire::Ipv6Addr& remote, uint16_t remote_port,
                       App& app, Instant now) {
  if (!is_ipv6(FourTuple{local_tag, 0, 0, 0}) || (local_tag & ~kLocal6Tag) >= local6_.size() ||
      remote.is_unspecified() || remote.is_multicast() || remote == local6_[local_tag & ~kLocal6Tag])
    return ConnId{};
  Entry entry(*this, now);
  const FourTuple t = tuple6(local_tag, local_port, remote, remote_port);
  const uint64_t h = tw_.hash(t);
  if (tw_.find_flow(t, h).found()) return ConnId{};  // a connection (even one closing now) or TIME_WAIT
  ConnHot* c = alloc_conn(t, h, State::kSynSent, kNoListener, app_index(app), &remote);
  if (c == nullptr) return ConnId{};
  return active_open(*c, now);
}

ConnId Stack::active_open(ConnHot& c, Instant now) {
  ++ctr_.active_opens;
  c.snd_una = isn_for(c.tuple, now);  // the ISS
  send_syn(c, false, now);
  start_rtx(c, now);
  return id_of(c);
}

uint32_t Stack::send(ConnId id, std::span<const uint8_t> data) { return queue_send(id, data, false); }

uint32_t Stack::send_ref(ConnId id, std::span<const uint8_t> data) { return queue_send(id, data, true); }

uint32_t Stack::send_all(ConnId id, std::span<const uint8_t> data) { return queue_send(id, data, false, true); }

uint32_t Stack::queue_send(ConnId id, std::span<const uint8_t> data, bool by_ref, bool all) {
  Entry entry(*this, now_);
  ConnHot* c = lookup(id);
  if (c == nullptr || (c->flags & cflag::kFinQueued)) return 0;
  switch (c->state) {
    case State::kSynSent:
    case State::kSynRcvd:
    case State::kEstablished:
    case State::kCloseWait: break;
    default: return 0;
  }
  // send_all: what send_space() says decides (taking an extension changes
  // none of what send_cap() reads).
  const uint32_t cap_before = all ? send_cap(*c) : 0;
  if (all && cap_before < data.size()) return 0;
  ConnExt* x = data.empty() ? ext(*c) : take_ext(*c);
  if (x == nullptr) {  // nothing to queue, or no extension (counted: drop_ext_pool_empty)
    if (data.empty() && c->state >= State::kEstablished) output_soon(*c);
    return 0;
  }
  SendQueue& q = x->sendq;
  const uint32_t cap = all ? cap_before : send_cap(*c);  // fair pool (stack_reclaim.cpp)
  const uint32_t room = cfg_.send_buf - std::min(cfg_.send_buf, q.size());
  const uint32_t max = q.size() + cap;
  const uint32_t n = by_ref ? q.append_ref(chunks_, data, max) : q.append(chunks_, data, max);
  if (n < data.size()) {
    if (chunks_.available() == 0)
      ++ctr_.drop.send_pool_empty;
    else if (cap < room)
      ++ctr_.drop.send_pool_pressure;
  }
  if (c->state >= State::kEstablished) output_soon(*c);
  return n;
}

bool Stack::shutdown(ConnId id) {
  Entry entry(*this, now_);
  ConnHot* c = lookup(id);
  if (c == nullptr) return false;
  return shutdown_conn(c);
}

bool Stack::shutdown_conn(ConnHot* c) {
  if (c->flags & cflag::kFinQueued) return true;
  switch (c->state) {
    case State::kSynSent:  // RFC 9293 §3.10.4: delete the TCB
      finish(*c, CloseReason::kAborted);
      return true;
    case State::kSynRcvd:  // simultaneous open: FIN_WAIT_1 once our SYN is acknowledged
      c->flags |= cflag::kFinQueued;
      return true;
    case State::kEstablished: set_state(*c, State::kFinWait1); break;
    case State::kCloseWait:
      set_state(*c, State::kLastAck);
      c->state_at = Deadline{};
      break;
    default: return false;
  }
  c->flags |= cflag::kFinQueued;
  output_soon(*c);
  arm_timer(*c);
  return true;
}

bool Stack::close(ConnId id) {
  Entry entry(*this, now_);
  ConnHot* c = lookup(id);
  if (c == nullptr) return false;
  if (!(c->flags & cflag::kOrphan)) become_orphan(*c);
  watch_ext(*c);
  discard_unread(*c);
  if (c->state == State::kFinWait2 && cfg_.fin_wait2_timeout.count_ns() > 0) {
    c->state_at = deadline_in(now_, cfg_.fin_wait2_timeout);
    arm_timer(*c);
  }
  if (c->state == State::kClosed) return false;  // discard_unread reset it (as shutdown(id) would find)
  return shutdown_conn(c);
}

bool Stack::abort(ConnId id) {
  Entry entry(*this, now_);
  ConnHot* c = lookup(id);
  if (c == nullptr) return false;
  if (c->state != State::kSynSent) send_rst(*c, now_);
  finish(*c, CloseReason::kAborted);
  return true;
}

void Stack::abort_all(Instant now) {
  Entry entry(*this, now);
  for (uint32_t i = 0; i < conn_pool_.high_water(); ++i) {
    ConnHot& c = hot_[i];
    if (c.state == State::kClosed) continue;
    if (c.state != State::kSynSent) send_rst(c, now);
    finish(c, CloseReason::kShutdown);
  }
}

void Stack::close_all(Instant now) {
  Entry entry(*this, now);
  for (uint32_t i = 0; i < conn_pool_.high_water(); ++i) {
    ConnHot& c = hot_[i];
    if (c.state == State::kEstablished || c.state == State::kCloseWait ||
        c.state == State::kSynRcvd)
      close(id_of(c));
  }
}

uint32_t Stack::send_space(ConnId id) const {
  const ConnHot* c = lookup(id);
  if (c == nullptr || (c->flags & cflag::kFinQueued)) return 0;
  return send_cap(*c);
}

bool Stack::alive(ConnId id) const { return lookup(id) != nullptr; }

std::optional<ConnInfo> Stack::info(ConnId id) const {
  const ConnHot* c = lookup(id);
  if (c == nullptr) return std::nullopt;
  const ConnExt* x = ext(*c);
  return ConnInfo{c->tuple, c->state, c->snd_una, c->snd_nxt, c->rcv_nxt, c->snd_wnd,
                  x ? x->sendq.size() : 0, c->rto_ms, c->retries, instant_of(c->rtx_at), instant_of(c->state_at),
                  c->cwnd, c->ssthresh, x ? x->rcvq.chunks() * chunks_.chunk_size() : 0,
                  (c->flags & cflag::kRecovery) != 0};
}

void Stack::resume_receive(ConnId id) {
  Entry entry(*this, now_);
  ConnHot* c = lookup(id);
  // (From inside this connection's on_data the bytes are being offered already.)
  if (c == nullptr || !(c->flags & cflag::kAccepted) || delivering_ == c) return;
  watch_ext(*c);
  deliver(*c);
  if (c->state == State::kClosed) return;
  try_fin(*c, now_);
  if (c->state == State::kClosed) return;
  check_window_update(*c);
  output_soon(*c);
}

bool Stack::set_nodelay(ConnId id, bool on) {
  ConnHot* c = lookup(id);
  if (c == nullptr) return false;
  if (on)
    c->flags &= static_cast<uint16_t>(~cflag::kNagle);
  else
    c->flags |= cflag::kNagle;
  return true;
}

void Stack::advance(Instant now) {
  Entry entry(*this, now);
  wheel_.advance(now, [&](uint32_t id) { on_wheel(id, now); });
  tw_.expire(now, [&](const TimeWaitEntry& e) { release6(e.tuple); });
  cookies_.advance(now);
}

}  // namespace synmill::tcp
