#include "synmill/connector.hpp"

#include <fmt/format.h>

#include "dp/source_port.hpp"

namespace synmill::apps {

namespace {
constexpr tcp::Duration kArpEvery = tcp::Duration::ms(200);
}

Connector::Connector(std::vector<dp::ConnectSpec> specs, uint32_t local_ip, uint16_t worker, uint16_t workers,
                     tcp::App& app)
    : specs_(std::move(specs)), local_ip_(local_ip), worker_(worker), workers_(workers), app_(app) {}

void Connector::on_loop(dp::Worker& w, tcp::Instant now) {
  if (next_ >= specs_.size() || now < ask_at_) return;
  ask_at_ = now + kArpEvery;  // until the peer answers (forever: the operator asked for it)
  const dp::ConnectSpec& spec = specs_[next_];
  if (!w.resolve(spec.ip, local_ip_)) return;
  open_all(w, spec, now);
  ++next_;
  ask_at_ = now;
}

void Connector::open_all(dp::Worker& w, const dp::ConnectSpec& spec, tcp::Instant now) {
  const dp::PortInfo& port = *w.settings().port;
  uint32_t opened = 0;
  for (uint32_t i = 0; i < spec.count && kFirstPort + i <= 65535; ++i) {
    const auto local_port = static_cast<uint16_t>(kFirstPort + i);
    const tcp::FourTuple t{local_ip_, spec.ip, local_port, spec.port};
    if (!dp::lands_on(port, t, worker_, workers_)) continue;
    if (w.stack_mut().connect(t, app_, now).valid()) ++opened;
  }
  (void)opened;
}

}  // namespace synmill::apps
