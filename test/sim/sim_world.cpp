#include "sim_world.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <array>
#include <deque>
#include <memory>
#include <string>

#include "tcp/segment_codec.hpp"
#include "wire/frame.hpp"

namespace synmill::sim {

using tcp::CloseReason;
using tcp::ConnId;
using tcp::FourTuple;
using tcp::Stack;

namespace {

constexpr uint32_t kServerIp = 0xC6120002;      // 198.18.0.2
constexpr uint32_t kClientIpBase = 0xC6120010;  // 198.18.0.16 and up
// IPv6 (2001:2::/48, RFC 5180): the server 2001:2::2, clients 2001:2::100 and up.
const wire::Ipv6Addr kServer6 = wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});
wire::Ipv6Addr client6(uint32_t i) {
  return wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, static_cast<uint16_t>(0x100 + i)});
}
// server_plan_ key of an IPv6 client: never an IPv4 client address.
constexpr uint32_t kClient6Key = 0xFFFF0000u;
constexpr uint16_t kServerPort = 80;
constexpr uint64_t kC2sSalt = 0x243F6A8885A308D3ULL;
constexpr uint64_t kS2cSalt = 0x13198A2E03707344ULL;
constexpr uint64_t kStray = UINT64_MAX;  // user word of a server connection no plan owns

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Bytes [k, k + out.size()) of the stream: one splitmix per 8 bytes.
void stream_fill(uint64_t seed, uint64_t k, std::span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t w = splitmix(seed ^ ((k >> 3) * 0xD6E8FEB86659FD93ULL));
    for (uint32_t b = static_cast<uint32_t>(k & 7); b < 8 && i < out.size(); ++b, ++i, ++k)
      out[i] = static_cast<uint8_t>(w >> (b * 8));
  }
}

// Whether `d` equals bytes [k, k + d.size()) of the stream.
bool stream_equal(uint64_t seed, uint64_t k, std::span<const uint8_t> d) {
  std::array<uint8_t, 512> buf;
  for (size_t i = 0; i < d.size(); i += buf.size()) {
    const size_t n = std::min(buf.size(), d.size() - i);
    stream_fill(seed, k + i, std::span<uint8_t>(buf.data(), n));
    if (std::memcmp(buf.data(), d.data() + i, n) != 0) return false;
  }
  return true;
}


uint64_t peer_key(uint32_t ip, uint16_t port) { return (static_cast<uint64_t>(ip) << 16) | port; }

struct Plan {
  uint32_t c2s = 0, s2c = 0;
  CloseMode mode = CloseMode::kClientFirst;
  uint64_t seed = 0;
  ConnId cid, sid;
  uint64_t c_sent = 0, c_rcvd = 0, s_sent = 0, s_rcvd = 0;
  bool c_open = false, s_open = false, c_closed = false, s_closed = false;
  bool close_issued = false, finished = false;
  tcp::Instant opened_at{}, done_at{};
  // Last time a segment of this connection reached the server while the
  // server held it, and when the server closed it: maybe_finish checks an
  // idle reclaim against them.
  tcp::Instant s_heard{}, s_closed_at{};
  CloseReason c_reason = CloseReason::kNormal, s_reason = CloseReason::kNormal;
};

}  // namespace

class World {
 public:
  explicit World(const SimConfig& cfg);
  SimResult run();

 private:
  // Transmit side of one stack.
  class Sink final : public tcp::TxSink {
   public:
    Sink(World& w, bool client) : w_(w), client_(client) {}
    void emit(const tcp::SegmentOut& seg) override { w_.transmit(client_, seg); }

   private:
    World& w_;
    bool client_;
  };

  class ClientApp final : public tcp::App {
   public:
    explicit ClientApp(World& w) : w_(w) {}
    void on_open(Stack& s, ConnId id) override;
    uint32_t on_data(Stack& s, ConnId id, std::span<const uint8_t> d) override;
    void on_writable(Stack& s, ConnId id) override { w_.pump(w_.plan_of(s, id), true); }
    void on_peer_close(Stack& s, ConnId id) override;
    void on_closed(Stack& s, ConnId id, CloseReason r) override;

