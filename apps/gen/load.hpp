#pragma once
// One generator core: a dp::LoopDriver that opens connections through the
// worker's tcp::Stack (connect, hold) or writes raw SYNs (syn), and the
// tcp::App those connections run. Everything here runs on the worker's
// thread; the main thread reads counters() (plain loads of single-writer
// values, maybe stale) and, after the worker stopped, the histograms.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dp/worker.hpp"
#include "gen/gen_config.hpp"
#include "gen/histogram.hpp"
#include "tcp/app.hpp"

namespace synmill::gen {

inline constexpr uint32_t kMaxPerLoop = 256;  // opens or SYNs per poll loop
// RX bursts a loop takes while they come back full: as many answers as a
// loop may send SYNs (dp::WorkerSettings::rx_bursts).
inline constexpr uint16_t kRxBurstsPerLoop = kMaxPerLoop / 32;  // 32: dp::Worker's RX burst

#define SYNMILL_GEN_COUNTERS(X)                                                        \
  X(syn_sent)           /* on the wire: emitted minus those the TX ring refused */    \
  X(syn_tx_full)        /* SYNs the TX ring refused (the rate backs off) */           \
  X(synack_received) X(rst_received) X(other_received)                     \
  X(connects_started) X(established) X(held_established) X(bytes_sent) X(bytes_received)                   \
  X(responses_complete) X(closes_client) X(closes_server) X(closes_rst)                \
  X(final_acks_dropped)  /* --drop-final-acks: ACKs we chose not to send */          \
  X(fin_rtx_ignored)     /* --ignore-fin-rtx: FINs for tuples we no longer hold */    \
  X(failed_after_response) /* of the fail_* below: the response was complete, the close failed */ \
  X(fail_refused)        /* RST in answer to our SYN */                                \
  X(fail_reset)          /* the server reset an established connection */             \
  X(fail_timeout)        /* retransmissions exhausted */                               \
  X(fail_short_response) /* the server closed before --response bytes arrived */       \
  X(fail_table_full)     /* no connection slot in the generator */                     \
  X(fail_no_source_port) /* every source port of this core is in use */                \
  X(fail_unfinished)     /* still open when the drain time ran out */                  \
  X(fail_other)

struct GenCounters {
#define SYNMILL_GEN_DECLARE(name) uint64_t name = 0;
  SYNMILL_GEN_COUNTERS(SYNMILL_GEN_DECLARE)
#undef SYNMILL_GEN_DECLARE
  template <class F>
  void for_each(F&& f) const {
#define SYNMILL_GEN_VISIT(name) f(std::string_view(#name), name);
    SYNMILL_GEN_COUNTERS(SYNMILL_GEN_VISIT)
#undef SYNMILL_GEN_VISIT
  }
  void add(const GenCounters& o) {
#define SYNMILL_GEN_ADD(name) name += o.name;
    SYNMILL_GEN_COUNTERS(SYNMILL_GEN_ADD)
#undef SYNMILL_GEN_ADD
  }
  uint64_t failures() const {
    return fail_refused + fail_reset + fail_timeout + fail_short_response + fail_table_full +
           fail_no_source_port + fail_unfinished + fail_other;
  }
};

enum class Phase : int { kResolve, kRun, kDrain, kDone };

class GenDriver final : public dp::LoopDriver, public tcp::App {
 public:
  GenDriver(const GenConfig& cfg, uint16_t index, uint16_t workers, const dp::PortInfo& port, uint64_t tsc_hz);

  // dp::LoopDriver
  void on_loop(dp::Worker& w, tcp::Instant now) override;
  bool on_tcp(dp::Worker& w, const tcp::SegmentIn& seg, tcp::Instant now) override;
  void on_stop(dp::Worker& w, tcp::Instant now) override;
  bool keep_out(const tcp::SegmentOut& seg) override;
  bool filters_output() const override { return cfg_.drop_final_acks > 0.0 || cfg_.drop_fin_acks > 0.0; }

  // tcp::App
  void on_open(tcp::Stack& stack, tcp::ConnId id) override;
  uint32_t on_data(tcp::Stack& stack, tcp::ConnId id, std::span<const uint8_t> data) override;
  void on_writable(tcp::Stack& stack, tcp::ConnId id) override;
  void on_peer_close(tcp::Stack& stack, tcp::ConnId id) override;
  void on_closed(tcp::Stack& stack, tcp::ConnId id, tcp::CloseReason reason) override;

