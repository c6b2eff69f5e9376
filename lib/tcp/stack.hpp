#pragma once
// One core's TCP endpoint: connection table, TIME_WAIT table, listeners,
// timers, SYN cookies and counters. Single-threaded; the caller passes `now`
// to every entry point and drains emitted segments through its TxSink.
//
// Segment arrival follows RFC 9293 §3.10.7 in its order; the per-state rules
// live in stack_input.cpp, output in stack_output.cpp, listener and cookie
// handling in stack_listen.cpp, TIME_WAIT in stack_time_wait.cpp, timers in
// stack_timers.cpp.
#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "tcp/app.hpp"
#include "tcp/chunk_pool.hpp"
#include "tcp/config.hpp"
#include "tcp/conn.hpp"
#include "tcp/counters.hpp"
#include "tcp/index_pool.hpp"
#include "tcp/isn.hpp"
#include "tcp/segment.hpp"
#include "tcp/siphash.hpp"
#include "tcp/slot_stack.hpp"
#include "tcp/syn_cookie.hpp"
#include "tcp/time_wait_table.hpp"
#include "tcp/timer_wheel.hpp"
#include "tcp/addr_table6.hpp"

namespace synmill::tcp {

// Secrets the caller draws from a real random source at start-up.
struct StackSecrets {
  SipKey isn_key{};
  SipKey cookie_key{};
  uint64_t table_seed = 0;
  uint32_t ts_offset = 0;  // added to our TSval clock so it does not reveal uptime
};

struct ConnInfo {
  FourTuple tuple;
  State state = State::kClosed;
  Seq snd_una, snd_nxt, rcv_nxt;
  uint32_t snd_wnd = 0;
  uint32_t send_queued = 0;
  uint32_t rto_ms = 0;
  uint8_t retries = 0;
  Instant rtx_at, state_at;
  uint32_t cwnd = 0, ssthresh = 0;
  uint32_t rcv_queued = 0;  // received bytes the application has not taken (in order + out of order chunks)
  bool in_recovery = false;
};

class Stack {
 public:
  Stack(const StackConfig& cfg, const StackSecrets& secrets, TxSink& tx, Instant start);
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  ~Stack();

  // ---- set-up --------------------------------------------------------------
  // Registers a listener on `port` served by `app`. False if the port is taken
  // or the listener table is full.
  bool listen(uint16_t port, App& app);
  bool has_listener(uint16_t port) const;
  // Stops taking new connections on every listener (SIGTERM path).
  void stop_listening();

  // ---- the data path -------------------------------------------------------
  void on_segment(const SegmentIn& seg, Instant now);
  // Advances timers (retransmission, reclaim, TIME_WAIT, cookie secrets).
  void advance(Instant now);

  // ---- application calls ---------------------------------------------------
  // Active open (RFC 9293 §3.10.1). Invalid id if the tuple is in use, the
  // table is full, or t.local_ip is in 240.0.0.0/4 (reserved; IPv6: connect6()).
  ConnId connect(const FourTuple& t, App& app, Instant now);
  // Queues bytes; returns how many were taken (less than asked when the
  // per-connection cap or the pool is reached; on_writable follows).
  uint32_t send(ConnId id, std::span<const uint8_t> data);
  // Zero-copy send: as send(), but whole chunks of `data` are queued by
  // reference (SendQueue::append_ref: at most two chunks' worth is copied)
  // and read from `data` each time a segment, or its retransmission, is
  // built. `data` must stay valid and unchanged until the connection's
  // on_closed (a static or preformatted buffer).
  uint32_t send_ref(ConnId id, std::span<const uint8_t> data);
  // All or nothing: queues the whole of `data` when send_space() allows it
  // (returns data.size()), else nothing (returns 0, no drop counted). One
  // look-up where send_space() then send() take two.
  uint32_t send_all(ConnId id, std::span<const uint8_t> data);
  // Full close: FIN after queued data; later data from the peer gets RST
  // (RFC 1122 §4.2.2.13).
  bool close(ConnId id);
  // Half close: FIN after queued data, keep receiving.
  bool shutdown(ConnId id);
  // RST now, connection gone (RFC 9293 §3.10.5).
  bool abort(ConnId id);
  // Bytes send() would take now.
  uint32_t send_space(ConnId id) const;
  // The application can take data again (after on_data took less than it was
  // offered, or rcv_space() grew): bytes the stack holds are offered through
  // on_data now, a FIN behind them is delivered, and the opened window is
  // announced (RFC 9293 §3.8.6.2.2). The stack also retries on its own when a
  // segment arrives for the connection and after on_writable.
  void resume_receive(ConnId id);
  // Nagle's algorithm (RFC 1122 §4.2.3.4) off (true, the default unless
  // StackConfig::nagle) or on (false) for one connection.
  bool set_nodelay(ConnId id, bool on);
  // The application's word for the connection, 0 when it opens. Kept beside
  // the record (user_, below), not in it: an application that never calls
  // this touches none of it.
  uint64_t& user(ConnId id) {
    user_used_ = true;
    return user_[id.idx];
  }

