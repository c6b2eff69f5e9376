#pragma once
// One worker core's poll loop: RX burst from its queue, classify (ARP, ICMP
// echo, TCP to one of our addresses), feed its tcp::Stack, build replies (in
// place in the received mbuf where possible), flush TX once per loop, advance
// the timer wheel from the TSC. No locks, no shared atomics but the run-state
// flag it reads, no allocation in the loop.
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "dp/load_shed.hpp"
#include "dp/port_info.hpp"
#include "dp/rss.hpp"
#include "dp/seqlock.hpp"
#include "dp/table_query.hpp"
#include "dp/tsc_clock.hpp"
#include "dp/unmap_guard.hpp"
#include "tcp/app.hpp"
#include "tcp/stack.hpp"
#include "wire/frame.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/tcp_template.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace synmill::dp {

// One of our addresses (--addr): IPv4 (ip, prefix 0..32) or, with v6 set,
// IPv6 (ip6, prefix 0..128; ip stays 0).
struct Address {
  uint32_t ip = 0;      // host order
  uint8_t prefix = 24;
  bool v6 = false;
  wire::Ipv6Addr ip6{};
};

// What the main thread asks the workers to do.
enum class RunState : int {
  kRunning = 0,
  kDraining = 1,  // stop accepting, FIN every established connection, keep serving
  kStopping = 2,  // RST what is left, flush, leave the loop
};

#define SYNMILL_WORKER_COUNTERS(X)                                           \
  X(rx_packets) X(tx_packets) X(rx_bytes) X(tx_bytes)                        \
  X(arp_requests) X(arp_replies_sent) X(arp_learned) X(icmp_echo_replies)    \
  X(drop_bad_ip_checksum) X(drop_bad_tcp_checksum) X(drop_parse_error)       \
  X(drop_ip_fragment) X(drop_not_for_us) X(drop_bad_source) X(drop_non_ip)   \
  X(drop_other_protocol) X(drop_tx_full) X(drop_no_mbuf) X(drop_frame_too_big) \
  X(dispatched) X(drop_dispatch_full) X(tx_handed) X(tx_handed_bytes)        \
  X(link_downs) X(link_ups) X(link_down_loops) X(drop_link_down)             \
  X(overload_entered) X(overload_loops) X(shed_syn_overload) X(shed_syn_tx_full) \
  X(shed_to_cookies)                                                         \
  X(nd_solicits) X(nd_adverts_sent) X(nd_adverts_received) X(nd_learned)     \
  X(nd_unsolicited_sent) X(icmp6_echo_replies) X(drop_nd_invalid)            \
  X(drop_nd_not_ours) X(drop_nd_conflict) X(drop_icmp6_other)                \
  X(loops) X(busy_loops) X(busy_cycles) X(total_cycles)

struct WorkerCounters {
#define SYNMILL_DECLARE_W(name) uint64_t name = 0;
  SYNMILL_WORKER_COUNTERS(SYNMILL_DECLARE_W)
#undef SYNMILL_DECLARE_W
  template <class F>
  void for_each(F&& f) const {
#define SYNMILL_VISIT_W(name) f(std::string_view(#name), name);
    SYNMILL_WORKER_COUNTERS(SYNMILL_VISIT_W)
#undef SYNMILL_VISIT_W
  }
};

// What other threads (telemetry, the status line, metrics) read of a worker:
// a copy the worker publishes once a millisecond and when it stops, through a
// seqlock, so every reader sees one consistent moment of one worker.
struct WorkerSnapshot {
  tcp::Counters tcp;
  WorkerCounters dp;
  tcp::StateGauges states;  // TIME_WAIT from the compact table, LISTEN = listeners
  uint64_t conns = 0;       // connections in the table (not TIME_WAIT)
  uint64_t orphans = 0;     // closed by the application, not finished
  uint64_t squatters = 0;   // holding data toward a zero or tiny window
  uint64_t chunks = 0;      // send/receive pool chunks in use
  uint64_t timers = 0;      // timers armed
  uint64_t time_wait = 0;   // compact TIME_WAIT entries
};

class Worker;

// A range of local addresses (a load generator's source addresses): the
// worker answers ARP for them and takes TCP addressed to them.
struct AddrRange {
  uint32_t first = 0;  // host order, inclusive
  uint32_t last = 0;
};

// The same for IPv6: the addresses from first to last (inclusive), which
// differ only in their low 32 bits (the generator's --src-addrs).
struct AddrRange6 {
  wire::Ipv6Addr first;
  wire::Ipv6Addr last;
  bool contains(const wire::Ipv6Addr& a) const {
    if (std::memcmp(a.b.data(), first.b.data(), 12) != 0) return false;
    const auto low = [](const wire::Ipv6Addr& x) {
      return uint32_t{x.b[12]} << 24 | uint32_t{x.b[13]} << 16 | uint32_t{x.b[14]} << 8 | x.b[15];
    };
    return low(a) >= low(first) && low(a) <= low(last);
  }
};