   private:
    World& w_;
  };

  class ServerApp final : public tcp::App {
   public:
    explicit ServerApp(World& w) : w_(w) {}
    void on_open(Stack& s, ConnId id) override;
    uint32_t on_data(Stack& s, ConnId id, std::span<const uint8_t> d) override;
    void on_writable(Stack& s, ConnId id) override {
      if (s.user(id) != kStray) w_.pump(w_.plan_of(s, id), false);
    }
    void on_peer_close(Stack& s, ConnId id) override;
    void on_closed(Stack& s, ConnId id, CloseReason r) override;

   private:
    World& w_;
  };

  static tcp::StackConfig stack_config(const SimConfig& cfg);
  static tcp::StackConfig server_config(const SimConfig& cfg);
  static tcp::StackConfig client_config(const SimConfig& cfg);
  static tcp::StackSecrets secrets(uint64_t seed, uint64_t salt);

  void transmit(bool from_client, const tcp::SegmentOut& seg);
  void deliver(bool to_server, const std::vector<uint8_t>& frame);
  Plan& plan_of(Stack& s, ConnId id) { return plans_[s.user(id)]; }
  // The plan whose client sent `seg` (the newest with its address and port).
  Plan* plan_from_client(const tcp::SegmentIn& seg);
  // A lossy link lost everything the client sent for the server's idle
  // timeout: the server heard nothing for that long before it reclaimed.
  bool idle_reclaim_verified(const Plan& p) const;
  void pump(Plan& p, bool client);
  void check_done(Plan& p);
  void maybe_finish(Plan& p);
  bool start_next();
  void run_closes();
  void check_step_invariants();
  // No frame is ever lost: no random loss, no capacity limit, no ACK bursts.
  bool clean_link() const {
    return cfg_.link.loss == 0 && cfg_.link.rate_bps == 0 && cfg_.link.ack_burst_loss == 0;
  }
  // Where a check failed: the connection's ports and sequence state, the
  // stream offset and length, the simulated time (SYNMILL_SIM_TRACE then
  // shows that port's frames).
  std::string where(const Stack& s, ConnId id, uint64_t offset, size_t len) const {
    const auto i = s.info(id);
    if (!i) return " (connection gone)";
    return " (ports " + std::to_string(i->tuple.local_port) + "/" + std::to_string(i->tuple.remote_port) +
           ", offset " + std::to_string(offset) + ", " + std::to_string(len) + " bytes, rcv_nxt " +
           std::to_string(i->rcv_nxt.raw()) + ", at " + std::to_string(now_.ns() / 1000) + " us)";
  }
  void fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }

  SimConfig cfg_;
  Instant now_{};
  Link c2s_, s2c_;
  Sink client_sink_{*this, true}, server_sink_{*this, false};
  Stack client_, server_;
  ClientApp client_app_{*this};
  ServerApp server_app_{*this};
  std::vector<Plan> plans_;
  std::unordered_map<uint64_t, uint32_t> server_plan_;  // client ip:port -> newest plan
  std::vector<uint32_t> client6_tags_;  // Stack::add_local6() of each client IPv6 address
  std::deque<uint32_t> pending_close_;
  std::deque<std::pair<Instant, uint32_t>> rst_fallback_;
  uint32_t next_plan_ = 0;
  uint32_t active_ = 0;
  uint64_t port_cursor_ = 0;
  std::array<uint8_t, 4096> frame_buf_{};
  std::vector<uint8_t> rx_buf_;
  std::vector<uint8_t> chunk_;
  uint64_t hash_ = 0xCBF29CE484222325ULL;
  bool trace_ = std::getenv("SYNMILL_SIM_TRACE") != nullptr;
  uint64_t frames_ = 0;
  uint64_t v6_opened_ = 0;  // connections the client opened over IPv6
  std::string error_;
  SimResult res_;
};