  // ---- application timers, on this stack's wheel and clock -------------------
  // No clock is read: `after` counts from the time of the current entry point
  // (or the last one, outside of a callback), and the timer fires from
  // advance() at most one wheel tick late, never early.
  static constexpr uint32_t kWorkerTimers = 64;
  // One timer per connection: arming again moves it; App::on_timer follows
  // unless the application closed the connection fully (close(), abort()) or
  // it left the table first. False for a stale or closed id.
  bool set_timer(ConnId id, Duration after);
  void cancel_timer(ConnId id);
  // Timer `timer` < kWorkerTimers of this stack, owned by `app` until it
  // fires or is cancelled: App::on_worker_timer(timer). False if out of range.
  bool set_worker_timer(uint32_t timer, Duration after, App& app);
  void cancel_worker_timer(uint32_t timer);
  // The time of the current (or last) entry point.
  Instant now() const { return now_; }
  bool alive(ConnId id) const;
  std::optional<ConnInfo> info(ConnId id) const;
  // Closes everything: FIN to established connections was the caller's job;
  // this sends RST to whatever is left and frees every slot.
  void abort_all(Instant now);
  // Graceful shutdown: close() every connection the application holds.
  void close_all(Instant now);

  // ---- observation ---------------------------------------------------------
  const Counters& counters() const { return ctr_; }
  // Per-state counts on this core; LISTEN counts listeners, TIME_WAIT the
  // compact table's entries.
  StateGauges gauges() const;
  uint32_t time_wait_count() const { return tw_.size(); }

  // Prefetching across a burst of segments, before they are handed in one by
  // one (issue 12; the poll loop's two passes, Worker::prefetch_flows):
  // prefetch_flow starts the load of the index slot a lookup of `t` reads
  // first and returns its position; prefetch_record then starts the load of
  // what that slot names (a connection's record, a TIME_WAIT entry). Neither
  // changes anything. IPv4 tuples: an IPv6 tuple's addresses are indexes
  // the segment's own lookup finds. Worth it only when the tables outgrow
  // the caches: tables_large() (kPrefetchFrom connections and TIME_WAIT
  // entries: 16K records of 120 bytes are 1.9 MiB, about an L2's size).
  static constexpr uint32_t kPrefetchFrom = 16384;
  uint32_t prefetch_flow(const FourTuple& t) const { return tw_.prefetch_home(t); }
  void prefetch_record(uint32_t home) const { tw_.prefetch_entry(home); }
  bool tables_large() const { return conn_pool_.in_use() + tw_.size() >= kPrefetchFrom; }
  uint32_t conn_count() const { return conn_pool_.in_use(); }
  uint32_t chunks_in_use() const { return chunks_.in_use(); }
  // Connection extensions (conn.hpp ConnExt) held now, and the pool's size.
  uint32_t exts_in_use() const { return ext_pool_.in_use(); }
  uint32_t max_exts() const { return ext_pool_.capacity(); }
  uint32_t timers_armed() const { return wheel_.armed_count(); }
  // What one connection slot costs (issue 12's bytes per idle connection,
  // before the send pool): every array reserved per slot, whether or not
  // a slot uses it: the record (its timer inside), its share of the
  // connection / TIME_WAIT index, the slot pool's free stack and in-use bit,
  // the node of its application timer (Stack::set_timer; backed only where
  // an application arms one) and the application's word (user(); backed
  // only where an application writes one).
  double bytes_per_conn_slot() const {
    return static_cast<double>(sizeof(ConnHot)) + bytes_per_conn_slot_beside();
  }
  // The same, less the record.
  double bytes_per_conn_slot_beside() const {
    if (cfg_.max_conns == 0) return 0.0;
    return static_cast<double>(tw_.conn_index_bytes()) / cfg_.max_conns + conn_pool_.bytes_per_slot() +
           static_cast<double>(TimerWheel::kOwnNodeBytes) + static_cast<double>(sizeof(uint64_t));
  }
  // Connections the application closed that are not finished yet (bounded by
  // StackConfig::max_orphans), and live connections squatting a tiny window.
  uint32_t orphan_count() const { return orphans_.size; }
  uint32_t squatter_count() const { return squatters_.size; }
  uint32_t max_orphans() const { return max_orphans_; }
  // Free chunks at or below the reserve: no connection grows beyond its minimum.
  bool pool_pressure() const { return chunks_.available() <= reserve_; }
  const StackConfig& config() const { return cfg_; }
  // The caller's overload signal (its RX ring backs up, see dp/load_shed.hpp):
  // while on, a SYN gets a cookie SYN-ACK and no backlog entry (unless
  // cookies are off), so a flood past capacity costs no state.
  void set_overloaded(bool on) {
    overloaded_ = on;
    cookies_first_ = cfg_.cookies == CookieMode::kAlways || (on && cfg_.cookies != CookieMode::kOff);
  }
  bool overloaded() const { return overloaded_; }
  // Visits every connection (for /synmill/conns), up to `limit`.
  template <class F>
  void for_each_conn(uint32_t limit, F&& f) const;
  // The same for up to `limit` TIME_WAIT entries (state kTimeWait, state_at =
  // when the entry expires).
  template <class F>
  void for_each_time_wait(uint32_t limit, F&& f) const;
  std::optional<ConnId> find(const FourTuple& t) const;