// What drives a worker besides its listeners: a load generator opens
// connections or sends raw segments from here. Runs on the worker's thread.
class LoopDriver {
 public:
  // Once per loop, after the RX burst and the timers.
  virtual void on_loop(Worker& w, tcp::Instant now) = 0;
  // A TCP segment for one of our addresses, before the stack sees it; true if
  // the driver consumed it (the stack never sees it, nothing is answered).
  virtual bool on_tcp(Worker& /*w*/, const tcp::SegmentIn& /*seg*/, tcp::Instant /*now*/) { return false; }
  // A segment the stack is about to put on the wire; false drops it (a
  // generator imitating a lossy or careless client). Called only when
  // filters_output() was true at construction.
  virtual bool keep_out(const tcp::SegmentOut& /*seg*/) { return true; }
  virtual bool filters_output() const { return false; }
  // The last call, from the worker's thread, before it aborts what is left.
  virtual void on_stop(Worker& /*w*/, tcp::Instant /*now*/) {}

 protected:
  ~LoopDriver() = default;
};

struct WorkerSettings {
  uint16_t index = 0;   // worker number, 0..workers-1 (= RX/TX queue)
  uint16_t port_id = 0;
  uint16_t rx_queue = 0;
  uint16_t tx_queue = 0;
  const PortInfo* port = nullptr;
  rte_mempool* pool = nullptr;
  std::vector<Address> addrs;
  tcp::StackConfig tcp;
  tcp::StackSecrets secrets;
  bool gratuitous_arp = true;  // announce our addresses when the loop starts
  // Software dispatch (ports without RSS; see dispatch.hpp): worker 0 polls
  // the port and hands flows to their owners. nullptr: this worker polls its
  // own RX queue.
  class Dispatch* dispatch = nullptr;
  std::vector<AddrRange> ranges;  // further local addresses (see AddrRange)
  std::vector<AddrRange6> ranges6;  // further local IPv6 addresses: NS answered, TCP taken
  LoopDriver* driver = nullptr;
  // RX bursts a pass takes at most while each comes back full. A server
  // answers what it receives: one burst a pass. A driver that sends more
  // than a burst a pass (synmill-gen: up to 256 SYNs) must receive as much,
  // or its RX queue overflows and the answers it counts are bounded by its
  // own receive path, not by the server it measures.
  uint16_t rx_bursts = 1;
  // The port's link state, written by the control thread (LinkWatch); while
  // it reads false this worker neither polls nor transmits on the port
  // (frames it would send are dropped and counted: drop_link_down). nullptr:
  // always up.
  const std::atomic<bool>* link_up = nullptr;
};

