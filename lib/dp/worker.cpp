// The per-core poll loop. See worker.hpp.
#include "dp/worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "dp/dispatch.hpp"
#include "dp/rte.hpp"
#include "dp/tx_cksum.hpp"
#include "dp/unmap_guard.hpp"
#include "tcp/segment_codec.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/flow_peek.hpp"
#include "wire/frame.hpp"
#include "wire/icmp.hpp"
#include "wire/tcp_parse.hpp"

namespace synmill::dp {

namespace {

constexpr size_t kMinFrame = 60;  // Ethernet minimum without FCS

bool multicast_mac(const wire::MacAddr& m) { return (m[0] & 1) != 0; }

void count_parse_error(WorkerCounters& ctr, wire::ParseError e) {
  switch (e) {
    case wire::ParseError::kBadIpChecksum: ++ctr.drop_bad_ip_checksum; break;
    case wire::ParseError::kBadTcpChecksum: ++ctr.drop_bad_tcp_checksum; break;
    case wire::ParseError::kIpFragment: ++ctr.drop_ip_fragment; break;
    case wire::ParseError::kIp6MulticastSource: ++ctr.drop_bad_source; break;  // RFC 4291 §2.7: never a source
    default: ++ctr.drop_parse_error; break;
  }
}

uint8_t neigh_slot(uint32_t ip) { return static_cast<uint8_t>((ip * 0x9E3779B1u) >> 24); }

std::span<const uint8_t> hash_key(const WorkerSettings& s) {
  if (s.port != nullptr && s.port->rss_key.size() >= 16) return s.port->rss_key;
  return kDefaultRssKey;
}

}  // namespace

struct ArpRef {
  const wire::ArpView& arp;
};

Worker::Worker(const WorkerSettings& s)
    : s_(s),
      dispatch_(s.dispatch),
      polls_port_(s.dispatch == nullptr || s.index == 0),
      transmits_(s.dispatch == nullptr || s.index == 0 || s.dispatch->owners_transmit()),
      hasher_(hash_key(s), s.port != nullptr ? s.port->rss_function : RssFunction::kToeplitz) {
  if (s.port != nullptr) tpl_ = wire::TcpFrameTemplate(s.port->mac);
  stack_ = std::make_unique<tcp::Stack>(s.tcp, s.secrets, *this, tcp::Instant{});
  timer_gate_ = TickGate(s.tcp.timer_tick.count_ns());
  // settings' addrs keep the IPv4 addresses (the IPv4 path compares ip only);
  // the IPv6 ones go to addrs6_ and to the stack (one listener, both families).
  std::erase_if(s_.addrs, [this](const Address& a) {
    if (a.v6 && stack_->add_local6(a.ip6)) addrs6_.push_back(a);
    return a.v6;
  });
  v6_ = !addrs6_.empty() || !s_.ranges6.empty();  // a generator may take IPv6 only on its --src-addrs
  filter_out_ = s.driver != nullptr && s.driver->filters_output();
  // ours(): the interval of every address and range; bad_source(): the
  // directed broadcast (all host bits set) of each subnet.
  uint32_t lo = UINT32_MAX, hi = 0;
  size_t entries = 0;
  for (const Address& a : s_.addrs) {
    ++entries;
    lo = std::min(lo, a.ip);
    hi = std::max(hi, a.ip);
    const uint32_t host_mask = a.prefix >= 32 ? 0 : (0xFFFFFFFFu >> a.prefix);
    if (host_mask != 0) {
      own_bcast_.push_back(a.ip | host_mask);
      bcast_lo_ = std::min(bcast_lo_, a.ip | host_mask);
      bcast_hi_ = std::max(bcast_hi_, a.ip | host_mask);
    }
  }
  for (const AddrRange& r : s_.ranges) {
    if (r.first > r.last) continue;
    ++entries;
    lo = std::min(lo, r.first);
    hi = std::max(hi, r.last);
  }
  if (lo <= hi) {
    own_lo_ = lo;
    own_span_ = hi - lo;
  }
  own_one_ = entries == 1;
  if (s.port != nullptr) {
    rx_ip_ck_ = s.port->rx_ip_cksum_offloaded();
    rx_l4_ck_ = s.port->rx_tcp_cksum_offloaded();
    tx_ip_off_ = s.port->tx_ip_cksum_offloaded();
    tx_tcp_off_ = s.port->tx_tcp_cksum_offloaded();
  }
  rx_ck_ = rx_ip_ck_ || rx_l4_ck_;
  if (dispatch_ != nullptr && s_.index == 0) hash4_ = std::make_unique<RssTable4>(hasher_);
  parse_ = wire::kVerifyChecksums;
  parse_.accept_ipv6 = v6_;
}

Worker::~Worker() {
  for (uint16_t i = 0; i < tx_len_; ++i) rte_pktmbuf_free(txq_[i]);
  if (spares_ > 0) rte_mempool_put_bulk(s_.pool, reinterpret_cast<void* const*>(spare_.data()), spares_);
  if (mark_ != nullptr) UnmapGuard::detach(mark_);  // started, never run()
}

bool Worker::listen(uint16_t port, tcp::App& app) {
  const bool ok = stack_->listen(port, app);
  publish();  // before run(): the LISTEN gauge
  return ok;
}

void Worker::publish() {
  WorkerSnapshot s;
  s.tcp = stack_->counters();
  s.dp = ctr_;
  s.states = stack_->gauges();
  s.conns = stack_->conn_count();
  s.orphans = stack_->orphan_count();
  s.squatters = stack_->squatter_count();
  s.chunks = stack_->chunks_in_use();
  s.timers = stack_->timers_armed();
  s.time_wait = stack_->time_wait_count();
  published_.publish(s);
}

void Worker::take_query(tcp::Instant now) {
  TableQuery* q = query_.exchange(nullptr, std::memory_order_acq_rel);
  if (q == nullptr) return;  // withdrawn by the asker
  answer(*stack_, *q, now);
  q->done.store(true, std::memory_order_release);
}

WorkerSnapshot Worker::fresh_snapshot(uint32_t timeout_ms) const {
  const Worker* self = this;
  return fresh_snapshots(std::span<const Worker* const>(&self, 1), timeout_ms).front();
}

std::vector<WorkerSnapshot> Worker::fresh_snapshots(std::span<const Worker* const> workers, uint32_t timeout_ms) {
  // A publish under way when asked may hold counters from before the ask:
  // the second one after the generation read here was taken after it.
  std::vector<uint64_t> target(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    workers[i]->publish_asked_.store(true, std::memory_order_seq_cst);
    target[i] = workers[i]->published_.generation() + 2;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<WorkerSnapshot> out;
  out.reserve(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    const Worker& w = *workers[i];
    while (!w.finished() && w.published_.generation() < target[i] && std::chrono::steady_clock::now() < deadline) {
      w.publish_asked_.store(true, std::memory_order_relaxed);  // run() cleared it for the first
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    out.push_back(w.snapshot());
  }
  return out;
}

bool Worker::ask(TableQuery& q, uint32_t timeout_ms) const {
  q.done.store(false, std::memory_order_relaxed);
  const auto answer_here = [&] {
    answer(*stack_, q, now_from_tsc(rte_rdtsc()));
    return true;
  };
  if (finished()) return answer_here();
  TableQuery* none = nullptr;
  if (!query_.compare_exchange_strong(none, &q, std::memory_order_acq_rel)) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!q.done.load(std::memory_order_acquire)) {
    if (finished() || std::chrono::steady_clock::now() > deadline) {
      TableQuery* mine = &q;
      if (query_.compare_exchange_strong(mine, nullptr, std::memory_order_acq_rel)) {
        return finished() ? answer_here() : false;  // withdrawn before the worker took it
      }
      while (!q.done.load(std::memory_order_acquire)) rte_pause();  // taken: answered within this loop
      return true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return true;
}

bool Worker::ours_scan(uint32_t ip) const {
  return std::any_of(s_.addrs.begin(), s_.addrs.end(), [ip](const Address& a) { return a.ip == ip; }) ||
         std::any_of(s_.ranges.begin(), s_.ranges.end(),
                     [ip](const AddrRange& r) { return ip >= r.first && ip <= r.last; });
}

bool Worker::resolve(uint32_t ip, uint32_t from_ip) {
  if (neighbour(ip) != nullptr) return true;
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
  if (m == nullptr) {
    ++ctr_.drop_no_mbuf;
    return false;
  }
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kMinFrame));
  std::fill(p, p + kMinFrame, 0);
  wire::build_arp_request(std::span<uint8_t>(p, kMinFrame), s_.port->mac, from_ip, ip);
  tx(m);
  return false;
}

void Worker::learn(uint32_t ip, const std::array<uint8_t, 6>& mac) {
  Neighbour& n = neigh_[neigh_slot(ip)];
  if (n.ip == ip && std::memcmp(n.mac.data(), mac.data(), 6) == 0) [[likely]] return;  // known: every segment
  seen_ip_ = 0;  // the slot may be the last source's (worker.hpp)
  n.ip = ip;
  n.mac = mac;
  ++ctr_.arp_learned;
  if (dispatch_ != nullptr && s_.index == 0) dispatch_->announce(NeighbourNote{ip, mac, false, {}});
}

const std::array<uint8_t, 6>* Worker::neighbour(uint32_t ip) const {
  const Neighbour& n = neigh_[neigh_slot(ip)];
  return n.ip == ip ? &n.mac : nullptr;
}

// Lengths are counted here: once tx_burst took an mbuf it is the PMD's (over
// ring or memif another thread may already be reusing it; ThreadSanitizer saw
// this), while the ones it refused are still ours to read.
void Worker::tx(rte_mbuf* m) {
  tx_pending_bytes_ += rte_pktmbuf_pkt_len(m);
  txq_[tx_len_++] = m;
  if (tx_len_ == txq_.size()) flush();
}

void Worker::flush() {
  if (!link_ok_ && transmits_) {  // the port is down: nothing goes out (owners hand over to worker 0)
    for (uint16_t i = 0; i < tx_len_; ++i) rte_pktmbuf_free(txq_[i]);
    ctr_.drop_link_down += tx_len_;
    tx_len_ = 0;
    tx_pending_bytes_ = 0;
    return;
  }
  uint16_t sent = 0;
  while (sent < tx_len_) {
    const uint16_t n = !transmits_
        ? dispatch_->to_transmitter(s_.index, txq_.data() + sent, static_cast<uint16_t>(tx_len_ - sent))
        : rte_eth_tx_burst(s_.port_id, s_.tx_queue, txq_.data() + sent,
                                        static_cast<uint16_t>(tx_len_ - sent));
    if (n == 0) break;
    sent = static_cast<uint16_t>(sent + n);
  }
  shed_.on_tx(sent < tx_len_);
  for (uint16_t i = sent; i < tx_len_; ++i) {
    tx_pending_bytes_ -= rte_pktmbuf_pkt_len(txq_[i]);
    rte_pktmbuf_free(txq_[i]);
    ++ctr_.drop_tx_full;
  }
  // An owner without a TX queue of its own counts what it handed worker 0
  // apart: worker 0 counts those frames in tx_packets when the port takes
  // them, so the sum over workers is what went out, each frame once.
  if (transmits_) {
    ctr_.tx_packets += sent;
    ctr_.tx_bytes += tx_pending_bytes_;
  } else {
    ctr_.tx_handed += sent;
    ctr_.tx_handed_bytes += tx_pending_bytes_;
  }
  tx_pending_bytes_ = 0;
  tx_len_ = 0;
}

[[gnu::always_inline]] inline void Worker::recycle(rte_mbuf* m) {
  if (spares_ < spare_.size() && m->pool == s_.pool) {
    m = rte_pktmbuf_prefree_seg(m);  // nullptr: still referenced elsewhere (not ours to reuse)
    if (m != nullptr) spare_[spares_++] = m;
    return;
  }
  rte_pktmbuf_free(m);
}

void Worker::send_gratuitous_arp() {
  for (const Address& a : s_.addrs) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (m == nullptr) {
      ++ctr_.drop_no_mbuf;
      return;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kMinFrame));
    std::fill(p, p + kMinFrame, 0);
    wire::build_arp_request(std::span<uint8_t>(p, kMinFrame), s_.port->mac, a.ip, a.ip);
    tx(m);
  }
}