  // ---- IPv6 (issue 15, stack_ipv6.cpp) ---------------------------------------
  // A FourTuple of an IPv6 connection holds table indexes (addr_table6.hpp).
  // add_local6() registers one of our addresses and returns the local_ip its
  // tuples carry (kLocal6Tag | index); the same address again returns the
  // same value. Segments to an address not registered are dropped
  // (drop_not_local6). At most kMaxLocal6 addresses.
  static constexpr uint32_t kMaxLocal6 = 64;
  std::optional<uint32_t> add_local6(const wire::Ipv6Addr& a);
  // The local_ip of a registered address, if it is one; and back.
  std::optional<uint32_t> local6_tag(const wire::Ipv6Addr& a) const;
  const wire::Ipv6Addr* local6_addr(uint32_t local_tag) const {
    const uint32_t i = local_tag & ~kLocal6Tag;
    return is_ipv6(FourTuple{local_tag, 0, 0, 0}) && i < local6_.size() ? &local6_[i] : nullptr;
  }
  // The addresses of an IPv6 tuple that a connection or TIME_WAIT entry
  // holds (valid while it does); {null, null} for an IPv4 tuple.
  Addrs6 addrs6(const FourTuple& t) const;
  // IPv6 tuple for a lookup (find, state_of) or an active open: local from
  // add_local6(), the remote address's index, or kNoRemote6 when no
  // connection holds that address.
  FourTuple tuple6(uint32_t local_tag, uint16_t local_port, const wire::Ipv6Addr& remote,
                   uint16_t remote_port) const;
  // Active open to an IPv6 peer (connect() for IPv6): local_tag from
  // add_local6().
  ConnId connect6(uint32_t local_tag, uint16_t local_port, const wire::Ipv6Addr& remote, uint16_t remote_port,
                  App& app, Instant now);
  uint32_t remote6_entries() const { return addr6_.size(); }  // gauge: distinct IPv6 peers held
  // The state a segment for `t` would meet: a connection's, TIME_WAIT from the
  // compact table, LISTEN if a listener owns the local port, else CLOSED.
  State state_of(const FourTuple& t) const;


 private:
  friend struct StackTestAccess;
  struct Listener {
    uint16_t port = 0;
    bool active = false;
    uint8_t index = 0;     // its place in listeners_ (ConnHot::listener)
    uint16_t app_idx = 0;  // app_index(*app), found once by listen()
    App* app = nullptr;
    uint32_t half_open = 0;
    uint32_t aq_head = 0, aq_len = 0;  // ring of accept-queue slot indices
    std::unique_ptr<uint32_t[]> aq;
  };
  static constexpr uint8_t kNoListener = UINT8_MAX;  // ConnHot::listener of an active open
  static constexpr uint32_t kMaxListeners = 64;

  // entry guard: connections freed during an entry point are reaped at its end
  struct Entry;

  // stack.cpp
  // remote6: the peer's IPv6 address when t is an IPv6 tuple from a segment
  // (t.remote_ip may be kNoRemote6); null: t's remote index is held already.
  // app: app_index() of its App; hash: tw_.hash(t).
  ConnHot* alloc_conn(const FourTuple& t, uint64_t hash, State st, uint8_t listener, uint16_t app,
                      const wire::Ipv6Addr* remote6 = nullptr);
  uint16_t app_index(App& app);
  void set_state(ConnHot& c, State s) {
    gauges_.move(c.state, s);
    if (c.state == State::kEstablished) c.state_at = Deadline{};  // the idle / keep-alive tick ends
    c.state = s;
  }
  void finish(ConnHot& c, CloseReason why);  // -> CLOSED, on_closed, reap later
  void reap();
  void free_slot(uint32_t i);  // table entry, timer, chunks, slot
  uint32_t idx_of(const ConnHot& c) const { return static_cast<uint32_t>(&c - hot_.get()); }

  // stack_ext.cpp: the data-transfer extension (conn.hpp ConnExt). ext()
  // is the one held, or nullptr: then the send queue, the receive buffer
  // and the SACK scoreboard are empty, nothing is in recovery and no delayed
  // ACK is due. take_ext() gives the one held or takes one from the pool;
  // nullptr (counted as drop_ext_pool_empty) when the pool is empty, and the
  // caller refuses what needed it. An extension goes back to the pool when
  // an entry point ends and the connection is idle again (ext_idle()).
  ConnExt* ext(const ConnHot& c) const {
    return c.ext == kNoExt ? nullptr : &ext_[c.ext];
  }
  ConnExt& held_ext(const ConnHot& c) const {  // where the connection's state says it holds one
    assert(c.ext != kNoExt);
    return ext_[c.ext];
  }
  ConnExt* take_ext(ConnHot& c);
  bool ext_idle(const ConnHot& c, const ConnExt& x) const;
  void give_back_ext(ConnHot& c);   // returns it to the pool (its buffers must be empty or are freed)
  void check_exts();                // Entry end: idle connections give theirs back
  void watch_ext(ConnHot& c) {
    if (c.ext != kNoExt && !(c.xflags & xflag::kExtCheck) && !ext_settled_at_hold_end(c)) {
      c.xflags |= xflag::kExtCheck;
      ext_check_.push(idx_of(c));
      deferred_ = true;
    }
  }
  // The connection a TimerHold holds in an outermost entry point (a segment
  // for it, its timer) has its extension looked at when the hold ends
  // (settle_ext), right after its own work and output: it goes on no list.
  bool ext_settled_at_hold_end(const ConnHot& c) const { return &c == timer_held_ && hold_outermost_; }
  // At the hold's end: gives the extension back if the connection is idle
  // (as check_exts would), or, nested inside another entry point, leaves it
  // to the outermost one's end.
  void settle_ext(ConnHot& c, bool outermost);
  // Read-only views that need no extension.
  uint32_t sendq_size(const ConnHot& c) const {
    const ConnExt* x = ext(c);
    return x ? x->sendq.size() : 0;
  }
  const SendQueue& sendq_of(const ConnHot& c) const {
    const ConnExt* x = ext(c);
    return x ? x->sendq : empty_sendq_;
  }
  uint32_t rcv_held(const ConnHot& c) const {  // in-order bytes the application has not taken
    const ConnExt* x = ext(c);
    return x ? x->rcvq.in_order(c.rcv_nxt) : 0;
  }
  bool rcv_has_fin(const ConnHot& c) const {
    const ConnExt* x = ext(c);
    return x && x->rcvq.has_fin();
  }
  ConnId id_of(const ConnHot& c) const { return ConnId{idx_of(c), c.gen}; }
  ConnHot* lookup(ConnId id);
  const ConnHot* lookup(ConnId id) const;
  App* app_of(const ConnHot& c);
  // App::accepting(), not asked of an application that is always accepting (App::quiet).
  static bool app_accepting(const App& a) { return (a.quiet() & App::kAlwaysAccepting) || a.accepting(); }
  [[gnu::always_inline]] inline void established(ConnHot& c, Instant now);
  void drain_accept_queues();
  // send/close from inside a callback: transmit once the segment being
  // processed has advanced RCV.NXT, so the data carries the right ACK.
  void output_soon(ConnHot& c) {
    if (depth_ <= 1) {  // called from outside: nothing is being processed
      output(c, now_);
      return;
    }
    if (c.flags & cflag::kOutputPending) return;
    c.flags |= cflag::kOutputPending;
    // The connection whose segment is being processed: segment_in() calls
    // output() when the segment is done (or the connection is closed, with
    // nothing left to send).
    if (&c != segment_conn_) {
      pending_out_.push(idx_of(c));
      deferred_ = true;
    }
  }
  bool shutdown_conn(ConnHot* c);  // shutdown() once the handle is looked up
  uint32_t queue_send(ConnId id, std::span<const uint8_t> data, bool by_ref, bool all = false);  // send / send_ref / send_all
  void flush_pending_output();
  Listener* listener_for(uint16_t port);