class Worker final : public tcp::TxSink {
 public:
  explicit Worker(const WorkerSettings& s);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before run(): the listener on `port` served by `app` (owned by the caller,
  // one instance per worker).
  bool listen(uint16_t port, tcp::App& app);

  // The poll loop, on this worker's lcore, until `state` says kStopping.
  void run(const std::atomic<int>& state);

  // run()'s parts, for a caller that drives the worker one pass at a time on
  // its own thread with TSC readings of its own (bench/worker_bench.cpp:
  // instructions per packet under callgrind, deterministic because the clock
  // is the caller's). start() is what run() does before its loop (`tsc_hz`
  // ticks a second, `tsc` the start); pass() is one pass of the loop at TSC
  // reading `tsc`, in run state `st`: drain on kDraining, RX burst, timers,
  // the driver, TX flush. Returns the frames received. run()'s accounting,
  // published snapshots and table queries are not part of a pass.
  void start(uint64_t tsc_hz, uint64_t tsc);
  uint16_t pass(uint64_t tsc, RunState st = RunState::kRunning);

  // Any thread: the latest published snapshot (at most ~1 ms old while the
  // worker runs, final once it has stopped).
  WorkerSnapshot snapshot() const { return published_.read(); }
  // Any thread: a snapshot the worker took after this call, for readers that
  // must see what the worker already did (telemetry's stats after an event):
  // asks run() to publish on its next loop rather than within the
  // millisecond, and waits up to `timeout_ms` for it; the latest published
  // one if none came by then (an lcore not running), the final one once the
  // worker stopped. fresh_snapshots() asks every worker first, then waits.
  WorkerSnapshot fresh_snapshot(uint32_t timeout_ms) const;
  static std::vector<WorkerSnapshot> fresh_snapshots(std::span<const Worker* const> workers, uint32_t timeout_ms);
  // Any thread: has the worker answer `q` from its own tables (see
  // table_query.hpp); false if it did not within `timeout_ms` or another
  // query is pending. Once the worker has stopped, answers directly.
  bool ask(TableQuery& q, uint32_t timeout_ms) const;

  // The worker's own thread only (or after it stopped): live tables and counters.
  const tcp::Stack& stack() const { return *stack_; }
  const WorkerCounters& counters() const { return ctr_; }
  uint64_t tsc_hz() const { return clock_.hz(); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  void emit(const tcp::SegmentOut& seg) override;  // TxSink

  // For a LoopDriver, on this worker's thread.
  tcp::Stack& stack_mut() { return *stack_; }
  // settings().addrs holds the IPv4 addresses only; the IPv6 ones are here.
  const WorkerSettings& settings() const { return s_; }
  const std::vector<Address>& addrs6() const { return addrs6_; }
  uint64_t tsc_start() const { return clock_.start(); }
  // Whether the next hop for `ip` is known; if not, asks with an ARP request
  // (at most once per call).
  bool resolve(uint32_t ip, uint32_t from_ip);
  // A neighbour given by configuration (no ARP for it).
  void set_neighbour(uint32_t ip, const std::array<uint8_t, 6>& mac) { learn(ip, mac); }
  // IPv6 (worker_ipv6.cpp): whether the next hop for `ip` is known; if not,
  // asks with a Neighbor Solicitation from `from` (at most one per call).
  bool resolve6(const wire::Ipv6Addr& ip, const wire::Ipv6Addr& from);
  void set_neighbour6(const wire::Ipv6Addr& ip, const std::array<uint8_t, 6>& mac) { learn6(ip, mac); }

 private:
  void handle(rte_mbuf* m, tcp::Instant now);
  bool rx_cksum_bad(rte_mbuf* m);
  wire::ParseFlags rx_parse_flags(const rte_mbuf* m) const;
  uint16_t receive(rte_mbuf** rx, tcp::Instant now);
  uint16_t shed_burst(rte_mbuf** rx, uint16_t n);
  void prefetch_flows(rte_mbuf* const* rx, uint16_t n);
  void take_neighbours();
  void transmit_for_owners();
  void finish_dispatch();
  void handle_arp(rte_mbuf* m, const struct ArpRef& ref);
  // One of our IPv4 addresses (settings' addrs and ranges). Most addresses
  // asked about (every TCP source) are not: the interval that holds them all
  // answers those with one comparison.
  bool ours(uint32_t ip) const {
    if (ip - own_lo_ > own_span_) return false;
    return own_one_ || ours_scan(ip);
  }
  bool ours_scan(uint32_t ip) const;
  // Takes back an mbuf the worker is done with: kept (up to kSpares) for the
  // next reply that needs a fresh one, else freed.
  void recycle(rte_mbuf* m);
  void to_stack(rte_mbuf* m, const tcp::SegmentIn& seg, tcp::Instant now);
  void learn(uint32_t ip, const std::array<uint8_t, 6>& mac);
  const std::array<uint8_t, 6>* neighbour(uint32_t ip) const;
  void send_gratuitous_arp();
  // IPv6 (worker_ipv6.cpp): TCP checks, Neighbor Discovery, ICMPv6 echo,
  // the neighbour table, the unsolicited NA at start.
  bool accept_tcp6(rte_mbuf* m, const tcp::SegmentIn& seg, const uint8_t* eth);
  void handle_icmp6(rte_mbuf* m, std::span<uint8_t> frame, const wire::Frame& f);
  void handle_nd(rte_mbuf* m, const wire::Frame& f);
  bool ours6(const wire::Ipv6Addr& a) const;
  bool bad_source6(const wire::Ipv6Addr& src, const uint8_t* src_mac) const;
  void learn6(const wire::Ipv6Addr& ip, const std::array<uint8_t, 6>& mac);
  const std::array<uint8_t, 6>* neighbour6(const wire::Ipv6Addr& ip) const;
  void send_unsolicited_na();
  void tx(rte_mbuf* m);
  void flush();
  tcp::Instant now_from_tsc(uint64_t tsc) const { return clock_.now(tsc); }
  void drain(tcp::Instant now);
  void handle_other(rte_mbuf* m, std::span<uint8_t> frame);
  bool bad_source(uint32_t src, const uint8_t* src_mac) const;
  void publish();
  void take_query(tcp::Instant now);

  WorkerSettings s_;
  std::unique_ptr<tcp::Stack> stack_;
  WorkerCounters ctr_;
  TscClock clock_;        // set from rte_get_tsc_hz() when run() starts: no division per loop
  TickGate timer_gate_;   // the stack's timers advance once per timer tick
  wire::TcpFrameTemplate tpl_;   // this worker's reply headers (source MAC, TTL)
  static constexpr uint16_t kBurst = 32;
  std::array<rte_mbuf*, kBurst> rx_{};
  std::array<rte_mbuf*, 64> txq_{};
  uint16_t tx_len_ = 0;
  uint64_t tx_pending_bytes_ = 0;   // the frames in txq_
  // Received mbufs done with (prefreed: rte_pktmbuf_prefree_seg), reused for
  // the replies that cannot be built in the frame they answer, without a
  // round trip through the mempool; at most kSpareKeep stay after a pass,
  // none after a pass that received nothing.
  static constexpr uint16_t kSpareKeep = 8;
  std::array<rte_mbuf*, kBurst> spare_{};
  uint16_t spares_ = 0;
  uint32_t own_lo_ = 1;       // the interval of our IPv4 addresses and ranges
  uint32_t own_span_ = 0;     // (own_lo_ 1, own_span_ 0 and no address: none is ours but 1)
  bool own_one_ = false;      // a single address or range: in the interval is ours
  std::vector<uint32_t> own_bcast_;  // directed broadcasts of our subnets
  uint32_t bcast_lo_ = UINT32_MAX;   // the interval that holds them (empty: lo > hi)
  uint32_t bcast_hi_ = 0;
  bool rx_ip_ck_ = false;     // the port reports RX IP / TCP checksum status
  bool rx_l4_ck_ = false;
  bool rx_ck_ = false;        // either: handle() asks rx_cksum_bad() and rx_parse_flags()
  bool tx_ip_off_ = false;    // the port fills IPv4 / TCP checksums (tx_cksum.hpp)
  bool tx_tcp_off_ = false;
  wire::ParseFlags parse_{};  // verify both checksums; IPv6 if any IPv6 address
  rte_mbuf* reuse_ = nullptr;       // the received mbuf a reply may be built in
  tcp::SegmentIn rx_seg_;           // the frame being handled (handle(); rewritten per frame)
  std::array<uint8_t, 6> reply_mac_{};  // the current frame's source MAC
  // The last IPv4 TCP source accepted (handle()): its address, and the 8
  // bytes at the frame's offset 6 (source MAC + EtherType 0x0800). While
  // they match, the next frame's source needs neither bad_source() (fixed
  // after construction) nor learn(): neigh_ holds exactly this pair and
  // reply_mac_ is this MAC. learn() and the IPv6 path (which rewrites
  // reply_mac_) reset it; seen_ip_ 0 matches no frame (0 is a bad source).
  uint32_t seen_ip_ = 0;
  uint64_t seen_key_ = 0;
  const std::array<uint8_t, 6>* seen_mac_ = nullptr;  // neigh_'s entry for seen_ip_ (emit(); no peer is 0)
  struct Neighbour {
    uint32_t ip = 0;
    std::array<uint8_t, 6> mac{};
  };
  std::array<Neighbour, 256> neigh_{};  // direct-mapped by a hash of the address
  std::vector<Address> addrs6_;         // our IPv6 addresses (settings' v6 entries)
  bool v6_ = false;                     // any: IPv6 frames are parsed (ParseFlags::accept_ipv6)
  struct Neighbour6 {
    wire::Ipv6Addr ip;  // :: = empty slot (never a neighbour: unspecified sources are dropped)
    std::array<uint8_t, 6> mac{};
  };
  std::array<Neighbour6, 256> neigh6_{};  // IPv6 neighbour cache, direct-mapped as neigh_
  Dispatch* dispatch_ = nullptr;
  bool polls_port_ = true;   // worker 0, or every worker with RSS
  bool transmits_ = true;    // owns a TX queue (else hands frames to worker 0)
  RssHasher hasher_;
  std::unique_ptr<RssTable4> hash4_;  // worker 0 of a dispatching port: its IPv4 flow hash
  bool draining_ = false;
  bool link_ok_ = true;      // the link as this loop pass saw it
  LoadShed shed_;            // the polling core's overload policy
  bool filter_out_ = false;  // the driver vets outgoing segments (keep_out)
  bool forwards_ = false;    // worker 0 transmitting for owners without a TX queue
  UnmapGuard::Mark* mark_ = nullptr;  // this thread's pass marks (unmap_guard.hpp)
  std::atomic<bool> finished_{false};
  Seqlock<WorkerSnapshot> published_;
  uint64_t next_publish_ = 0;  // TSC
  mutable std::atomic<bool> publish_asked_{false};  // fresh_snapshot(): publish on the next loop
  mutable std::atomic<TableQuery*> query_{nullptr};
};

}  // namespace synmill::dp