tcp::StackConfig World::stack_config(const SimConfig& cfg) {
  tcp::StackConfig c;
  c.max_conns = std::max<uint32_t>(4 * cfg.concurrency, 1024);
  c.max_time_wait = 131072;
  c.send_buf = cfg.send_buf;
  c.rcv_wnd = cfg.rcv_wnd;
  c.sack = cfg.sack;
  // chunks for every slot's send queue and receive buffer
  c.send_chunks = (cfg.concurrency + 16) * ((c.send_buf + c.rcv_wnd) / c.chunk_size + 4);
  c.time_wait = cfg.time_wait;
  c.syn_retries = 10;
  c.synack_retries = 10;
  c.backlog = c.max_conns;
  c.accept_queue = c.max_conns;
  c.cookies = tcp::CookieMode::kOverflow;
  c.close_wait_timeout = tcp::Duration::s(120);
  c.fin_wait2_timeout = tcp::Duration::s(60);
  // The overload policies stay out of the way unless a profile asks for them
  // (server_config): no orphan bound below the table, orphans retried like
  // live connections. With them, a FIN and the RST after it can both be lost
  // and leave the peer ESTABLISHED for good: only keep-alive or an idle
  // timeout on the peer recovers from that (the overload profile has both).
  c.max_orphans = c.max_conns;
  c.orphan_retries = c.fin_retries;
  return c;
}

tcp::StackConfig World::server_config(const SimConfig& cfg) {
  tcp::StackConfig c = stack_config(cfg);
  if (cfg.server_max_conns != 0) {
    c.max_conns = cfg.server_max_conns;
    c.backlog = c.accept_queue = c.max_conns;
  }
  if (cfg.server_send_chunks != 0) c.send_chunks = cfg.server_send_chunks;
  if (cfg.server_max_orphans != 0) c.max_orphans = cfg.server_max_orphans;
  c.max_orphans = std::min(c.max_orphans, c.max_conns);
  c.orphan_retries = cfg.server_orphan_retries;
  c.idle_timeout = cfg.server_idle_timeout;
  return c;
}

tcp::StackConfig World::client_config(const SimConfig& cfg) {
  tcp::StackConfig c = stack_config(cfg);
  c.keepalive_time = cfg.client_keepalive;
  c.keepalive_intvl = tcp::Duration::s(2);
  c.keepalive_probes = 3;
  return c;
}

tcp::StackSecrets World::secrets(uint64_t seed, uint64_t salt) {
  tcp::StackSecrets s;
  s.isn_key = {splitmix(seed ^ salt), splitmix(seed ^ salt ^ 1)};
  s.cookie_key = {splitmix(seed ^ salt ^ 2), splitmix(seed ^ salt ^ 3)};
  s.table_seed = splitmix(seed ^ salt ^ 4);
  s.ts_offset = static_cast<uint32_t>(splitmix(seed ^ salt ^ 5));
  return s;
}

World::World(const SimConfig& cfg)
    : cfg_(cfg),
      c2s_(cfg.link, splitmix(cfg.seed ^ 0xA)),
      s2c_(cfg.link, splitmix(cfg.seed ^ 0xB)),
      client_(client_config(cfg), secrets(cfg.seed, 0x1111), client_sink_, Instant{}),
      server_(server_config(cfg), secrets(cfg.seed, 0x2222), server_sink_, Instant{}) {
  server_.listen(kServerPort, server_app_);
  if (!server_.add_local6(kServer6)) fail("add_local6 (server)");
  for (uint32_t i = 0; i < cfg.client_addrs; ++i) {
    const auto tag = client_.add_local6(client6(i));
    if (!tag) fail("add_local6 (client)");
    client6_tags_.push_back(tag.value_or(0));
  }
  plans_.resize(cfg.connections);
  uint64_t r = splitmix(cfg.seed ^ 0xC0FFEE);
  for (auto& p : plans_) {
    r = splitmix(r);
    const uint32_t span = cfg.max_bytes - std::min(cfg.min_bytes, cfg.max_bytes) + 1;
    p.c2s = cfg.min_bytes + static_cast<uint32_t>(r % span);
    r = splitmix(r);
    p.s2c = cfg.min_bytes + static_cast<uint32_t>(r % span);
    r = splitmix(r);
    p.mode = static_cast<CloseMode>(r % 4);
    p.seed = splitmix(r);
  }
  chunk_.resize(4096);
}