  // stack_input.cpp: RFC 9293 §3.10.7.3 and §3.10.7.4 (always_inline: stack_steps.hpp)
  void input_syn_sent(ConnHot& c, const SegmentIn& seg, Instant now);
  void input_sync(ConnHot& c, const SegmentIn& seg, Instant now);
  // stack_predict.cpp: the fast paths (header prediction), by state
  [[gnu::always_inline]] bool input_predicted(ConnHot& c, const SegmentIn& seg, Instant now) {
    if (c.state == State::kEstablished) return predict_established(c, seg, now);
    if (c.state == State::kSynRcvd) return predict_handshake(c, seg, now);
    if (c.state == State::kLastAck) return predict_last_ack(c, seg, now);
    return false;
  }
  [[gnu::noinline]] bool predict_established(ConnHot& c, const SegmentIn& seg, Instant now);
  [[gnu::noinline]] bool predict_handshake(ConnHot& c, const SegmentIn& seg, Instant now);
  [[gnu::noinline]] bool predict_last_ack(ConnHot& c, const SegmentIn& seg, Instant now);
  [[gnu::always_inline]] inline void predicted_text(ConnHot& c, const SegmentIn& seg, Instant now, bool changed);
  [[gnu::always_inline]] inline bool complete_handshake(ConnHot& c, const SegmentIn& seg, Instant now);  // SYN_RCVD -> ESTABLISHED
  [[gnu::always_inline]] inline uint32_t ack_new_data(ConnHot& c, Seq ack, Instant now);
  [[gnu::always_inline]] inline bool after_data_acked(ConnHot& c);
  bool acceptable(const ConnHot& c, const SegmentIn& seg) const;
  bool input_rst(ConnHot& c, const SegmentIn& seg, Instant now);
  bool input_ack(ConnHot& c, const SegmentIn& seg, Instant now);
  void input_text_fin(ConnHot& c, const SegmentIn& seg, Instant now);

  // stack_receive.cpp: receive buffer, out-of-order queue, delayed ACK, FIN (always_inline: stack_steps.hpp)
  RecvBuffer::Slots rcv_slots(const ConnHot& c) const {  // c holds an extension
    return RecvBuffer::Slots{rcv_slots_.get() + static_cast<size_t>(c.ext) * rcv_nslots_, rcv_nslots_};
  }
  [[gnu::always_inline]] inline void receive_data(ConnHot& c, Seq start, std::span<const uint8_t> data, Instant now);
  void deliver(ConnHot& c);                 // buffered in-order bytes to on_data
  [[gnu::always_inline]] inline void try_fin(ConnHot& c, Instant now);    // the peer's FIN once every byte before it was taken
  [[gnu::always_inline]] inline void accept_fin(ConnHot& c, Instant now);
  [[gnu::always_inline]] inline void ack_soon(ConnHot& c, Instant now);   // RFC 1122 §4.2.3.2 delayed ACK
  [[gnu::always_inline]] inline void check_window_update(ConnHot& c);
  void discard_unread(ConnHot& c);

  // stack_recovery.cpp: RFC 5681 §3.2, RFC 6582 NewReno, RFC 6675 SACK recovery
  bool is_dup_ack(const ConnHot& c, const SegmentIn& seg, bool sack_news) const;
  void on_dup_ack(ConnHot& c, Instant now);
  void enter_recovery(ConnHot& c, Instant now);
  void on_ack_in_recovery(ConnHot& c, uint32_t acked, Instant now);
  void sack_retransmit(ConnHot& c, Instant now);
  void rescue_retransmit(ConnHot& c, Instant now);
  uint32_t sack_pipe(ConnHot& c);  // RFC 6675 SetPipe(), in data octets
  uint32_t send_range(ConnHot& c, Seq left, uint32_t len, Instant now);
  void challenge_ack(ConnHot& c, Instant now);
  void negotiate(ConnHot& c, const wire::TcpOptions& syn_opts);