// TxSink: a segment from the stack becomes a frame, built in the received
// mbuf when that one carried no payload (a SYN, an ACK: the usual reply), or
// in a fresh mbuf.
void Worker::emit(const tcp::SegmentOut& seg) {
  if (filter_out_ && !s_.driver->keep_out(seg)) return;
  rte_mbuf* m = reuse_;
  if (m != nullptr) {
    reuse_ = nullptr;
    rte_pktmbuf_reset(m);
  } else if (spares_ > 0) {
    m = spare_[--spares_];
    rte_pktmbuf_reset(m);  // what rte_pktmbuf_alloc does after taking it from the pool
  } else {
    m = rte_pktmbuf_alloc(s_.pool);
    if (m == nullptr) {
      ++ctr_.drop_no_mbuf;  // the retransmission timer tries again
      return;
    }
  }
  // The frame is built in the mbuf's whole tailroom (frame_from_segment
  // returns 0 if it does not fit), then the lengths are set.
  auto* p = rte_pktmbuf_mtod(m, uint8_t*);
  const size_t room = rte_pktmbuf_tailroom(m);
  // IPv4 and IPv6 pick the destination MAC alike: the neighbour table, else
  // the MAC the current frame came from. Checksums the port offloads are
  // left to it (tx_cksum.hpp; IPv6 has no header checksum); the rest are
  // computed here.
  const bool v6 = seg.local6 != nullptr;
  const auto* mac = v6 ? neighbour6(*seg.remote6)
                       : seg.tuple.remote_ip == seen_ip_ ? seen_mac_ : neighbour(seg.tuple.remote_ip);
  const bool ip_off = !v6 && tx_ip_off_;
  const bool tcp_off = tx_tcp_off_;
  const size_t len =
      tcp::frame_from_segment(std::span<uint8_t>(p, room), seg, tpl_, mac ? *mac : reply_mac_, 0, !ip_off, !tcp_off);
  if (len == 0 || room < kMinFrame + 8) {
    ++ctr_.drop_frame_too_big;
    rte_pktmbuf_free(m);
    return;
  }
  const size_t wire_len = std::max(len, kMinFrame);
  // Ethernet padding, 8 bytes a store (a cookie SYN-ACK with MSS only is 58
  // bytes: one store, not a call to memset).
  for (size_t i = len; i < wire_len; i += 8) std::memset(p + i, 0, 8);
  rte_pktmbuf_data_len(m) = static_cast<uint16_t>(wire_len);
  rte_pktmbuf_pkt_len(m) = static_cast<uint32_t>(wire_len);
  if (ip_off || tcp_off) mark_tcp_tx_offload(m, p, len, ip_off, tcp_off);
  tx(m);
}

