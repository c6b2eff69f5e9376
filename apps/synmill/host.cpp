#include "synmill/host.hpp"

#include <algorithm>

#include "dp/source_port.hpp"

namespace synmill::apps {

namespace {
constexpr tcp::Duration kArpEvery = tcp::Duration::ms(200);
constexpr size_t kMaxUnresolved = 64;
}  // namespace

MessageRings::MessageRings(uint16_t workers, uint32_t capacity) : n_(workers) {
  rings_.reserve(size_t{workers} * workers);
  for (size_t i = 0; i < size_t{workers} * workers; ++i) {
    rings_.push_back(std::make_unique<boost::lockfree::spsc_queue<Message>>(capacity));
  }
}

Host::Host(Application* app, uint16_t index, uint16_t workers, MessageRings* rings, dp::LoopDriver* next)
    : app_(app), index_(index), workers_(workers), rings_(rings), next_(next) {}

void Host::on_loop(dp::Worker& w, tcp::Instant now) {
  w_ = &w;
  if (!started_) {
    started_ = true;
    if (app_ != nullptr) app_->on_start(*this);
  }
  if (app_ != nullptr && rings_ != nullptr) {
    Message m;
    for (uint16_t from = 0; from < workers_; ++from) {
      auto& r = rings_->ring(from, index_);
      // Bounded per loop: what was queued when the loop started.
      for (size_t k = r.read_available(); k > 0 && r.pop(m); --k) app_->on_message(*this, m);
    }
  }
  if (!unresolved_.empty() && now >= ask_at_) {
    ask_at_ = now + kArpEvery;
    std::erase_if(unresolved_, [&](uint32_t ip) { return w.resolve(ip, local_ip()); });
  }
  if (next_ != nullptr) next_->on_loop(w, now);
}

bool Host::on_tcp(dp::Worker& w, const tcp::SegmentIn& seg, tcp::Instant now) {
  return next_ != nullptr && next_->on_tcp(w, seg, now);
}

void Host::on_stop(dp::Worker& w, tcp::Instant now) {
  w_ = &w;
  if (app_ != nullptr) app_->on_stop(*this);
  if (next_ != nullptr) next_->on_stop(w, now);
}

uint32_t Host::local_ip() const {
  const auto& a = w_->settings().addrs;  // the worker keeps its IPv4 addresses here (IPv6: Worker::addrs6())
  return a.empty() ? 0 : a.front().ip;
}

ConnId Host::connect(uint32_t ip, uint16_t port, tcp::App& app) {
  const dp::WorkerSettings& s = w_->settings();
  tcp::Stack& st = w_->stack_mut();
  const tcp::FourTuple t{local_ip(), ip, 0, port};
  const auto local = dp::pick_source_port(*s.port, st, t, index_, workers_, kFirstPort, kLastPort, &cursor_);
  if (!local) return ConnId{};
  if (!w_->resolve(ip, t.local_ip) && unresolved_.size() < kMaxUnresolved &&
      std::find(unresolved_.begin(), unresolved_.end(), ip) == unresolved_.end()) {
    unresolved_.push_back(ip);  // asked now; again from on_loop until it answers
  }
  return st.connect(tcp::FourTuple{t.local_ip, ip, *local, port}, app, st.now());
}

bool Host::post(uint16_t to, const Message& m) {
  if (rings_ == nullptr || to >= workers_) return false;
  Message copy = m;
  copy.from = index_;
  return rings_->ring(index_, to).push(copy);
}

}  // namespace synmill::apps