void World::transmit(bool from_client, const tcp::SegmentOut& seg) {
  tcp::FrameAddrs a;
  a.src_mac = {2, 0, 0, 0, 0, static_cast<uint8_t>(from_client ? 1 : 2)};
  a.dst_mac = {2, 0, 0, 0, 0, static_cast<uint8_t>(from_client ? 2 : 1)};
  const size_t n = tcp::frame_from_segment(frame_buf_, seg, a);
  if (n == 0) {
    fail("frame_from_segment failed");
    return;
  }
  if (trace_)  // SYNMILL_SIM_TRACE=1: one line per frame on stderr, for debugging
    std::fprintf(stderr, "%lld %c port=%u seq=%u ack=%u len=%u fl=%x win=%u sack=%u\n",
                 static_cast<long long>(now_.ns() / 1000), from_client ? 'C' : 'S',
                 from_client ? seg.tuple.local_port : seg.tuple.remote_port, seg.seq.raw(),
                 seg.ack.raw(), seg.payload_len, seg.flags, seg.window, seg.opts.sack_count);
  // FNV-style over 8-byte words (the trace hash only has to be deterministic).
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, frame_buf_.data() + i, 8);
    hash_ = (hash_ ^ w) * 0x100000001B3ULL;
  }
  for (; i < n; ++i) hash_ = (hash_ ^ frame_buf_[i]) * 0x100000001B3ULL;
  hash_ = (hash_ ^ static_cast<uint64_t>(now_.ns())) * 0x100000001B3ULL;
  ++frames_;
  const bool pure_ack = seg.payload_len == 0 && (seg.flags & ~(tcp::flag::kAck | tcp::flag::kPsh)) == 0;
  (from_client ? c2s_ : s2c_).send(frame_buf_.data(), n, now_, pure_ack);
}

void World::deliver(bool to_server, const std::vector<uint8_t>& frame) {
  wire::ParseFlags flags = wire::kVerifyChecksums;
  flags.accept_ipv6 = true;
  const auto f = wire::parse_frame(frame, flags);
  if (!f || (f->kind != wire::FrameKind::kIpv4Tcp && f->kind != wire::FrameKind::kIpv6Tcp)) {
    fail("a frame the stack built does not parse");
    return;
  }
  const tcp::SegmentIn seg = tcp::segment_from_frame(*f);
  // Only what reaches the server while it still holds the connection: a
  // segment that arrives after it reclaimed it finds no connection (the
  // server answers with a RST) and cannot have kept it from being idle.
  if (to_server)
    if (Plan* p = plan_from_client(seg); p != nullptr && !p->s_closed) p->s_heard = now_;
  (to_server ? server_ : client_).on_segment(seg, now_);
}

Plan* World::plan_from_client(const tcp::SegmentIn& seg) {
  uint32_t key_ip = seg.tuple.remote_ip;
  if (seg.v6()) key_ip = kClient6Key | static_cast<uint32_t>(((seg.remote6->b[14] << 8) | seg.remote6->b[15]) - 0x100);
  const auto it = server_plan_.find(peer_key(key_ip, seg.tuple.remote_port));
  return it == server_plan_.end() ? nullptr : &plans_[it->second];
}

bool World::idle_reclaim_verified(const Plan& p) const {
  return !clean_link() && p.s_reason == CloseReason::kIdleTimeout && cfg_.server_idle_timeout.count_ns() > 0 &&
         p.s_closed_at - p.s_heard >= cfg_.server_idle_timeout;
}