void Worker::handle_arp(rte_mbuf* m, const ArpRef& ref) {
  const wire::ArpView& a = ref.arp;
  const bool for_us = ours(a.target_ip());
  if (a.op() == 1 && for_us) {  // who-has one of our addresses
    ++ctr_.arp_requests;
    learn(a.sender_ip(), a.sender_mac());
    const wire::MacAddr peer = a.sender_mac();
    const uint32_t peer_ip = a.sender_ip();
    const uint32_t my_ip = a.target_ip();
    rte_pktmbuf_reset(m);
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kMinFrame));
    std::fill(p, p + kMinFrame, 0);
    wire::build_arp_reply(std::span<uint8_t>(p, kMinFrame), s_.port->mac, my_ip, peer, peer_ip);
    ++ctr_.arp_replies_sent;
    tx(m);
    return;
  }
  if (for_us) learn(a.sender_ip(), a.sender_mac());  // a reply (or gratuitous) addressed to us
  rte_pktmbuf_free(m);
}

// A frame whose checksum the port found bad (a port that reports them):
// counted and freed.
bool Worker::rx_cksum_bad(rte_mbuf* m) {
  if (rx_ip_ck_ && (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
    ++ctr_.drop_bad_ip_checksum;
    rte_pktmbuf_free(m);
    return true;
  }
  if (rx_l4_ck_ && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
    ++ctr_.drop_bad_tcp_checksum;
    rte_pktmbuf_free(m);
    return true;
  }
  return false;
}

// What the parser verifies of a frame the port reported on: parse_ less
// the checksums the port found good. Asked again by handle_other() rather
// than handed over, so that handle() keeps no copy of the flags in memory
// for the frames that are not TCP.
wire::ParseFlags Worker::rx_parse_flags(const rte_mbuf* m) const {
  wire::ParseFlags pf = parse_;
  if (rx_ip_ck_ && (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
    pf.verify_ip_checksum = false;
  }
  if (rx_l4_ck_ && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
    pf.verify_l4_checksum = false;
  }
  return pf;
}

[[gnu::always_inline]] inline void Worker::handle(rte_mbuf* m, tcp::Instant now) {
  ++ctr_.rx_packets;
  ctr_.rx_bytes += rte_pktmbuf_pkt_len(m);
  if (m->nb_segs != 1) {  // no scattered RX at our MTU
    ++ctr_.drop_parse_error;
    rte_pktmbuf_free(m);
    return;
  }
  // Checksums the NIC verified are not verified again; ones it found bad are dropped.
  if (rx_ck_ && rx_cksum_bad(m)) return;
  const wire::ParseFlags pf = rx_ck_ ? rx_parse_flags(m) : parse_;
  auto* data = rte_pktmbuf_mtod(m, uint8_t*);
  const std::span<uint8_t> frame(data, rte_pktmbuf_data_len(m));
  // IPv4 TCP parsed in place straight into the segment; anything else goes
  // through the full classification (ARP, ICMP, the rest).
  tcp::SegmentIn& seg = rx_seg_;  // every field written by segment_from_bytes: no zeroing per frame
  wire::TcpFrameView view;
  wire::ParseError err{};
  switch (tcp::segment_from_bytes(frame, pf, seg, view, err)) {
    case wire::TcpFrameParse::kTcp: break;
    case wire::TcpFrameParse::kNotTcp: handle_other(m, frame); return;
    case wire::TcpFrameParse::kError:
      count_parse_error(ctr_, err);
      rte_pktmbuf_free(m);
      return;
  }
  if (seg.v6()) {
    if (!accept_tcp6(m, seg, view.eth_dst())) return;
  } else {
    // TCP. To one of our addresses, unicast, from a plausible unicast source.
    const uint32_t src = seg.tuple.remote_ip;
    const uint32_t dst = seg.tuple.local_ip;
    if (!ours(dst) || (view.eth_dst()[0] & 1) != 0) {
      ++ctr_.drop_not_for_us;
      rte_pktmbuf_free(m);
      return;
    }
    // The source as the last frame's (one client, many segments): checked
    // and learnt already (seen_ip_, worker.hpp).
    uint64_t key;
    std::memcpy(&key, view.eth_src(), 8);  // source MAC + EtherType
    if (src != seen_ip_ || key != seen_key_) [[unlikely]] {
      if (bad_source(src, view.eth_src())) {
        ++ctr_.drop_bad_source;  // never answered, not even with RST
        rte_pktmbuf_free(m);
        return;
      }
      wire::MacAddr src_mac;
      std::memcpy(src_mac.data(), view.eth_src(), 6);
      learn(src, src_mac);
      reply_mac_ = src_mac;
      seen_ip_ = src;
      seen_key_ = key;
      seen_mac_ = &neigh_[neigh_slot(src)].mac;
    }
  }
  to_stack(m, seg, now);
}

// A TCP segment for us from a valid source (IPv4 or IPv6), its source MAC
// learnt: to the driver, then the stack; the mbuf is taken back after.
[[gnu::always_inline]] inline void Worker::to_stack(rte_mbuf* m, const tcp::SegmentIn& seg, tcp::Instant now) {
  if (s_.driver != nullptr && s_.driver->on_tcp(*this, seg, now)) {
    rte_pktmbuf_free(m);
    return;
  }
  // The stack of the polling core answers new SYNs with cookies while
  // overloaded (load_shed.hpp); owners of dispatched flows never are.
  if (shed_.overloaded() && LoadShed::new_syn(seg.flags)) ++ctr_.shed_to_cookies;
  // A reply may reuse this mbuf only if nothing still points into it.
  reuse_ = seg.payload.empty() ? m : nullptr;
  stack_->on_segment(seg, now);
  if (reuse_ != nullptr || seg.payload.size() > 0) recycle(m);  // not sent as a reply
  reuse_ = nullptr;
}

// A source never answered, not even with RST: unspecified, broadcast,
// multicast (class D/E), loopback, ours, a multicast MAC, or the directed
// broadcast of one of our subnets.
bool Worker::bad_source(uint32_t src, const uint8_t* src_mac) const {
  const uint8_t top = static_cast<uint8_t>(src >> 24);
  if (src == 0 || src == 0xFFFFFFFFu || (top >= 224) || top == 127 || ours(src) || (src_mac[0] & 1) != 0) {
    return true;
  }
  if (src < bcast_lo_ || src > bcast_hi_) return false;  // every source but (near) a broadcast: one compare each
  return std::find(own_bcast_.begin(), own_bcast_.end(), src) != own_bcast_.end();
}

// Not IPv4 TCP: ARP, ICMP echo, or dropped by kind.
void Worker::handle_other(rte_mbuf* m, std::span<uint8_t> frame) {
  const auto f = wire::parse_frame(frame, rx_ck_ ? rx_parse_flags(m) : parse_);
  if (!f) {
    count_parse_error(ctr_, f.error());
    rte_pktmbuf_free(m);
    return;
  }
  switch (f->kind) {
    case wire::FrameKind::kArp: handle_arp(m, ArpRef{f->arp}); return;
    case wire::FrameKind::kIpv4Icmp:
      if (ours(f->ip.dst()) && !multicast_mac(f->eth.src())) {
        const size_t n = wire::icmp_echo_reply_in_place(frame);
        if (n > 0) {
          rte_pktmbuf_data_len(m) = static_cast<uint16_t>(n);
          rte_pktmbuf_pkt_len(m) = static_cast<uint32_t>(n);
          m->ol_flags = 0;
          ++ctr_.icmp_echo_replies;
          tx(m);
          return;
        }
      }
      ++ctr_.drop_other_protocol;
      rte_pktmbuf_free(m);
      return;
    case wire::FrameKind::kIpv4Tcp:  // parse_tcp_frame() took these; never here
    case wire::FrameKind::kIpv4Other: ++ctr_.drop_other_protocol; rte_pktmbuf_free(m); return;
    case wire::FrameKind::kIpv6Icmp: handle_icmp6(m, frame, *f); return;
    case wire::FrameKind::kIpv6Tcp:  // parse_tcp_frame() took these; never here
    case wire::FrameKind::kIpv6Other: ++ctr_.drop_other_protocol; rte_pktmbuf_free(m); return;
    case wire::FrameKind::kOther: ++ctr_.drop_non_ip; rte_pktmbuf_free(m); return;
  }
}

void Worker::drain(tcp::Instant now) {
  draining_ = true;
  stack_->stop_listening();
  stack_->close_all(now);
}

// Worker 0 of a dispatching port: segments of flows other workers own go to
// them; the rest (its own flows, ARP, ICMP, anything unreadable) it handles.
// Owners take what worker 0 handed them. Returns the packets handled here.
uint16_t Worker::receive(rte_mbuf** rx, tcp::Instant now) {
  if (!polls_port_) {
    const uint16_t n = dispatch_->from_dispatcher(s_.index, rx, kBurst);
    for (uint16_t i = 0; i < n; ++i) handle(rx[i], now);
    return n;
  }
  if (!link_ok_) return 0;  // a port that is down is not polled
  const uint16_t n = rte_eth_rx_burst(s_.port_id, s_.rx_queue, rx, kBurst);
  if (shed_.on_burst(n, kBurst, now.ns())) {
    stack_->set_overloaded(shed_.overloaded());  // dispatched owners keep their own backlog policy
    if (shed_.overloaded()) ++ctr_.overload_entered;
  }
  if (shed_.overloaded()) ++ctr_.overload_loops;
  const uint16_t kept = shed_.active() ? shed_burst(rx, n) : n;
  if (dispatch_ == nullptr) {
    if (kept > 1 && stack_->tables_large()) prefetch_flows(rx, kept);
    // Headers of the next frame are fetched while this one is handled.
    if (kept > 0) rte_prefetch0(rte_pktmbuf_mtod(rx[0], const void*));
    for (uint16_t i = 0; i < kept; ++i) {
      if (i + 1 < kept) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], const void*));
      handle(rx[i], now);
    }
    return n;
  }
  const uint16_t workers = dispatch_->workers();
  for (uint16_t i = 0; i < kept; ++i) {
    rte_mbuf* m = rx[i];
    const std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
    // The hash the NIC's RSS would take (ipv4-tcp / ipv6-tcp), so the owner
    // is the core the NIC would pick. IPv4 without options first (no
    // FlowPeek built); the rest as peek_tcp_flow() reads it.
    uint16_t owner;
    wire::FlowTuple4 t;
    if (wire::peek_tcp4_tuple(frame, t)) [[likely]] {
      owner = owner_for(hash4_->hash_memo(t.src_ip, t.dst_ip, t.src_port, t.dst_port), workers);
    } else {
      const auto flow = wire::peek_tcp_flow(frame, v6_);
      owner = !flow ? 0
          : flow->family == wire::IpFamily::kV6
              ? owner_for(hasher_.hash6(flow->src_ip6.b, flow->dst_ip6.b, flow->src_port, flow->dst_port), workers)
              : owner_for(hash4_->hash_memo(flow->src_ip, flow->dst_ip, flow->src_port, flow->dst_port), workers);
    }
    if (owner == s_.index) {
      handle(m, now);
    } else if (dispatch_->to_owner(owner, m)) {
      ++ctr_.dispatched;
    } else {
      ++ctr_.drop_dispatch_full;
      rte_pktmbuf_free(m);
    }
  }
  return n;
}

