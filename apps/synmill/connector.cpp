#include "synmill/connector.hpp"

#include <fmt/format.h>

#include "dp/source_port.hpp"

namespace synmill::apps {

namespace {
constexpr tcp::Duration kArpEvery = tcp::Duration::ms(200);  // also the NS interval (RFC 4861 §10 RetransTimer: 1 s)
}

Connector::Connector(std::vector<dp::ConnectSpec> specs, uint32_t local_ip, const wire::Ipv6Addr& local_ip6,
                     uint16_t worker, uint16_t workers, tcp::App& app)
    : specs_(std::move(specs)),
      local_ip_(local_ip),
      local_ip6_(local_ip6),
      worker_(worker),
      workers_(workers),
      app_(app) {}

void Connector::on_loop(dp::Worker& w, tcp::Instant now) {
  if (next_ >= specs_.size() || now < ask_at_) return;
  ask_at_ = now + kArpEvery;  // until the peer answers (forever: the operator asked for it)
  const dp::ConnectSpec& spec = specs_[next_];
  if (spec.v6) {
    if (!w.resolve6(spec.ip6, local_ip6_)) return;
    open_all6(w, spec, now);
  } else {
    if (!w.resolve(spec.ip, local_ip_)) return;
    open_all(w, spec, now);
  }
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

// IPv6: the same ports; the tuple's local side is the address's tag in the
// stack (Stack::add_local6, done by the worker for every IPv6 --addr).
void Connector::open_all6(dp::Worker& w, const dp::ConnectSpec& spec, tcp::Instant now) {
  const dp::PortInfo& port = *w.settings().port;
  const auto tag = w.stack().local6_tag(local_ip6_);
  if (!tag) return;  // not registered (the stack's table of local addresses is full): nothing to open from
  for (uint32_t i = 0; i < spec.count && kFirstPort + i <= 65535; ++i) {
    const auto local_port = static_cast<uint16_t>(kFirstPort + i);
    if (!dp::lands_on6(port, local_ip6_, spec.ip6, local_port, spec.port, worker_, workers_)) continue;
    (void)w.stack_mut().connect6(*tag, local_port, spec.ip6, spec.port, app_, now);
  }
}

}  // namespace synmill::apps
