#include "wire/frame.hpp"

#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"

namespace synmill::wire {

namespace {

// TCP in `segment` (the IP payload), whichever the family: `csum_ok` checks
// the checksum with that family's pseudo-header.
template <class CsumOk>
Result<Frame> parse_tcp(Frame f, std::span<const uint8_t> segment, ParseFlags flags, FrameKind kind,
                        CsumOk csum_ok) {
  const auto tcp = TcpView::parse(segment);
  if (!tcp) return tcp.error();
  if (flags.verify_l4_checksum && !csum_ok(tcp->bytes())) return ParseError::kBadTcpChecksum;
  const auto opts = parse_tcp_options(tcp->options());
  if (!opts) return opts.error();
  f.kind = kind;
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
    case ip_proto::kTcp:
      return parse_tcp(f, ip->payload(), flags, FrameKind::kIpv4Tcp, [&](std::span<const uint8_t> seg) {
        return tcp_checksum_ok(ip->src(), ip->dst(), seg);
      });
    case ip_proto::kIcmp: return parse_icmp(f, flags);
    default:
      f.kind = FrameKind::kIpv4Other;
      f.payload = ip->payload();
      return f;
  }
}

Result<Frame> parse_ipv6(Frame f, ParseFlags flags) {
  const auto ip = Ipv6View::parse(f.eth.payload());
  if (!ip) return ip.error();
  f.ip6 = *ip;
  switch (ip->upper_protocol()) {
    case ip_proto::kTcp:
      return parse_tcp(f, ip->upper(), flags, FrameKind::kIpv6Tcp, [&](std::span<const uint8_t> seg) {
        return tcp6_checksum_ok(ip->src_bytes(), ip->dst_bytes(), seg);
      });
    case ip_proto::kIcmpv6: {
      const auto icmp = Icmpv6View::parse(ip->upper());
      if (!icmp) return icmp.error();
      if (flags.verify_l4_checksum && !icmp->checksum_ok(*ip)) return ParseError::kBadIcmp6Checksum;
      f.kind = FrameKind::kIpv6Icmp;
      f.icmp6 = *icmp;
      f.payload = icmp->payload();
      return f;
    }
    default:
      f.kind = FrameKind::kIpv6Other;
      f.payload = ip->upper();
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
    case ethertype::kIpv6:
      if (flags.accept_ipv6) return parse_ipv6(f, flags);
      [[fallthrough]];
    default:
      f.kind = FrameKind::kOther;
      f.payload = eth->payload();
      return f;
  }
}

}  // namespace synmill::wire
