#pragma once
// One worker's side of the application API: a dp::LoopDriver that gives the
// worker's Application its Context (connect out, cross-worker messages),
// calls on_start before the first packet and on_stop after the last, and
// hands it the messages other workers posted, once per poll loop. A second
// driver (--connect's Connector) can ride along.
#include <memory>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "dp/worker.hpp"
#include "synmill/app.hpp"

namespace synmill::apps {

// The rings between workers: one SPSC queue per ordered pair (from, to).
class MessageRings {
 public:
  MessageRings(uint16_t workers, uint32_t capacity);
  boost::lockfree::spsc_queue<Message>& ring(uint16_t from, uint16_t to) { return *rings_[from * n_ + to]; }
  uint16_t workers() const { return n_; }

 private:
  uint16_t n_;
  std::vector<std::unique_ptr<boost::lockfree::spsc_queue<Message>>> rings_;
};

class Host final : public dp::LoopDriver, public Context {
 public:
  // `app` (may be null: only `next` runs) and `rings` (null: no messages)
  // are owned by the caller and outlive the worker.
  Host(Application* app, uint16_t index, uint16_t workers, MessageRings* rings, dp::LoopDriver* next);

  // dp::LoopDriver
  void on_loop(dp::Worker& w, tcp::Instant now) override;
  bool on_tcp(dp::Worker& w, const tcp::SegmentIn& seg, tcp::Instant now) override;
  void on_stop(dp::Worker& w, tcp::Instant now) override;

  // Context
  uint16_t index() const override { return index_; }
  uint16_t workers() const override { return workers_; }
  Stack& stack() override { return w_->stack_mut(); }
  uint32_t local_ip() const override;
  ConnId connect(uint32_t ip, uint16_t port, tcp::App& app) override;
  bool post(uint16_t to, const Message& m) override;

  static constexpr uint16_t kFirstPort = 32768;  // Linux's ip_local_port_range
  static constexpr uint16_t kLastPort = 60999;

 private:
  Application* app_;
  uint16_t index_;
  uint16_t workers_;
  MessageRings* rings_;
  dp::LoopDriver* next_;
  dp::Worker* w_ = nullptr;
  uint16_t cursor_ = kFirstPort;
  bool started_ = false;
  // Peers connect() found without a known MAC: asked again every kArpEvery
  // until they answer (the SYN's retransmission then reaches them).
  std::vector<uint32_t> unresolved_;
  tcp::Instant ask_at_{};
};

}  // namespace synmill::apps