// With more connections than the caches hold, each segment's lookup misses
// twice: the index slot, then the record it names (issue 12: 1,034 busy
// cycles per packet holding 1K connections, 1,839 holding 10M). Two passes
// over the burst start those loads for every frame first, so they overlap
// instead of each stalling the frame that needs it (DPDK's l3fwd and
// rte_hash_lookup_bulk do the same in stages).
void Worker::prefetch_flows(rte_mbuf* const* rx, uint16_t n) {
  std::array<uint32_t, kBurst> home;
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const std::span<const uint8_t> frame(rte_pktmbuf_mtod(rx[i], const uint8_t*), rte_pktmbuf_data_len(rx[i]));
    wire::FlowTuple4 t;
    if (wire::peek_tcp4_tuple(frame, t)) [[likely]] {
      home[k++] = stack_->prefetch_flow(tcp::FourTuple{t.dst_ip, t.src_ip, t.dst_port, t.src_port});
      continue;
    }
    const auto flow = wire::peek_tcp_flow(frame);
    if (!flow) continue;
    home[k++] = stack_->prefetch_flow(tcp::FourTuple{flow->dst_ip, flow->src_ip, flow->dst_port, flow->src_port});
  }
  for (uint16_t j = 0; j < k; ++j) stack_->prefetch_record(home[j]);
}