  // stack_output.cpp
  [[gnu::noinline]] void output(ConnHot& c, Instant now);  // data/FIN the windows allow, then an owed ACK
  [[gnu::noinline]] void output_now(ConnHot& c, Instant now);  // output() once it may have something to send
  void send_syn(ConnHot& c, bool with_ack, Instant now);
  void send_ack(ConnHot& c, Instant now);
  void send_rst(ConnHot& c, Instant now);
  void reply_rst(const SegmentIn& seg);        // RFC 9293 §3.10.7.1 for segments with no connection
  void fill_common(const ConnHot& c, SegmentOut& out, Instant now) const;
  // Inline: its callers build `out` on their stack, and a call here would
  // cost more than the counters and the family test it holds.
  [[gnu::always_inline]] void emit(const SegmentOut& out) {
    ++ctr_.tx_segments;
    if (out.flags & flag::kRst) ++ctr_.rst_out;
    if (is_ipv6(out.tuple) && out.local6 == nullptr) [[unlikely]] {
      emit6(out);
      return;
    }
    tx_.emit(out);
  }
  // stack_ipv6.cpp
  // on_segment() once the tuple is mapped; inlined into on_segment() (the
  // IPv4 path: no extra call) and into on_segment6().
  [[gnu::always_inline]] inline void segment_in(const SegmentIn& seg, Instant now);
  [[gnu::noinline]] void on_segment6(const SegmentIn& seg, Instant now);
  bool map_in6(SegmentIn& s);                           // IPv6 addresses -> tuple indexes
  [[gnu::noinline]] void emit6(const SegmentOut& out);                    // emit() for an IPv6 tuple: addresses resolved
  void release6(const FourTuple& t) {                   // a connection or TIME_WAIT entry lets go
    if (is_ipv6(t)) addr6_.release(t.remote_ip);
  }
  static Addrs6 seg_addrs6(const SegmentIn& s) { return Addrs6{s.local6, s.remote6}; }
  Seq isn_for(const FourTuple& t, Instant now) const;   // RFC 6528 over the real addresses
  uint16_t our_mss(const FourTuple& t) const {          // MTU - 40 (IPv4), MTU - 60 (IPv6)
    return is_ipv6(t) ? static_cast<uint16_t>(cfg_.mss - 20) : cfg_.mss;
  }
  void tw_erase(TimeWaitTable::Ref r);
  ConnId active_open(ConnHot& c, Instant now);  // connect(), connect6(): ISS, SYN, timer
  uint16_t window_field(ConnHot& c, bool syn);
  [[gnu::always_inline]] inline uint16_t window_field_inline(ConnHot& c, bool syn);  // stack_output.cpp's own
  uint32_t rcv_window(const ConnHot& c) const;
  // Payload per segment (SMSS of RFC 5681): MSS less the 12-byte timestamp option.
  static uint32_t mss_eff(const ConnHot& c) {
    return c.snd_mss - ((c.flags & cflag::kTimestamps) ? 12u : 0u);
  }
  void note_ack_sent(ConnHot& c);
  uint32_t ts_clock(Instant now) const;

