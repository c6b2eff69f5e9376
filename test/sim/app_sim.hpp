#pragma once
// A simulation harness for any tcp::App (an application author's own): two
// Stacks on one manual clock, "client" and "server", joined by two seeded
// Links (loss, duplication, reordering, delay: sim_link.hpp). Every frame is
// built and parsed by lib/wire, as in the deterministic simulation.
//
//   AppSim sim(LinkParams{.loss = 0.05}, /*seed=*/7);
//   MyServer server;                 // the application under test
//   MyClient client;                 // a test-side application driving it
//   sim.server.listen(80, server);
//   sim.connect(80, client);
//   sim.run_until([&] { return client.done; }, Duration::s(120));
//
// Nothing reads a real clock: run_until() moves time to the next frame or by
// one timer tick when the links are idle, so timers (retransmission, the
// application's own set_timer / set_worker_timer) fire as they would.
#include <array>
#include <functional>
#include <vector>

#include "sim_link.hpp"
#include "tcp/segment_codec.hpp"
#include "tcp/stack.hpp"
#include "wire/frame.hpp"

namespace synmill::sim {

class AppSim {
 public:
  static constexpr uint32_t kServerIp = 0xC6120002;  // 198.18.0.2
  static constexpr uint32_t kClientIp = 0xC6120001;  // 198.18.0.1

  static tcp::StackConfig default_config() {
    tcp::StackConfig c;
    c.max_conns = 1024;
    c.max_time_wait = 4096;
    c.send_chunks = 4096;
    c.syn_retries = 10;
    c.synack_retries = 10;
    return c;
  }
  static tcp::StackSecrets secrets(uint64_t seed) {
    tcp::StackSecrets s;
    s.isn_key = {seed * 0x9E3779B97F4A7C15ULL + 1, seed ^ 0x5555};
    s.cookie_key = {seed * 0xBF58476D1CE4E5B9ULL + 2, seed ^ 0xAAAA};
    s.table_seed = seed * 0x94D049BB133111EBULL + 3;
    s.ts_offset = static_cast<uint32_t>(seed * 7919);
    return s;
  }

  explicit AppSim(const LinkParams& link = {}, uint64_t seed = 1,
                  const tcp::StackConfig& cfg = default_config())
      : c2s_(link, seed * 2 + 1),
        s2c_(link, seed * 2 + 2),
        client_sink_(*this, true),
        server_sink_(*this, false),
        client(cfg, secrets(seed ^ 0xC), client_sink_, Instant{}),
        server(cfg, secrets(seed ^ 0x5), server_sink_, Instant{}) {}

  // An active open from the client stack to the server's `port`, served by `app`.
  tcp::ConnId connect(uint16_t port, tcp::App& app) {
    return client.connect(tcp::FourTuple{kClientIp, kServerIp, next_port_++, port}, app, now_);
  }

  Instant now() const { return now_; }

  // Delivers frames and advances both stacks' timers until `done()` or until
  // `limit` of simulated time has passed; true if `done()` became true.
  bool run_until(const std::function<bool()>& done, Duration limit) {
    const Instant end = now_ + limit;
    const Duration tick = client.config().timer_tick;
    std::vector<uint8_t> frame;
    while (!done()) {
      if (now_ >= end) return false;
      Instant next = now_ + tick;
      if (!c2s_.empty() && c2s_.next_time() < next) next = c2s_.next_time();
      if (!s2c_.empty() && s2c_.next_time() < next) next = s2c_.next_time();
      now_ = next;
      while (c2s_.pop_due(now_, frame)) deliver(server, frame);
      while (s2c_.pop_due(now_, frame)) deliver(client, frame);
      client.advance(now_);
      server.advance(now_);
    }
    return true;
  }
  void run_for(Duration d) {
    run_until([] { return false; }, d);
  }

  uint64_t frames_lost() const { return c2s_.lost() + s2c_.lost(); }

 private:
  class Sink final : public tcp::TxSink {
   public:
    Sink(AppSim& sim, bool from_client) : sim_(sim), from_client_(from_client) {}
    void emit(const tcp::SegmentOut& seg) override { sim_.transmit(from_client_, seg); }

   private:
    AppSim& sim_;
    bool from_client_;
  };

  void transmit(bool from_client, const tcp::SegmentOut& seg) {
    tcp::FrameAddrs a;
    a.src_mac = {2, 0, 0, 0, 0, static_cast<uint8_t>(from_client ? 1 : 2)};
    a.dst_mac = {2, 0, 0, 0, 0, static_cast<uint8_t>(from_client ? 2 : 1)};
    const size_t n = tcp::frame_from_segment(buf_, seg, a);
    if (n > 0) (from_client ? c2s_ : s2c_).send(buf_.data(), n, now_);
  }
  void deliver(tcp::Stack& to, const std::vector<uint8_t>& frame) {
    const auto f = wire::parse_frame(frame);
    if (f && f->kind == wire::FrameKind::kIpv4Tcp) to.on_segment(tcp::segment_from_frame(*f), now_);
  }

  Instant now_{};
  uint16_t next_port_ = 40000;
  std::array<uint8_t, 9216> buf_{};
  Link c2s_, s2c_;
  Sink client_sink_, server_sink_;

 public:
  tcp::Stack client;
  tcp::Stack server;
};

}  // namespace synmill::sim