// LoadShed over one burst: drops (and counts) the new SYNs it sheds, keeps
// the rest in order at the front of `rx`; returns how many are kept.
uint16_t Worker::shed_burst(rte_mbuf** rx, uint16_t n) {
  std::array<uint8_t, kBurst> flags{};
  bool mixed = false;
  for (uint16_t i = 0; i < n; ++i) {
    const auto flow = wire::peek_tcp_flow(
        std::span<const uint8_t>(rte_pktmbuf_mtod(rx[i], const uint8_t*), rte_pktmbuf_data_len(rx[i])), v6_);
    flags[i] = flow ? flow->flags : 0;
    mixed = mixed || !LoadShed::new_syn(flags[i]);
  }
  shed_.begin_burst(mixed);
  uint16_t kept = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = rx[i];
    switch (shed_.judge(flags[i])) {
      case LoadShed::Verdict::kHandle:
        rx[kept++] = m;
        continue;
      case LoadShed::Verdict::kShedOverload: ++ctr_.shed_syn_overload; break;
      case LoadShed::Verdict::kShedTxFull: ++ctr_.shed_syn_tx_full; break;
    }
    ++ctr_.rx_packets;
    ctr_.rx_bytes += rte_pktmbuf_pkt_len(m);
    rte_pktmbuf_free(m);
  }
  return kept;
}