  // stack_timers.cpp
  // FIFO lists of wheel_ (timer_wheel.hpp), one per deadline that is always
  // now + a constant; retransmissions after a backoff or an RTT sample that
  // leaves the RTO above its floor, and the application timers, go on the
  // wheel.
  enum TimerFifo : uint32_t {
    kFifoWheel = TimerWheel::kWheel,  // not a FIFO: the wheel
    kFifoRtoInitial = 0,  // SYN, SYN-ACK (and data before any RTT sample): rto_initial
    kFifoDelack,      // delayed_ack
    kFifoFinWait2,    // fin_wait2_timeout
    kFifoCloseWait,   // close_wait_timeout
    kFifoQuiet,       // the idle / keep-alive tick
    kFifoRtoMin,      // data or FIN with the RTO at its floor (an RTT well below rto_min, as on a LAN): rto_min
    kNumTimerFifos,
  };
  static_assert(kNumTimerFifos <= TimerWheel::kMaxFifos);
  // While an entry point works on one connection (a segment for it, its
  // timer firing) that connection's arm_timer() calls only note that the
  // timer may have to move; the TimerHold's end arms it once, at the
  // deadlines the entry point left (stack_timers.cpp). That note is
  // inline (most calls); arm_timer_now() arms.
  void arm_timer(ConnHot& c) {
    if (&c == timer_held_) {
      timer_due_ = true;
      return;
    }
    arm_timer_now(c);
  }
  void arm_timer_now(ConnHot& c);
  ConnHot* timer_held_ = nullptr;
  bool timer_due_ = false;  // arm_timer() was called for timer_held_
  bool hold_outermost_ = false;  // the hold began in the outermost entry point (settle_ext)
  struct TimerHold {
    Stack& s;
    bool holds;
    TimerHold(Stack& st, ConnHot& c) : s(st), holds(st.timer_held_ == nullptr) {
      if (holds) {
        s.timer_held_ = &c;
        s.timer_due_ = false;
        s.hold_outermost_ = s.depth_ == 1;
      }
    }
    ~TimerHold() {
      if (!holds) return;
      ConnHot& c = *s.timer_held_;
      s.timer_held_ = nullptr;
      // A connection finished meanwhile had its timer cancelled (finish())
      // and gives its extension back when its slot is freed (free_slot()).
      if (c.state == State::kClosed) return;
      if (s.timer_due_) s.arm_timer_now(c);
      if (c.ext != kNoExt) s.settle_ext(c, s.hold_outermost_);
    }
    TimerHold(const TimerHold&) = delete;
    TimerHold& operator=(const TimerHold&) = delete;
  };
  void on_timer(ConnHot& c, Instant now);
  void retransmit(ConnHot& c, Instant now);
  [[gnu::always_inline]] inline void rtt_sample(ConnHot& c, uint32_t rtt_us);
  // The clock RTT samples are taken on: µs since start_ (the deadlines'
  // origin, deadline.hpp), floor, modulo 2^32; from the entry point's cached
  // value (no division) when `now` is its time.
  uint32_t rtt_clock_us(Instant now) const { return static_cast<uint32_t>(now_us(now)); }
  // When the SYN (or SYN-ACK) being timed was first sent, on rtt_clock_us:
  // its retransmission deadline less the RTO it was armed with (start_rtx
  // right after the first send_syn; RTO and deadline stay put until an
  // answer or a retransmission, which ends the timing). A simultaneous open
  // re-arms on its SYN-ACK, so its sample runs from there. The deadline is
  // rounded up to a microsecond (deadline.hpp), so 1 µs more is taken off,
  // as the sample's end is rounded down.
  uint32_t syn_rtt_start_us(const ConnHot& c) const { return c.rtx_at.us - c.rto_ms * 1000u - 1u; }
  void start_rtx(ConnHot& c, Instant now);
  // start_rtx() for a record alloc_conn() just gave: no timer armed, no
  // other deadline, the initial RTO (straight onto its FIFO).
  void start_rtx_new(ConnHot& c, Instant now);
  // Deadlines in the record (deadline.hpp): the first microsecond at or
  // after `t` (never 0, "none"); whether one is due at `now`; the instant of
  // a deadline within 2^31 µs of now_ (Instant{} for none).
  Deadline deadline_at(Instant t) const {
    const int64_t d = (t - start_).count_ns();
    const auto v = static_cast<uint32_t>(d <= 0 ? 0 : (static_cast<uint64_t>(d) + 999) / 1000);
    return Deadline{v == 0 ? 1u : v};
  }
  // deadline_at(now + d), from the entry point's clock in µs (computed once
  // per entry point, Entry) when `now` is the entry point's and d a whole
  // number of microseconds, as every timeout is: the same value, no
  // division.
  Deadline deadline_in(Instant now, Duration d) const {
    if (d.count_ns() % 1000 != 0) return deadline_at(now + d);
    return deadline_in_us(now, static_cast<uint64_t>(d.count_ns() / 1000));
  }
  // The same for a whole number of µs: from the entry point's cached clock.
  Deadline deadline_in_us(Instant now, uint64_t us) const {
    if (now != now_ || now_before_start_) return deadline_at(now + Duration::us(static_cast<int64_t>(us)));
    const auto v = static_cast<uint32_t>(now_us_ceil_ + us);
    return Deadline{v == 0 ? 1u : v};
  }
  // µs since start_ of `now`, floor (the entry point's, cached).
  uint64_t now_us(Instant now) const { return now == now_ ? now_us_ : us_since(start_, now); }
  void set_now(Instant now) {
    now_ = now;
    const int64_t d = (now - start_).count_ns();
    now_us_ = d <= 0 ? 0 : static_cast<uint64_t>(d) / 1000;
    now_us_ceil_ = d <= 0 ? 0 : (static_cast<uint64_t>(d) + 999) / 1000;
    now_before_start_ = d < 0;
  }
  static uint64_t us_since(Instant start, Instant now) {
    const int64_t d = (now - start).count_ns();
    return d <= 0 ? 0 : static_cast<uint64_t>(d) / 1000;
  }
  // ConnHot::rcv_wnd_field's scale: our window shift once negotiated.
  uint32_t rcv_shift(const ConnHot& c) const { return (c.flags & cflag::kWscale) ? cfg_.wscale : 0; }
  // RCV.NXT + window in the last segment we sent (what the peer believes):
  // every segment carrying a window carries our ACK, so from rcv_acked.
  Seq rcv_wnd_edge(const ConnHot& c) const { return c.rcv_acked + (uint32_t{c.rcv_wnd_field} << rcv_shift(c)); }
  // The delayed-ACK deadline in ConnHot::ack_at16: 64 µs units, rounded down
  // (the ACK may go up to 63 µs before delayed_ack has passed, well below
  // the wheel's tick, and never later; RFC 1122 §4.2.3.2 bounds the delay
  // from above only), modulo 2^16 (4.19 s). Read against a clock within ±2.1 s of it
  // it is exact. A deadline is never set more than delayed_ack (under 0.5 s,
  // kMaxDelayedAck) ahead, so a reading farther ahead than that means the
  // deadline passed more than 2.1 s ago (a stalled loop, a clock that
  // jumped): it is due. (Only when it passed 2.1 s ago or more can it read
  // as up to delayed_ack ahead: the ACK, long late already, waits that much
  // more.)
  static constexpr uint32_t kAckUnitShift = 6;
  static constexpr uint32_t kAckUnit = uint32_t{1} << kAckUnitShift;
  static constexpr Duration kMaxDelayedAck = Duration::ms(499);
  static void set_ack_at(ConnHot& c, Deadline d) {
    c.ack_at16 = static_cast<uint16_t>(d.us >> kAckUnitShift);
  }
  // Units until the deadline from now32 (µs since start, modulo 2^32): <= 0, due.
  int32_t ack_units_left(const ConnHot& c, uint32_t now32) const {
    const int32_t left = static_cast<int16_t>(static_cast<uint16_t>(c.ack_at16 - (now32 >> kAckUnitShift)));
    return left > ack_units_max_ ? 0 : left;
  }
  Deadline ack_at(const ConnHot& c, uint32_t now32) const {
    const uint32_t us = ((now32 >> kAckUnitShift) + static_cast<uint32_t>(ack_units_left(c, now32))) << kAckUnitShift;
    return Deadline{us == 0 ? 1u : us};
  }
  bool due(Deadline d, Instant now) const {
    return static_cast<int32_t>(d.us - static_cast<uint32_t>(now_us(now))) <= 0;
  }
  Instant instant_of(Deadline d) const {
    if (d.none()) return Instant{};
    const uint64_t ref = us_since(start_, now_);
    const int64_t k = static_cast<int64_t>(ref) + static_cast<int32_t>(d.us - static_cast<uint32_t>(ref));
    return start_ + Duration::us(k);
  }
  void on_wheel(uint32_t id, Instant now);  // connection, application or worker timer
  uint32_t app_timer_id(uint32_t idx) const { return cfg_.max_conns + idx; }
  uint32_t worker_timer_id(uint32_t t) const { return 2 * cfg_.max_conns + t; }

