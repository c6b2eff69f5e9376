#include "wire/frame.hpp"

#include "wire/checksum.hpp"

namespace synmill::wire {

namespace {

Result<Frame> parse_tcp(Frame f, ParseFlags flags) {
  const auto tcp = TcpView::parse(f.ip.payload());
  if (!tcp) return tcp.error();
  if (flags.verify_l4_checksum && !tcp_checksum_ok(f.ip.src(), f.ip.dst(), tcp->bytes())) {
    return ParseError::kBadTcpChecksum;
  }
  const auto opts = parse_tcp_options(tcp->options());
  if (!opts) return opts.error();
  f.kind = FrameKind::kIpv4Tcp;
  f.tcp = *tcp;
  f.opts = *opts;
  f.payload = tcp->payload();
  return f;
}

Result<Frame> parse_icmp(Frame f, ParseFlags flags) {
  const auto icmp = IcmpView::parse(f.ip.payload());
  if (!icmp) return icmp.error();
  if (flags.verify_l4_checksum && !icmp->checksum_ok()) return ParseError::kBadIcmpChecksum;
  f.kind = FrameKind::kIpv4Icmp;
  f.icmp = *icmp;
  f.payload = icmp->payload();
  return f;
}

Result<Frame> parse_ipv4(Frame f, ParseFlags flags) {
  const auto ip = Ipv4View::parse(f.eth.payload());
  if (!ip) return ip.error();
  if (flags.verify_ip_checksum && !ip->checksum_ok()) return ParseError::kBadIpChecksum;
  if (ip->is_fragment()) return ParseError::kIpFragment;
  f.ip = *ip;
  switch (ip->protocol()) {
    case ip_proto::kTcp: return parse_tcp(f, flags);
    case ip_proto::kIcmp: return parse_icmp(f, flags);
    default:
      f.kind = FrameKind::kIpv4Other;
      f.payload = ip->payload();
      return f;
  }
}

}  // namespace

Result<Frame> parse_frame(std::span<const uint8_t> frame, ParseFlags flags) {
  Frame f;
  const auto eth = EthernetView::parse(frame);
  if (!eth) return eth.error();
  f.eth = *eth;
  switch (eth->ethertype()) {
    case ethertype::kArp: {
      const auto arp = ArpView::parse(eth->payload());
      if (!arp) return arp.error();
      f.kind = FrameKind::kArp;
      f.arp = *arp;
      return f;
    }
    case ethertype::kIpv4: return parse_ipv4(f, flags);
    default:
      f.kind = FrameKind::kOther;
      f.payload = eth->payload();
      return f;
  }
}

}  // namespace synmill::wire