void World::pump(Plan& p, bool client) {
  Stack& s = client ? client_ : server_;
  const ConnId id = client ? p.cid : p.sid;
  uint64_t& sent = client ? p.c_sent : p.s_sent;
  const uint64_t total = client ? p.c2s : p.s2c;
  const uint64_t seed = p.seed ^ (client ? kC2sSalt : kS2cSalt);
  while (sent < total) {
    const uint64_t room = std::max<uint32_t>(s.send_space(id), 1);  // generate only what fits
    const auto len = static_cast<uint32_t>(std::min<uint64_t>({chunk_.size(), total - sent, room}));
    stream_fill(seed, sent, std::span<uint8_t>(chunk_.data(), len));
    const uint32_t took = s.send(id, std::span<const uint8_t>(chunk_.data(), len));
    sent += took;
    if (took < len) return;
  }
}

void World::check_done(Plan& p) {
  if (p.close_issued || !p.c_open || !p.s_open) return;
  if (p.c_rcvd == p.s2c && p.s_rcvd == p.c2s) {
    p.close_issued = true;
    p.done_at = now_;
    pending_close_.push_back(static_cast<uint32_t>(&p - plans_.data()));
  }
}

void World::maybe_finish(Plan& p) {
  if (p.finished || !p.c_closed || (p.s_open && !p.s_closed)) return;
  p.finished = true;
  --active_;
  if (!p.c_open) {
    ++res_.failed_connect;
    if (clean_link() && cfg_.link.duplicate == 0) fail("connect failed on a clean link");
    return;
  }
  if (p.c_rcvd != p.s2c || p.s_rcvd != p.c2s) {
    const bool both_normal = p.c_reason == CloseReason::kNormal &&
                             (!p.s_open || p.s_reason == CloseReason::kNormal);
    if (cfg_.allow_resets && !both_normal) {
      ++res_.reset_early;
      return;
    }
    // The link lost every segment the client sent (first transmission and
    // retransmissions alike) for the server's whole idle timeout, so the
    // server, hearing nothing with nothing outstanding, reclaimed the
    // connection (RFC 9293 §3.8.4 leaves idle policy to the host; Linux has no
    // such timeout, synmill's is off unless configured). The sim saw every
    // delivery, so this is checked rather than assumed.
    if (!both_normal && idle_reclaim_verified(p)) {
      ++res_.idle_reclaimed_early;
      return;
    }
    fail(std::string("connection closed before its data arrived (") + tcp::to_string(p.c_reason) + "/" +
         tcp::to_string(p.s_reason) + ", client got " + std::to_string(p.c_rcvd) + " of " +
         std::to_string(p.s2c) + ", server got " + std::to_string(p.s_rcvd) + " of " +
         std::to_string(p.c2s) + ", plan " + std::to_string(&p - plans_.data()) + ", at " +
         std::to_string(now_.ns() / 1000) + " us)");
    return;
  }
  ++res_.completed;
  res_.bytes += p.c2s + p.s2c;
  res_.transfer_time = res_.transfer_time + (p.done_at - p.opened_at);
  const bool graceful = p.mode != CloseMode::kClientRst;
  if (graceful && p.c_reason == CloseReason::kNormal && p.s_reason == CloseReason::kNormal) {
    ++res_.close_normal;
    return;
  }
  ++res_.close_other;
  if (graceful && clean_link())
    fail(std::string("graceful close ended ") + tcp::to_string(p.c_reason) + "/" +
         tcp::to_string(p.s_reason) + " on a clean link");
  // The abort waits until the server has acknowledged every byte
  // (run_closes). On a lossy link those ACKs can stay lost for longer than
  // the server's idle timeout (server_idle_timeout): the server, with nothing
  // outstanding and nothing heard, then reclaims the connection first and
  // its RST ends the client's side (reset / idle_timeout, counted in
  // close_other). Every byte arrived; that is the idle reclaim doing its job.
  const bool idle_reclaimed = !clean_link() && p.c_reason == CloseReason::kReset &&
                              p.s_reason == CloseReason::kIdleTimeout;
  if (!graceful && p.c_reason != CloseReason::kAborted && !cfg_.allow_resets && !idle_reclaimed)
    fail(std::string("client abort not reported as aborted (") + tcp::to_string(p.c_reason) + "/" +
         tcp::to_string(p.s_reason) + ")");
}