  // stack_listen.cpp: RFC 9293 §3.10.7.2, SYN cookies
  void input_listen(Listener& l, const SegmentIn& seg, Instant now);
  void syn_to_listener(Listener& l, const SegmentIn& seg, Instant now, std::optional<Seq> iss);
  // syn_to_listener() where cookies_first() is false.
  void syn_to_backlog(Listener& l, const SegmentIn& seg, Instant now, std::optional<Seq> iss);
  // The new SYN_RCVD record c answers the SYN: ISS, options, SYN-ACK, timer.
  void open_passive(ConnHot& c, const SegmentIn& seg, Instant now, std::optional<Seq> iss);
  // A SYN gets a cookie SYN-ACK and no backlog entry: cookies always, or
  // overloaded with cookies on (set_overloaded).
  bool cookies_first() const { return cookies_first_; }
  [[gnu::noinline]] void send_cookie_synack(const SegmentIn& seg, Instant now);
  bool cookie_ack(Listener& l, const SegmentIn& seg, Instant now);

  // stack_reclaim.cpp: orphans, squatters, fair pool, idle and keep-alive
  // Doubly linked, oldest first: the orphans through ConnHot's orphan
  // links, the squatters through their extension's (conn.hpp).
  struct SlotList {
    uint32_t head = UINT32_MAX, tail = UINT32_MAX, size = 0;
  };
  // kOrphans: orphans_, else squatters_ (stack_reclaim.cpp).
  template <bool kOrphans>
  uint32_t list_prev(const ConnHot& k) const;
  template <bool kOrphans>
  uint32_t list_next(const ConnHot& k) const;
  template <bool kOrphans>
  void set_list_prev(ConnHot& k, uint32_t v);
  template <bool kOrphans>
  void set_list_next(ConnHot& k, uint32_t v);
  template <bool kOrphans>
  void list_push(uint32_t i);
  template <bool kOrphans>
  void list_remove(uint32_t i);
  void unlist(ConnHot& c);                   // leaves whichever list it is on (finish())
  void become_orphan(ConnHot& c);            // close(): bound, then the orphan list
  void evict(ConnHot& c, CloseReason why);   // RST, finish
  void release_now(ConnHot& c);              // a finished slot freed before the entry point ends
  [[gnu::noinline]] bool reclaim_slot();                       // table full: the oldest orphan gives way
  bool relieve_pool();                       // pool short: orphans holding chunks, then squatters
  bool replace_orphan(ConnHot& c, const SegmentIn& seg, Instant now);
  bool check_squat(ConnHot& c, Instant now);  // true when the connection was reset
  void quiet_tick(ConnHot& c, Instant now);  // idle reclaim and keep-alive (ESTABLISHED)
  void send_keepalive(ConnHot& c, Instant now);
  uint32_t send_cap(const ConnHot& c) const;  // bytes send() may queue now
  uint32_t pool_share(uint32_t held, bool spare) const;  // what the fair pool lets a connection holding `held` add

  // stack_time_wait.cpp
  void enter_time_wait(ConnHot& c, Instant now);
  void input_time_wait(TimeWaitTable::Ref r, const SegmentIn& seg, Instant now);

  StackConfig cfg_;
  bool overloaded_ = false;  // set_overloaded()
  // cookies_first(): cookies always, or overloaded with cookies on (kept by
  // the constructor and set_overloaded(), not worked out per SYN).
  bool cookies_first_ = false;
  TxSink& tx_;
  IsnGenerator isn_;
  SynCookies cookies_;
  uint32_t ts_offset_;