void Worker::take_neighbours() {
  NeighbourNote note;
  while (dispatch_->next_neighbour(s_.index, note)) {
    if (note.v6) {
      learn6(note.ip6, note.mac);
    } else {
      learn(note.ip, note.mac);
    }
  }
}

// Worker 0 transmits what owners without a TX queue of their own handed over.
void Worker::transmit_for_owners() {
  std::array<rte_mbuf*, kBurst> batch{};
  for (uint16_t o = 1; o < dispatch_->workers(); ++o) {
    const uint16_t n = dispatch_->from_owner(o, batch.data(), kBurst);
    for (uint16_t i = 0; i < n; ++i) tx(batch[i]);
  }
}

// At stop: owners report their last flush; worker 0 keeps forwarding their
// frames (their RSTs) until all have, for at most a second.
void Worker::finish_dispatch() {
  if (s_.index != 0) {
    dispatch_->owner_done();
    return;
  }
  if (dispatch_->owners_transmit()) return;
  const uint64_t give_up = rte_rdtsc() + clock_.hz();
  for (;;) {
    const bool done = dispatch_->owners_done();  // read before the last drain
    transmit_for_owners();
    flush();
    if (done || rte_rdtsc() > give_up) break;
  }
}

void Worker::start(uint64_t tsc_hz, uint64_t tsc) {
  clock_ = TscClock(tsc_hz, tsc);
  if (s_.gratuitous_arp && polls_port_) {
    send_gratuitous_arp();
    send_unsolicited_na();
  }
  forwards_ = dispatch_ != nullptr && s_.index == 0 && !dispatch_->owners_transmit();
  // Each pass that may touch the port is marked for UnmapGuard (a PMD's
  // munmap() from the control thread waits for the pass to end).
  if (mark_ == nullptr && (polls_port_ || transmits_)) mark_ = UnmapGuard::attach();
}

