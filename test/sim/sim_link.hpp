#pragma once
// One direction of the simulated wire: frames delayed, jittered, reordered,
// duplicated and lost from a seeded generator, delivered in time order.
#include <algorithm>
#include <cstdint>
#include <queue>
#include <random>
#include <vector>

#include "tcp/types.hpp"

namespace synmill::sim {

using tcp::Duration;
using tcp::Instant;

struct LinkParams {
  double loss = 0.0;        // probability a frame is dropped
  double duplicate = 0.0;   // probability a frame is delivered twice
  double reorder = 0.0;     // probability a frame is held back by reorder_delay
  Duration delay = Duration::us(200);
  Duration jitter = Duration::us(50);
  Duration reorder_delay = Duration::ms(1);
  // Capacity (0 = unlimited): frames leave one after another at this rate;
  // a frame that would wait longer than max_queue in the queue is dropped
  // (tail drop, as a router queue or a NIC ring that is full).
  uint64_t rate_bps = 0;
  Duration max_queue = Duration::ms(5);
  // Bursts of ACK loss: for ack_burst_len out of every ack_burst_period, pure
  // ACKs (no payload, SYN, FIN or RST) are lost with probability ack_burst_loss.
  Duration ack_burst_period{};
  Duration ack_burst_len{};
  double ack_burst_loss = 0.0;
};

class Link {
 public:
  Link(const LinkParams& p, uint64_t seed) : p_(p), rng_(seed) {}

  void send(const uint8_t* data, size_t len, Instant now, bool pure_ack = false) {
    ++sent_;
    if (chance(p_.loss)) {
      ++lost_;
      return;
    }
    if (pure_ack && p_.ack_burst_period.count_ns() > 0 &&
        now.ns() % p_.ack_burst_period.count_ns() < p_.ack_burst_len.count_ns() &&
        chance(p_.ack_burst_loss)) {
      ++lost_;
      ++ack_burst_lost_;
      return;
    }
    Instant at = now;
    if (p_.rate_bps > 0) {
      // Serialisation behind the frames already queued; tail drop past max_queue.
      const Instant start = std::max(now, busy_until_);
      if (start - now > p_.max_queue) {
        ++lost_;
        ++overflow_;
        return;
      }
      busy_until_ = start + Duration(static_cast<int64_t>(len * 8 * 1000000000ull / p_.rate_bps));
      at = busy_until_;
    }
    push(data, len, at);
    if (chance(p_.duplicate)) {
      ++duplicated_;
      push(data, len, at);
    }
  }

  bool empty() const { return q_.empty(); }
  Instant next_time() const { return q_.top().at; }

  // Pops the earliest frame due by `now` into `out`.
  bool pop_due(Instant now, std::vector<uint8_t>& out) {
    if (q_.empty() || q_.top().at > now) return false;
    out = std::move(const_cast<Pkt&>(q_.top()).bytes);
    q_.pop();
    return true;
  }

  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_; }
  uint64_t duplicated() const { return duplicated_; }
  uint64_t overflow() const { return overflow_; }
  uint64_t ack_burst_lost() const { return ack_burst_lost_; }

 private:
  struct Pkt {
    Instant at;
    uint64_t order;
    std::vector<uint8_t> bytes;
    bool operator>(const Pkt& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void push(const uint8_t* data, size_t len, Instant now) {
    int64_t d = p_.delay.count_ns();
    if (p_.jitter.count_ns() > 0)
      d += std::uniform_int_distribution<int64_t>(0, p_.jitter.count_ns())(rng_);
    if (chance(p_.reorder)) d += p_.reorder_delay.count_ns();
    q_.push(Pkt{now + Duration(d), order_++, std::vector<uint8_t>(data, data + len)});
  }

  LinkParams p_;
  std::mt19937_64 rng_;
  std::priority_queue<Pkt, std::vector<Pkt>, std::greater<>> q_;
  uint64_t order_ = 0;
  uint64_t sent_ = 0, lost_ = 0, duplicated_ = 0, overflow_ = 0, ack_burst_lost_ = 0;
  Instant busy_until_{};
};

}  // namespace synmill::sim