  const GenCounters& counters() const { return ctr_; }
  const Histogram& synack_latency() const { return synack_ns_; }
  const Histogram& connect_latency() const { return connect_ns_; }
  Phase phase() const { return static_cast<Phase>(phase_.load(std::memory_order_acquire)); }
  uint32_t open() const { return open_; }
  // Empty, or why this core could not run (e.g. no ARP reply).
  const std::string& error() const { return error_; }
  // TSC when generation started on this core (0: not yet).
  uint64_t run_tsc() const { return run_tsc_.load(std::memory_order_acquire); }
  // TSC when every held connection of this core was established (0: not yet,
  // or nothing to hold).
  uint64_t held_tsc() const { return held_tsc_.load(std::memory_order_acquire); }

 private:
  struct Source {
    uint32_t ip = 0;
    uint16_t port = 0;
  };
  void set_phase(Phase p) { phase_.store(static_cast<int>(p), std::memory_order_release); }
  uint64_t budget(uint64_t tsc);
  bool next_source(Source& out, bool rss_aware);
  Source random_source();
  tcp::ConnId connect6(tcp::Stack& stack, const Source& src, tcp::Instant now);
  static tcp::FourTuple tuple6_of(const tcp::Stack& stack, const tcp::SegmentIn& seg);
  uint64_t next_random();
  void send_syn(dp::Worker& w, const Source& src, uint64_t tsc, tcp::Instant now);
  bool open_one(dp::Worker& w, tcp::Instant now, bool held);
  void push_request(tcp::Stack& stack, tcp::ConnId id);
  void finish_exchange(tcp::Stack& stack, tcp::ConnId id);
  uint64_t tsc_to_ns(uint64_t ticks) const;

  GenConfig cfg_;
  std::string get_keep_alive_, get_close_;  // --http's requests, Host: --dst
  uint16_t index_;
  uint16_t workers_;
  const dp::PortInfo& port_;
  dp::RssHasher hasher_;
  uint64_t tsc_hz_;
  uint64_t rate_ = 0;         // this core's share per second (0: as fast as possible)
  uint32_t concurrency_ = 0;  // this core's share
  uint64_t issued_ = 0;       // SYNs or connects since the run (or its second phase) started
  uint64_t rate_tsc_ = 0;     // when the current rate took effect
  bool second_phase_ = false; // --then-rate: running at it
  uint64_t tx_full_seen_ = 0; // the worker's drop_tx_full at the last loop
  uint32_t per_loop_ = 64;    // SYN mode at max rate: adapts to what TX takes
  uint64_t count_ = 0;        // this core's share of --count (0: no limit)
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;  // xorshift64* state (--random)
  uint32_t open_ = 0;
  uint32_t hold_opened_ = 0;
  uint32_t hold_target_ = 0;  // hold mode: --concurrency share; connect: --hold share
  uint32_t held_ = 0;         // connect --hold: idle connections open now
  std::vector<tcp::ConnId> held_ids_;  // reserved up front: closed at the end
  size_t held_closed_ = 0;
  uint32_t src_ip_ = 0;       // IPv6: the source's low 32 bits (source_addr6)
  uint32_t from4_ = 0;        // ARP requests come from here
  wire::Ipv6Addr from6_{};    // Neighbor Solicitations come from here
  std::vector<uint32_t> tags6_;  // IPv6 connect, hold: each source's tcp::Stack::add_local6 tag (0: not yet)
  uint32_t src_port_ = 0;     // next port to try (32 bits: wraps past 65535)
  uint64_t resolve_at_ = 0;   // next ARP request (TSC)
  uint64_t resolve_deadline_ = 0;
  uint64_t run_end_ = 0;
  uint64_t drain_end_ = 0;
  uint64_t drain_start_ = 0;
  std::atomic<uint64_t> run_tsc_{0};
  std::atomic<uint64_t> held_tsc_{0};
  std::atomic<int> phase_{static_cast<int>(Phase::kResolve)};
  // --drop-final-acks: the SYN-ACK or FIN just received whose answer is dropped.
  bool drop_armed_ = false;
  tcp::FourTuple drop_tuple_{};
  uint64_t drop_threshold_ = 0;  // P scaled to 2^64, for the handshake's final ACK
  uint64_t drop_fin_threshold_ = 0;  // for the answer to a FIN
  uint32_t requests_ = 0;        // --http mix alternates by this
  GenCounters ctr_;
  Histogram synack_ns_;
  Histogram connect_ns_;
  std::string error_;
};

}  // namespace synmill::gen