uint16_t Worker::pass(uint64_t tsc, RunState st) {
  const tcp::Instant now = now_from_tsc(tsc);
  UnmapGuard::enter(mark_);
  if (s_.link_up != nullptr) {
    const bool up = s_.link_up->load(std::memory_order_relaxed);
    if (up != link_ok_) ++(up ? ctr_.link_ups : ctr_.link_downs);
    link_ok_ = up;
    if (!up) ++ctr_.link_down_loops;
  }
  if (st == RunState::kDraining && !draining_) drain(now);
  if (dispatch_ != nullptr && s_.index != 0) take_neighbours();
  uint16_t n = receive(rx_.data(), now);
  for (uint16_t b = 1; b < s_.rx_bursts && n == b * kBurst; ++b) n += receive(rx_.data(), now);
  // The stack's timers have the wheel's tick as granularity: they run
  // once per tick (RFC timers are not late by more than that).
  if (timer_gate_.due(now)) stack_->advance(now);
  if (s_.driver != nullptr) s_.driver->on_loop(*this, now);
  if (forwards_) transmit_for_owners();
  flush();
  // Spares beyond kSpareKeep go back to the pool in one call, and all of
  // them once a pass receives nothing: an idle worker holds no mbuf, so the
  // pool's in-use count returns to its start after a burst (test/overload).
  const uint16_t keep = n == 0 ? 0 : kSpareKeep;
  if (spares_ > keep) {
    rte_mempool_put_bulk(s_.pool, reinterpret_cast<void* const*>(spare_.data() + keep), spares_ - keep);
    spares_ = keep;
  }
  UnmapGuard::leave(mark_);
  return n;
}