// ---- applications ------------------------------------------------------------------

void World::ClientApp::on_open(Stack& s, ConnId id) {
  Plan& p = w_.plan_of(s, id);
  p.c_open = true;
  w_.pump(p, true);
  w_.check_done(p);
}

uint32_t World::ClientApp::on_data(Stack& s, ConnId id, std::span<const uint8_t> d) {
  Plan& p = w_.plan_of(s, id);
  const uint64_t seed = p.seed ^ kS2cSalt;
  if (!stream_equal(seed, p.c_rcvd, d)) w_.fail("client received a wrong byte" + w_.where(s, id, p.c_rcvd, d.size()));
  p.c_rcvd += d.size();
  if (p.c_rcvd > p.s2c) w_.fail("client received more bytes than sent");
  w_.check_done(p);
  return static_cast<uint32_t>(d.size());
}

void World::ClientApp::on_peer_close(Stack& s, ConnId id) {
  Plan& p = w_.plan_of(s, id);
  if (p.c_rcvd != p.s2c) w_.fail("client saw FIN before all data");
  if (p.mode == CloseMode::kServerFirst) s.close(id);
}

void World::ClientApp::on_closed(Stack& s, ConnId id, CloseReason r) {
  Plan& p = w_.plan_of(s, id);
  p.c_closed = true;
  p.c_reason = r;
  w_.maybe_finish(p);
}

void World::ServerApp::on_open(Stack& s, ConnId id) {
  const auto info = s.info(id);
  uint32_t key_ip = info->tuple.remote_ip;
  if (tcp::is_ipv6(info->tuple)) {  // the remote field is a table index: key by the address
    const tcp::Addrs6 a = s.addrs6(info->tuple);
    key_ip = kClient6Key | static_cast<uint32_t>(((a.remote->b[14] << 8) | a.remote->b[15]) - 0x100);
  }
  const auto it = w_.server_plan_.find(peer_key(key_ip, info->tuple.remote_port));
  if (it == w_.server_plan_.end()) {
    w_.fail("server accepted a connection nobody opened");
    s.abort(id);
    return;
  }
  s.user(id) = it->second;
  Plan& p = w_.plans_[it->second];
  if (p.s_open) {
    // A cookie ACK retransmitted after the server reclaimed the connection
    // opens it again: only possible when resets are allowed.
    if (!w_.cfg_.allow_resets) w_.fail("server accepted the same connection twice");
    s.user(id) = kStray;
    s.abort(id);
    return;
  }
  p.sid = id;
  p.s_open = true;
  w_.pump(p, false);
  w_.check_done(p);
}

uint32_t World::ServerApp::on_data(Stack& s, ConnId id, std::span<const uint8_t> d) {
  if (s.user(id) == kStray) return static_cast<uint32_t>(d.size());
  Plan& p = w_.plan_of(s, id);
  const uint64_t seed = p.seed ^ kC2sSalt;
  if (!stream_equal(seed, p.s_rcvd, d)) w_.fail("server received a wrong byte" + w_.where(s, id, p.s_rcvd, d.size()));
  p.s_rcvd += d.size();
  if (p.s_rcvd > p.c2s) w_.fail("server received more bytes than sent");
  w_.check_done(p);
  return static_cast<uint32_t>(d.size());
}

void World::ServerApp::on_peer_close(Stack& s, ConnId id) {
  if (s.user(id) == kStray) return;
  Plan& p = w_.plan_of(s, id);
  if (p.s_rcvd != p.c2s) w_.fail("server saw FIN before all data");
  if (p.mode == CloseMode::kClientFirst) s.close(id);
}

