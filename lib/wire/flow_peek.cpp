#include "wire/flow_peek.hpp"

#include "wire/bytes.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv6.hpp"

namespace synmill::wire {

namespace detail {

[[gnu::noinline]] std::optional<FlowPeek> peek_tcp6_flow(std::span<const uint8_t> f) {
  const auto ip = Ipv6View::parse(f.subspan(kEthHeaderLen));
  if (!ip || ip->upper_protocol() != ip_proto::kTcp || ip->upper().size() < 4) return std::nullopt;
  const std::span<const uint8_t> t = ip->upper();
  FlowPeek p;
  p.family = IpFamily::kV6;
  p.src_ip6 = ip->src();
  p.dst_ip6 = ip->dst();
  p.src_port = load_be16(t, 0);
  p.dst_port = load_be16(t, 2);
  if (t.size() >= 14) p.flags = t[13];
  return p;
}

}  // namespace detail

}  // namespace synmill::wire