void Worker::run(const std::atomic<int>& state) {
  start(rte_get_tsc_hz(), rte_rdtsc());
  for (;;) {
    const int st = state.load(std::memory_order_relaxed);
    const uint64_t t0 = rte_rdtsc();
    if (st == static_cast<int>(RunState::kStopping)) break;
    const uint16_t n = pass(t0, static_cast<RunState>(st));
    const uint64_t t1 = rte_rdtsc();
    ++ctr_.loops;
    ctr_.total_cycles += t1 - t0;
    if (n > 0) {
      ++ctr_.busy_loops;
      ctr_.busy_cycles += t1 - t0;
    }
    if (query_.load(std::memory_order_relaxed) != nullptr) take_query(now_from_tsc(t0));
    if (t1 >= next_publish_ || publish_asked_.load(std::memory_order_relaxed)) {
      publish_asked_.store(false, std::memory_order_relaxed);
      publish();
      next_publish_ = t1 + clock_.hz() / 1000;
    }
  }
  UnmapGuard::enter(mark_);
  if (s_.driver != nullptr) s_.driver->on_stop(*this, now_from_tsc(rte_rdtsc()));
  stack_->abort_all(now_from_tsc(rte_rdtsc()));
  flush();
  if (spares_ > 0) {  // the pool may be freed once run() returns
    rte_mempool_put_bulk(s_.pool, reinterpret_cast<void* const*>(spare_.data()), spares_);
    spares_ = 0;
  }
  if (dispatch_ != nullptr) finish_dispatch();
  publish();
  take_query(now_from_tsc(rte_rdtsc()));
  UnmapGuard::leave(mark_);
  UnmapGuard::detach(mark_);
  mark_ = nullptr;
  finished_.store(true, std::memory_order_release);
}

}  // namespace synmill::dp