void World::ServerApp::on_closed(Stack& s, ConnId id, CloseReason r) {
  if (s.user(id) == kStray) return;
  Plan& p = w_.plan_of(s, id);
  p.s_closed = true;
  p.s_reason = r;
  p.s_closed_at = w_.now_;
  w_.maybe_finish(p);
}

// ---- the loop ------------------------------------------------------------------------

bool World::start_next() {
  Plan& p = plans_[next_plan_];
  for (int tries = 0; tries < 64; ++tries) {
    const uint64_t k = port_cursor_++;
    FourTuple t;
    const auto addr = static_cast<uint32_t>(k % cfg_.client_addrs);
    t.local_ip = kClientIpBase + addr;
    t.local_port = static_cast<uint16_t>(1024 + (k / cfg_.client_addrs) % cfg_.client_ports);
    t.remote_ip = kServerIp;
    t.remote_port = kServerPort;
    const bool v6 = (p.seed >> 40) % 100 < cfg_.ipv6_percent;
    const ConnId id = v6 ? client_.connect6(client6_tags_[addr], t.local_port, kServer6, kServerPort, client_app_, now_)
                         : client_.connect(t, client_app_, now_);
    if (!id.valid()) continue;  // tuple still in use or in TIME_WAIT here
    if (v6) ++v6_opened_;
    server_plan_[peer_key(v6 ? kClient6Key | addr : t.local_ip, t.local_port)] = next_plan_;
    p.cid = id;
    p.opened_at = now_;
    client_.user(id) = next_plan_;
    ++next_plan_;
    ++active_;
    return true;
  }
  return false;
}

void World::run_closes() {
  const size_t n = pending_close_.size();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t idx = pending_close_.front();
    pending_close_.pop_front();
    Plan& p = plans_[idx];
    switch (p.mode) {
      case CloseMode::kClientFirst: client_.close(p.cid); break;
      case CloseMode::kServerFirst: server_.close(p.sid); break;
      case CloseMode::kSimultaneous:
        client_.close(p.cid);
        server_.close(p.sid);
        break;
      case CloseMode::kClientRst: {
        // Abort only once the server acknowledged everything, so no byte is lost to the RST.
        const auto info = client_.info(p.cid);
        if (info && info->send_queued > 0) {
          pending_close_.push_back(idx);
          break;
        }
        client_.abort(p.cid);
        rst_fallback_.emplace_back(now_ + tcp::Duration::s(3), idx);
        break;
      }
    }
  }
  // An RST can be lost: the server then closes on its own and meets the
  // client's RST for the unknown connection, or times out.
  while (!rst_fallback_.empty() && rst_fallback_.front().first <= now_) {
    Plan& p = plans_[rst_fallback_.front().second];
    rst_fallback_.pop_front();
    if (!p.s_closed && server_.alive(p.sid)) server_.close(p.sid);
  }
}

void World::check_step_invariants() {
  for (const Stack* s : {&client_, &server_}) {
    const tcp::StateGauges g = s->gauges();
    uint32_t live = 0;
    for (int st = 0; st < tcp::kNumStates; ++st) {
      const auto state = static_cast<tcp::State>(st);
      if (state != tcp::State::kClosed && state != tcp::State::kListen && state != tcp::State::kTimeWait)
        live += g.count[st];
    }
    if (live != s->conn_count()) fail("per-state gauges disagree with the connection pool");
    if (g[tcp::State::kClosed] + live != s->config().max_conns) fail("slot accounting broken");
    if (s->timers_armed() > s->conn_count()) fail("a timer outlives its connection");
    if (s->orphan_count() > s->max_orphans()) fail("orphans above their bound");
  }
  res_.max_server_orphans = std::max(res_.max_server_orphans, server_.orphan_count());
}

