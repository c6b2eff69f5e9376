#include "gen/load.hpp"

#include <algorithm>

#include "dp/rte.hpp"
#include "tcp/stack.hpp"
#include "wire/tcp_frame.hpp"

namespace synmill::gen {

namespace {

// The connection's user word: bit 62 marks a held (idle) connection for its
// whole life; before on_open the low bits hold the TSC at connect(); after,
// bytes received (bits 0-31), request bytes sent (bits 32-60), --http keep-alive (bit 61) and whether we
// closed first (bit 63).
constexpr uint64_t kReceivedMask = 0xFFFFFFFFull;
constexpr unsigned kSentShift = 32;
constexpr uint64_t kSentMask = 0x1FFFFFFFull;  // bits 32-60 (bit 61: --http keep-alive)
constexpr uint64_t kHeld = 1ull << 62;
constexpr uint64_t kWeClosed = 1ull << 63;
constexpr uint64_t kTscMask = (1ull << 61) - 1;

constexpr unsigned kIsnShift = 6;          // SYN mode: ISN = TSC >> 6 (send time, ~25 ns units)
constexpr uint16_t kSynWindow = 65535;
constexpr uint32_t kSynMtu = 1500;         // SYN mode: the MSS offered is this MTU's (tcp_mss_for_mtu)
constexpr uint64_t kHeldClosesPerSec = 100'000;  // per core

// The request's bytes: a fixed pattern, sent from this buffer.
const std::array<uint8_t, 16384>& request_bytes() {
  static const std::array<uint8_t, 16384> b = [] {
    std::array<uint8_t, 16384> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>('a' + i % 26);
    return a;
  }();
  return b;
}

// --http: the requests, and the bit in the user word that says which one a
// connection sends (bit 61).
constexpr uint64_t kKeepAlive = 1ull << 61;


std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint32_t received_of(uint64_t u) { return static_cast<uint32_t>(u & kReceivedMask); }
uint32_t sent_of(uint64_t u) { return static_cast<uint32_t>((u >> kSentShift) & kSentMask); }

}  // namespace

GenDriver::GenDriver(const GenConfig& cfg, uint16_t index, uint16_t workers, const dp::PortInfo& port,
                     uint64_t tsc_hz)
    : cfg_(cfg),
      index_(index),
      workers_(workers),
      port_(port),
      hasher_(port.hasher()),
      tsc_hz_(tsc_hz == 0 ? 1 : tsc_hz) {
  const uint64_t share = cfg.rate / workers;
  rate_ = cfg.rate == 0 ? 0 : std::max<uint64_t>(1, share + (index < cfg.rate % workers ? 1 : 0));
  concurrency_ = std::max<uint32_t>(1, cfg.concurrency / workers + (index < cfg.concurrency % workers ? 1 : 0));
  const uint32_t hold_total = cfg.mode == Mode::kHold ? cfg.concurrency : cfg.hold;
  hold_target_ = hold_total / workers + (index < hold_total % workers ? 1 : 0);
  held_ids_.reserve(hold_target_);
  count_ = cfg.count == 0 ? 0 : cfg.count / workers + (index < cfg.count % workers ? 1 : 0);
  rng_ ^= (uint64_t{index} + 1) * 0xD1B54A32D192ED03ull ^ tsc_hz;
  src_ip_ = cfg.src_addrs.first;
  // The address ARP requests and Neighbor Solicitations come from: the first
  // --addr of the destination's family, else the first source.
  from4_ = dp::first_ipv4(cfg.addrs) != 0 ? dp::first_ipv4(cfg.addrs) : cfg.src_addrs.first;
  from6_ = cfg.src_addrs6.first;
  for (const dp::Address& a : cfg.addrs) {
    if (a.v6) {
      from6_ = a.ip6;
      break;
    }
  }
  if (cfg.v6 && cfg.mode != Mode::kSyn) tags6_.assign(uint64_t{cfg.src_addrs.last} - cfg.src_addrs.first + 1, 0);
  // Spread the cores' starting points so they do not all probe the same ports.
  const uint32_t span = uint32_t{cfg.src_ports.last} - cfg.src_ports.first + 1;
  src_port_ = cfg.src_ports.first + static_cast<uint32_t>(uint64_t{span} * index / workers);
  const auto scaled = [](double p) {
    return p >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(p * 18446744073709551616.0);
  };
  drop_threshold_ = scaled(cfg.drop_final_acks);
  drop_fin_threshold_ = scaled(std::max(cfg.drop_final_acks, cfg.drop_fin_acks));
  if (cfg.http != HttpRequest::kNone) {
    const std::string host = http_host(cfg);
    get_keep_alive_ = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    get_close_ = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    cfg_.request = static_cast<uint32_t>(cfg.http == HttpRequest::kKeepAlive ? get_keep_alive_.size() : get_close_.size());
  }
  (void)request_bytes();  // built before the loop runs
}

uint64_t GenDriver::tsc_to_ns(uint64_t ticks) const {
  return ticks / tsc_hz_ * 1'000'000'000ull + ticks % tsc_hz_ * 1'000'000'000ull / tsc_hz_;
}

// How many opens (or SYNs) the rate allows now.
uint64_t GenDriver::budget(uint64_t tsc) {
  if (rate_ == 0) return kMaxPerLoop;
  const uint64_t elapsed = tsc - rate_tsc_;
  const auto due = static_cast<uint64_t>(static_cast<double>(elapsed) / static_cast<double>(tsc_hz_) *
                                         static_cast<double>(rate_));
  return due > issued_ ? std::min<uint64_t>(due - issued_, kMaxPerLoop) : 0;
}

// The next source address and port; with rss_aware, only ports whose replies
// land on this core (mTCP's rss.c). False when a full sweep found none.
bool GenDriver::next_source(Source& out, bool rss_aware) {
  const dp::PortRange range = cfg_.src_ports;
  const uint32_t addrs = cfg_.src_addrs.last - cfg_.src_addrs.first + 1;
  for (uint32_t tries = 0; tries <= addrs; ++tries) {
    if (src_port_ > range.last) {
      src_port_ = range.first;
      src_ip_ = src_ip_ >= cfg_.src_addrs.last ? cfg_.src_addrs.first : src_ip_ + 1;
    }
    uint16_t port = static_cast<uint16_t>(src_port_);
    if (rss_aware && workers_ > 1) {
      const dp::PortRange rest{port, range.last};
      std::optional<uint16_t> p;
      if (cfg_.v6) {
        const wire::Ipv6Addr local = source_addr6(cfg_, src_ip_);
        p = dp::pick_source_port6(hasher_, port_.reta, index_, local.b, cfg_.dst_ip6.b, cfg_.dst_port, rest, port);
      } else {
        p = dp::pick_source_port(hasher_, port_.reta, index_, src_ip_, cfg_.dst_ip, cfg_.dst_port, rest, port);
      }
      if (!p || *p < port) {  // none left at this address: the next one
        src_port_ = uint32_t{range.last} + 1;
        continue;
      }
      port = *p;
    }
    src_port_ = uint32_t{port} + 1;
    out = Source{src_ip_, port};
    return true;
  }
  return false;
}

// xorshift64* (Vigna): fast and good enough to spread spoofed sources.
uint64_t GenDriver::next_random() {
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1Dull;
}

GenDriver::Source GenDriver::random_source() {
  const uint64_t r = next_random();
  const uint32_t addrs = cfg_.src_addrs.last - cfg_.src_addrs.first + 1;
  const uint32_t ports = uint32_t{cfg_.src_ports.last} - cfg_.src_ports.first + 1;
  return Source{cfg_.src_addrs.first + static_cast<uint32_t>((r >> 32) % addrs),
                static_cast<uint16_t>(cfg_.src_ports.first + static_cast<uint32_t>(r & 0xFFFFFFFFu) % ports)};
}

void GenDriver::send_syn(dp::Worker& w, const Source& src, uint64_t tsc, tcp::Instant now) {
  tcp::SegmentOut seg;
  seg.tuple = tcp::FourTuple{src.ip, cfg_.dst_ip, src.port, cfg_.dst_port};
  wire::Ipv6Addr local6;
  if (cfg_.v6) {  // the worker builds the IPv6 frame from the addresses (the tuple's ports only)
    local6 = source_addr6(cfg_, src.ip);
    seg.tuple = tcp::FourTuple{0, 0, src.port, cfg_.dst_port};
    seg.local6 = &local6;
    seg.remote6 = &cfg_.dst_ip6;
  }
  seg.seq = tcp::Seq(static_cast<uint32_t>(tsc >> kIsnShift));
  seg.flags = tcp::flag::kSyn;
  seg.window = kSynWindow;
  seg.opts.has_mss = true;
  seg.opts.mss = wire::tcp_mss_for_mtu(kSynMtu, cfg_.v6 ? wire::IpFamily::kV6 : wire::IpFamily::kV4);
  seg.opts.has_wscale = true;
  seg.opts.wscale = 7;
  seg.opts.sack_permitted = true;
  seg.opts.has_timestamps = true;
  seg.opts.ts_val = static_cast<uint32_t>(now.ns() / 1'000'000);
  w.emit(seg);
  ++ctr_.syn_sent;
}

bool GenDriver::open_one(dp::Worker& w, tcp::Instant now, bool held) {
  Source src;
  if (!next_source(src, true)) {
    ++ctr_.fail_no_source_port;
    return false;
  }
  tcp::Stack& stack = w.stack_mut();
  // A tuple still in our own TIME_WAIT or open (a held one) is skipped for
  // the next port.
  for (int attempt = 0; attempt < 1024; ++attempt) {
    const uint64_t t0 = rte_rdtsc();
    const tcp::ConnId id = cfg_.v6 ? connect6(stack, src, now)
                                   : stack.connect(tcp::FourTuple{src.ip, cfg_.dst_ip, src.port, cfg_.dst_port},
                                                   *this, now);
    if (id.valid()) {
      stack.user(id) = (t0 & kTscMask) | (held ? kHeld : 0);
      ++open_;
      ++ctr_.connects_started;
      return true;
    }
    if (stack.conn_count() >= w.settings().tcp.max_conns) {
      ++ctr_.fail_table_full;
      return false;
    }
    if (!next_source(src, true)) break;
  }
  ++ctr_.fail_no_source_port;
  return false;
}

// IPv6 active open: the source address's tag in the TCP core's table of
// local addresses, registered on first use (parse_gen_args bounds how many).
tcp::ConnId GenDriver::connect6(tcp::Stack& stack, const Source& src, tcp::Instant now) {
  uint32_t& tag = tags6_[src.ip - cfg_.src_addrs.first];
  if (tag == 0) tag = stack.add_local6(source_addr6(cfg_, src.ip)).value_or(0);
  if (tag == 0) return tcp::ConnId{};
  return stack.connect6(tag, src.port, cfg_.dst_ip6, cfg_.dst_port, *this, now);
}

// The tuple the stack keeps for a received IPv6 segment (or one it never
// held: state_of() says CLOSED).
tcp::FourTuple GenDriver::tuple6_of(const tcp::Stack& stack, const tcp::SegmentIn& seg) {
  const auto tag = stack.local6_tag(*seg.local6);
  if (!tag) return tcp::FourTuple{tcp::kLocal6Tag | (tcp::Stack::kMaxLocal6 - 1), tcp::kNoRemote6, 0, 0};
  return stack.tuple6(*tag, seg.tuple.local_port, *seg.remote6, seg.tuple.remote_port);
}

void GenDriver::on_loop(dp::Worker& w, tcp::Instant now) {
  const uint64_t tsc = rte_rdtsc();
  drop_armed_ = false;  // the answer to the last segment went out (or was dropped) already
  switch (phase()) {
    case Phase::kResolve: {
      if (cfg_.dst_mac && cfg_.v6) w.set_neighbour6(cfg_.dst_ip6, *cfg_.dst_mac);
      if (cfg_.dst_mac && !cfg_.v6) w.set_neighbour(cfg_.dst_ip, *cfg_.dst_mac);
      if (resolve_deadline_ == 0) resolve_deadline_ = tsc + 3 * tsc_hz_;
      if (tsc < resolve_at_) return;
      resolve_at_ = tsc + tsc_hz_ / 5;  // ask again every 200 ms
      // ARP (RFC 826) or Neighbor Discovery (RFC 4861 §7.2.2) for the destination.
      if (cfg_.v6 ? w.resolve6(cfg_.dst_ip6, from6_) : w.resolve(cfg_.dst_ip, from4_)) {
        run_tsc_.store(tsc, std::memory_order_release);
        rate_tsc_ = tsc;
        run_end_ = tsc + static_cast<uint64_t>(cfg_.duration.count_ms()) * tsc_hz_ / 1000;
        set_phase(Phase::kRun);
      } else if (tsc > resolve_deadline_) {
        error_ = cfg_.v6 ? "no Neighbor Advertisement from the destination within 3 s"
                         : "no ARP reply from the destination within 3 s";
        set_phase(Phase::kDone);
      }
      return;
    }
    case Phase::kRun: {
      if (tsc >= run_end_ && !second_phase_ && cfg_.then_duration > tcp::Duration{} && count_ == 0) {
        second_phase_ = true;  // --then-rate: this core's share, from now
        rate_ = std::max<uint64_t>(1, cfg_.then_rate / workers_ + (index_ < cfg_.then_rate % workers_ ? 1 : 0));
        rate_tsc_ = tsc;
        issued_ = 0;
        run_end_ = tsc + static_cast<uint64_t>(cfg_.then_duration.count_ms()) * tsc_hz_ / 1000;
      }
      if (tsc >= run_end_ || (count_ != 0 && issued_ >= count_)) {
        held_closed_ = 0;  // the drain closes the held ones, a batch per loop
        // SYN mode waits only for the SYN-ACKs in flight.
        const int64_t drain_ms = cfg_.mode == Mode::kSyn ? std::min<int64_t>(cfg_.drain.count_ms(), 500)
                                                         : cfg_.drain.count_ms();
        drain_end_ = tsc + static_cast<uint64_t>(drain_ms) * tsc_hz_ / 1000;
        drain_start_ = tsc;
        set_phase(Phase::kDrain);
        return;
      }
      uint64_t n = budget(tsc);
      if (count_ != 0) n = std::min(n, count_ - issued_);
      if (cfg_.mode == Mode::kSyn) {
        // Frames the TX ring refused in the last flush were SYNs: not sent.
        const uint64_t refused = w.counters().drop_tx_full - tx_full_seen_;
        tx_full_seen_ += refused;
        ctr_.syn_sent -= std::min(ctr_.syn_sent, refused);
        ctr_.syn_tx_full += refused;
        if (rate_ == 0) {  // AIMD on the per-loop batch
          per_loop_ = refused > 0 ? std::max<uint32_t>(8, per_loop_ / 2) : std::min<uint32_t>(256, per_loop_ + 8);
          n = count_ != 0 ? std::min<uint64_t>(per_loop_, count_ - issued_) : per_loop_;
        }
        for (; n > 0; --n, ++issued_) {
          Source src;
          if (cfg_.random_sources) {
            src = random_source();
          } else if (!next_source(src, false)) {
            break;
          }
          send_syn(w, src, tsc, now);
        }
        return;
      }
      // Held connections first (hold mode, connect --hold): opened once, at
      // the rate, and kept; the connect load starts when all are established.
      // At most --concurrency handshakes in flight, as for the load itself.
      if (hold_opened_ < hold_target_) {
        const uint32_t in_flight = open_ - std::min(open_, held_);
        n = std::min<uint64_t>(n, concurrency_ - std::min(concurrency_, in_flight));
        for (n = std::min<uint64_t>(n, hold_target_ - hold_opened_); n > 0; --n, ++issued_, ++hold_opened_) {
          open_one(w, now, true);
        }
        return;
      }
      if (cfg_.mode == Mode::kHold || held_ + (ctr_.fail_refused + ctr_.fail_timeout) < hold_target_) return;
      if (hold_target_ > 0 && cfg_.hold_pause.count_ns() > 0) {
        // --hold-pause: the server holds only the held set for a while (the
        // bench weighs it then); the load starts after.
        const uint64_t held = held_tsc_.load(std::memory_order_relaxed);
        if (held == 0 || tsc < held + static_cast<uint64_t>(cfg_.hold_pause.count_ms()) * tsc_hz_ / 1000) return;
      }
      const uint32_t busy = open_ - std::min(open_, held_);
      n = std::min<uint64_t>(n, concurrency_ - std::min(concurrency_, busy));
      for (; n > 0; --n, ++issued_) open_one(w, now, false);
      return;
    }
    case Phase::kDrain:
      // Held connections close at kHeldClosesPerSec (a million FINs at once
      // would overflow every ring on the way); stale ids are refused.
      if (held_closed_ < held_ids_.size()) {
        const uint64_t due = (tsc - drain_start_) * kHeldClosesPerSec / tsc_hz_ + 1;
        while (held_closed_ < held_ids_.size() && held_closed_ < due) w.stack_mut().close(held_ids_[held_closed_++]);
      }
      if ((open_ == 0 && cfg_.mode != Mode::kSyn) || tsc >= drain_end_) set_phase(Phase::kDone);
      return;
    case Phase::kDone: return;
  }
}

// Out: with --drop-final-acks, the first segment without SYN, RST or payload
// that answers an armed SYN-ACK (the handshake's final ACK) or FIN (our ACK
// of the server's FIN, or our FIN-ACK) is dropped.
bool GenDriver::keep_out(const tcp::SegmentOut& seg) {
  if (!drop_armed_ || !(seg.tuple == drop_tuple_)) return true;
  if ((seg.flags & (tcp::flag::kSyn | tcp::flag::kRst)) != 0 || seg.payload_len != 0) return true;
  drop_armed_ = false;
  ++ctr_.final_acks_dropped;
  return false;
}

bool GenDriver::on_tcp(dp::Worker& w, const tcp::SegmentIn& seg, tcp::Instant) {
  if (cfg_.mode != Mode::kSyn) {
    const bool fin = (seg.flags & tcp::flag::kFin) != 0 && (seg.flags & tcp::flag::kRst) == 0;
    const tcp::FourTuple tuple = seg.v6() ? tuple6_of(w.stack(), seg) : seg.tuple;
    if (cfg_.ignore_fin_retransmits && fin && w.stack().state_of(tuple) == tcp::State::kClosed) {
      ++ctr_.fin_rtx_ignored;  // dperf: a retransmitted FIN of a connection it closed is dropped
      return true;
    }
    if (drop_fin_threshold_ != 0) {
      const bool synack = (seg.flags & (tcp::flag::kSyn | tcp::flag::kAck)) == (tcp::flag::kSyn | tcp::flag::kAck);
      drop_armed_ = (synack && next_random() < drop_threshold_) || (fin && next_random() < drop_fin_threshold_);
      drop_tuple_ = tuple;
    }
    return false;
  }
  const uint64_t tsc = rte_rdtsc();
  if ((seg.flags & tcp::flag::kRst) != 0) {
    ++ctr_.rst_received;
  } else if ((seg.flags & (tcp::flag::kSyn | tcp::flag::kAck)) == (tcp::flag::kSyn | tcp::flag::kAck)) {
    ++ctr_.synack_received;
    const uint32_t sent = seg.ack.raw() - 1;
    const uint32_t elapsed = static_cast<uint32_t>(tsc >> kIsnShift) - sent;
    synack_ns_.record(tsc_to_ns(uint64_t{elapsed} << kIsnShift));
  } else {
    ++ctr_.other_received;
  }
  return true;  // answer nothing: the endpoint keeps (or, with cookies, drops) the half-open state
}

void GenDriver::on_stop(dp::Worker& w, tcp::Instant) {
  ctr_.fail_unfinished += w.stack().conn_count();
}

void GenDriver::on_open(tcp::Stack& stack, tcp::ConnId id) {
  uint64_t& u = stack.user(id);
  connect_ns_.record(tsc_to_ns((rte_rdtsc() - u) & kTscMask));
  u &= kHeld;
  ++ctr_.established;
  if ((u & kHeld) != 0) {
    ++held_;
    if (held_ids_.size() < held_ids_.capacity()) held_ids_.push_back(id);
    if (++ctr_.held_established == hold_target_) held_tsc_.store(rte_rdtsc(), std::memory_order_release);
    return;
  }
  if (cfg_.http == HttpRequest::kKeepAlive || (cfg_.http == HttpRequest::kMix && (requests_++ & 1) != 0)) {
    u |= kKeepAlive;
  }
  if (cfg_.request > 0) push_request(stack, id);
  if (cfg_.request == 0 && cfg_.response == 0) finish_exchange(stack, id);
}

void GenDriver::push_request(tcp::Stack& stack, tcp::ConnId id) {
  uint64_t& u = stack.user(id);
  uint32_t sent = sent_of(u);
  if (cfg_.http != HttpRequest::kNone) {  // one small request: sent whole or not yet
    const auto req = as_bytes((u & kKeepAlive) != 0 ? get_keep_alive_ : get_close_);
    if (sent == 0 && stack.send_space(id) >= req.size()) {
      sent = stack.send(id, req);
      ctr_.bytes_sent += sent;
      sent = sent == req.size() ? cfg_.request : 0;  // done: the exchange waits for --response
    }
    u = (u & ~(kSentMask << kSentShift)) | (uint64_t{sent} << kSentShift);
    return;
  }
  const auto& bytes = request_bytes();
  while (sent < cfg_.request) {
    const uint32_t want = std::min<uint32_t>(cfg_.request - sent, static_cast<uint32_t>(bytes.size()));
    const uint32_t took = stack.send(id, std::span<const uint8_t>(bytes.data(), want));
    sent += took;
    ctr_.bytes_sent += took;
    if (took < want) break;  // on_writable continues
  }
  u = (u & ~(kSentMask << kSentShift)) | (uint64_t{sent} << kSentShift);
}

void GenDriver::on_writable(tcp::Stack& stack, tcp::ConnId id) {
  if (sent_of(stack.user(id)) < cfg_.request) push_request(stack, id);
}

uint32_t GenDriver::on_data(tcp::Stack& stack, tcp::ConnId id, std::span<const uint8_t> data) {
  uint64_t& u = stack.user(id);
  const uint32_t before = received_of(u);
  const auto n = static_cast<uint32_t>(data.size());
  const uint32_t after = before + std::min(n, UINT32_MAX - before);
  u = (u & ~kReceivedMask) | after;
  ctr_.bytes_received += n;
  if ((u & kHeld) == 0 && before < cfg_.response && after >= cfg_.response &&
      sent_of(u) >= cfg_.request) {
    finish_exchange(stack, id);
  }
  return n;
}

// The exchange is complete: end the connection the way --close says.
void GenDriver::finish_exchange(tcp::Stack& stack, tcp::ConnId id) {
  ++ctr_.responses_complete;
  switch (cfg_.close) {
    case CloseKind::kClient:
      stack.user(id) |= kWeClosed;
      stack.close(id);
      break;
    case CloseKind::kRst: stack.abort(id); break;
    case CloseKind::kServer: break;  // on_peer_close answers the server's FIN
  }
}

void GenDriver::on_peer_close(tcp::Stack& stack, tcp::ConnId id) {
  const uint64_t u = stack.user(id);
  if ((u & kWeClosed) != 0) return;  // its FIN answers ours
  if ((u & kHeld) == 0 && received_of(u) < cfg_.response) ++ctr_.fail_short_response;
  stack.close(id);
}

void GenDriver::on_closed(tcp::Stack& stack, tcp::ConnId id, tcp::CloseReason reason) {
  const uint64_t u = stack.user(id);
  if (open_ > 0) --open_;
  if ((u & kHeld) != 0 && held_ > 0 && (u & kTscMask) == 0) --held_;  // was established
  // A failure once the whole response was in (we closed after it): the
  // exchange succeeded, the close did not (counted among the fail_* too).
  const bool failure = reason != tcp::CloseReason::kNormal && reason != tcp::CloseReason::kShutdown &&
                       !(reason == tcp::CloseReason::kAborted && cfg_.close == CloseKind::kRst);
  if (failure && (u & kWeClosed) != 0) ++ctr_.failed_after_response;
  switch (reason) {
    case tcp::CloseReason::kNormal:  // hold mode closes with close_all: client-first
      ++((u & (kWeClosed | kHeld)) != 0 ? ctr_.closes_client : ctr_.closes_server);
      break;
    case tcp::CloseReason::kAborted:
      if (cfg_.close == CloseKind::kRst) {
        ++ctr_.closes_rst;
      } else {
        ++ctr_.fail_other;
      }
      break;
    case tcp::CloseReason::kRefused: ++ctr_.fail_refused; break;
    case tcp::CloseReason::kReset: ++ctr_.fail_reset; break;
    case tcp::CloseReason::kTimeout: ++ctr_.fail_timeout; break;
    case tcp::CloseReason::kShutdown: break;  // counted as unfinished in on_stop
    default: ++ctr_.fail_other; break;
  }
}

}  // namespace synmill::gen
