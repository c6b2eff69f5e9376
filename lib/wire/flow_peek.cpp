#include "wire/flow_peek.hpp"

#include "wire/bytes.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv6.hpp"

namespace synmill::wire {

namespace {

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

}  // namespace

std::optional<FlowPeek> peek_tcp_flow(std::span<const uint8_t> f, bool accept_ipv6) {
  constexpr size_t kEth = 14;
  if (f.size() < kEth + 20) return std::nullopt;
  if (f[12] != 0x08 || f[13] != 0x00) {
    if (accept_ipv6 && f[12] == 0x86 && f[13] == 0xDD) return peek_tcp6_flow(f);
    return std::nullopt;
  }
  const uint8_t vihl = f[kEth];
  const size_t ihl = size_t{vihl & 0x0Fu} * 4;
  if ((vihl >> 4) != 4 || ihl < 20 || f[kEth + 9] != 6) return std::nullopt;
  if ((load_be16(f.data() + kEth + 6) & 0x1FFFu) != 0) return std::nullopt;  // not the first fragment
  if (f.size() < kEth + ihl + 4) return std::nullopt;
  FlowPeek p;
  p.src_ip = load_be32(f.data() + kEth + 12);
  p.dst_ip = load_be32(f.data() + kEth + 16);
  p.src_port = load_be16(f.data() + kEth + ihl);
  p.dst_port = load_be16(f.data() + kEth + ihl + 2);
  if (f.size() >= kEth + ihl + 14) p.flags = f[kEth + ihl + 13];
  return p;
}

}  // namespace synmill::wire