SimResult World::run() {
  const Instant limit = Instant{} + cfg_.time_limit;
  for (;;) {
    if (!error_.empty()) break;
    if (now_ > limit) {
      if (std::getenv("SYNMILL_SIM_DEBUG") != nullptr) {
        int shown = 0;
        for (const Plan& p : plans_) {
          if (p.finished || shown++ > 10) continue;
          const auto ci = client_.info(p.cid);
          const auto si = server_.info(p.sid);
          std::fprintf(stderr, "plan %u mode %d c_open %d s_open %d c_closed %d s_closed %d c %s s %s c_rcvd %llu/%u s_rcvd %llu/%u issued %d\n",
                       static_cast<unsigned>(&p - plans_.data()), static_cast<int>(p.mode), p.c_open, p.s_open, p.c_closed, p.s_closed,
                       ci ? std::string(tcp::to_string(ci->state)).c_str() : "-", si ? std::string(tcp::to_string(si->state)).c_str() : "-",
                       static_cast<unsigned long long>(p.c_rcvd), p.s2c, static_cast<unsigned long long>(p.s_rcvd), p.c2s, p.close_issued);
        }
        for (const Plan& p : plans_) {
          if (p.finished) continue;
          if (const auto si = server_.info(p.sid))
            std::fprintf(stderr, "  server side: remote port %u rcv_nxt %u snd_una %u snd_nxt %u queued %u rcv_queued %u rtx_at %lld state_at %lld\n",
                         si->tuple.remote_port, si->rcv_nxt.raw(), si->snd_una.raw(), si->snd_nxt.raw(), si->send_queued,
                         si->rcv_queued, static_cast<long long>(si->rtx_at.ns() / 1000), static_cast<long long>(si->state_at.ns() / 1000));
        }
        std::fprintf(stderr, "next_plan %u active %u conns %u/%u\n", next_plan_, active_, client_.conn_count(), server_.conn_count());
      }
      fail("simulated time limit reached");
      break;
    }
    while (next_plan_ < plans_.size() && active_ < cfg_.concurrency && start_next()) {
    }
    Instant next = now_ + tcp::Duration::ms(1);
    if (!c2s_.empty()) next = std::min(next, c2s_.next_time());
    if (!s2c_.empty()) next = std::min(next, s2c_.next_time());
    now_ = std::max(now_, next);
    for (;;) {
      const bool c = !c2s_.empty() && c2s_.next_time() <= now_;
      const bool s = !s2c_.empty() && s2c_.next_time() <= now_;
      if (!c && !s) break;
      const bool to_server = c && (!s || c2s_.next_time() <= s2c_.next_time());
      (to_server ? c2s_ : s2c_).pop_due(now_, rx_buf_);
      deliver(to_server, rx_buf_);
    }
    client_.advance(now_);
    server_.advance(now_);
    run_closes();
    check_step_invariants();
    ++res_.steps;
    if (next_plan_ == plans_.size() && active_ == 0 && c2s_.empty() && s2c_.empty() &&
        client_.conn_count() == 0 && server_.conn_count() == 0 &&
        client_.time_wait_count() == 0 && server_.time_wait_count() == 0)
      break;
  }
  if (error_.empty()) {
    for (const Stack* s : {&client_, &server_}) {
      if (s->chunks_in_use() != 0) fail("send chunks leaked");
      if (s->timers_armed() != 0) fail("timers left armed");
      if (s->conn_count() != 0) fail("connection slots leaked");
      if (s->remote6_entries() != 0) fail("IPv6 address table entries leaked");
    }
    for (const Plan& p : plans_)
      if (!p.finished) fail("a connection never finished");
  }
  res_.ok = error_.empty();
  res_.error = error_;
  res_.trace_hash = hash_;
  res_.frames = frames_;
  res_.ipv6_opened = v6_opened_;
  res_.lost = c2s_.lost() + s2c_.lost();
  res_.link_overflow = c2s_.overflow() + s2c_.overflow();
  res_.ack_burst_lost = c2s_.ack_burst_lost() + s2c_.ack_burst_lost();
  res_.sim_time = now_ - Instant{};
  res_.client_ctr = client_.counters();
  res_.server_ctr = server_.counters();
  return res_;
}

SimResult run_simulation(const SimConfig& cfg) {
  auto w = std::make_unique<World>(cfg);
  return w->run();
}

}  // namespace synmill::sim