  // Per-slot arrays on zero pages (zero_pages.hpp): a slot's memory is backed
  // when the slot is first used. ConnHot's all-zero bytes are a CLOSED slot,
  // a receive ring's are empty (RecvBuffer::kNoChunk); what ConnHot needs
  // beyond zeros is set by alloc_conn() the first time the IndexPool hands
  // the slot out (fresh slots come in index order, so slots_ready_ is a count).
  IndexPool conn_pool_;
  ZeroArray<ConnHot> hot_;  // indexed by tw_ (one index for connections and TIME_WAIT)
  // The application's word per slot (user()), out of the record (issue 12):
  // backed only where an application writes it, as the application timer's
  // node. Once user() has been called, alloc_conn() clears a slot's word on
  // each use; before that every word is still zero and none is touched.
  ZeroArray<uint64_t> user_;
  bool user_used_ = false;
  // Whether set_timer() was ever called: until then no connection's
  // application timer can be armed, and finish() need not look at it.
  bool app_timers_used_ = false;
  uint32_t slots_ready_ = 0;
  static constexpr uint32_t kNoExt = ConnHot::kNoExt;
  IndexPool ext_pool_;
  ZeroArray<ConnExt> ext_;         // indexed by ConnHot::ext; set up on first use
  uint32_t exts_ready_ = 0;
  uint32_t ext_reserve_;           // free extensions below this: orphans, then squatters, give theirs back
  uint32_t ext_low_water_;         // ext_reserve_ / 2: below it an entry point's end relieves the pool
  SlotStack ext_check_;  // connections with xflag::kExtCheck
  SendQueue empty_sendq_;
  TimerWheel wheel_;
  AddrTable6 addr6_;                    // remote IPv6 addresses held by connections and TIME_WAIT
  std::vector<wire::Ipv6Addr> local6_;  // our IPv6 addresses (add_local6)
  TimeWaitTable tw_;
  ChunkPool chunks_;
  uint32_t rcv_nslots_;                    // receive-buffer chunk slots per connection
  ZeroArray<uint32_t> rcv_slots_;          // max_exts * rcv_nslots_ rings (RecvBuffer::Slots), by extension
  const ConnHot* delivering_ = nullptr;    // connection inside deliver() (close() leaves its buffer alone)
  std::vector<Listener> listeners_;
  std::vector<App*> apps_;         // every application seen; ConnHot::app indexes it
  std::vector<App*> worker_timer_app_;  // owner of each armed worker timer
  SlotStack reap_;         // slots to free at the end of the entry point (finish(): once per use)
  SlotStack pending_out_;  // connections whose output waits for the entry point's end (cflag::kOutputPending)
  // Connection whose segment segment_in() is processing (output_soon).
  // These two are pointers, not slot numbers: comparing one with a record
  // needs no division by the record's size (idx_of).
  const ConnHot* segment_conn_ = nullptr;
  // tw_.hash() of the tuple of the segment segment_in() is processing, set
  // where it finds no connection (and by replace_orphan): a SYN's new
  // connection is indexed without hashing its tuple again.
  uint64_t seg_hash_ = 0;
  int depth_ = 0;
  bool deferred_ = false;  // something was put on a work list above (Entry looks then)
  uint32_t queued_accepts_ = 0;  // sum of the listeners' accept-queue lengths
  Instant now_;
  uint64_t now_us_ = 0;       // now_ in µs since start_, floor (set with now_, Entry)
  int32_t ack_units_max_ = 0;  // delayed_ack in ConnHot::ack_at16's units, rounded up, plus one
  uint64_t now_us_ceil_ = 0;  // the same, rounded up
  bool now_before_start_ = false;  // now_ < start_: deadline_in() takes deadline_at()'s way
  Instant start_;         // tick 0 of the record's deadlines (deadline.hpp)

  SlotList orphans_, squatters_;
  uint32_t max_orphans_;
  uint32_t reserve_;     // chunks kept for the per-connection minimums
  uint32_t low_water_;   // free chunks below this: relieve_pool() at the end of an entry point
  // The same two tests as in-use counts (the Entry's end reads one field a
  // pool): available() < low_water_ <=> in_use() >= chunks_relieve_at_, and
  // for extensions likewise (Stack::Stack).
  uint32_t chunks_relieve_at_ = 0, exts_relieve_at_ = 0;
  // Free chunks from which the fair pool lets any connection (not a
  // squatter) have all of rcv_wnd, resp. send_buf: reserve_ plus as many
  // chunks as they take, rounded up (Stack::Stack). From there
  // (available - reserve_) * chunk_size covers them, so pool_share() cannot
  // be the smaller and rcv_window() / send_cap() skip it.
  uint32_t rcv_plenty_at_ = UINT32_MAX, send_plenty_at_ = UINT32_MAX;
  Duration quiet_tick_;  // idle / keep-alive tick, zero when both are off
  uint32_t rto_initial_ms_;  // cfg_.rto_initial: an RTO of this length uses kFifoRtoInitial
  uint32_t rto_min_ms_;      // rto_min as rtt_sample() leaves it in ConnHot::rto_ms: kFifoRtoMin
  // cfg_.close_wait_timeout in µs when it is a positive whole number of
  // them (deadline_in()'s fast case, decided once), else 0: deadline_in().
  uint64_t close_wait_us_ = 0;
  // rtt_sample()'s bounds in µs, from cfg_ once (no division per sample):
  // the clock granularity G (timer_tick), rto_min and rto_max.
  uint64_t rto_granularity_us_, rto_min_us_, rto_max_us_;

  Counters ctr_;
  StateGauges gauges_;
};

template <class F>
void Stack::for_each_conn(uint32_t limit, F&& f) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < conn_pool_.high_water() && n < limit; ++i) {
    const ConnHot& c = hot_[i];
    if (c.state == State::kClosed) continue;
    const ConnExt* x = ext(c);
    ConnInfo ci{c.tuple, c.state, c.snd_una, c.snd_nxt, c.rcv_nxt, c.snd_wnd,
                x ? x->sendq.size() : 0, c.rto_ms, c.retries, instant_of(c.rtx_at), instant_of(c.state_at),
                c.cwnd, c.ssthresh, x ? x->rcvq.chunks() * chunks_.chunk_size() : 0,
                (c.flags & cflag::kRecovery) != 0};
    f(ci);
    ++n;
  }
}

template <class F>
void Stack::for_each_time_wait(uint32_t limit, F&& f) const {
  tw_.for_each(limit, [&f](const TimeWaitEntry& e, Instant expires) {
    ConnInfo ci{};
    ci.tuple = e.tuple;
    ci.state = State::kTimeWait;
    ci.snd_una = Seq(e.snd_nxt);
    ci.snd_nxt = Seq(e.snd_nxt);
    ci.rcv_nxt = Seq(e.rcv_nxt);
    ci.state_at = expires;
    f(ci);
  });
}

}  // namespace synmill::tcp
