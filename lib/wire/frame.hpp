#pragma once
// One-call classification and parse of a received Ethernet frame, used by the
// data plane and the simulation: Ethernet -> ARP | IPv4 -> TCP (+ options) |
// ICMP | other, and with ParseFlags::accept_ipv6, IPv6 (extension headers
// walked) -> TCP | ICMPv6 | other.
#include <cstdint>
#include <span>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/result.hpp"
#include "wire/tcp_header.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

enum class FrameKind : uint8_t {
  kArp,        // arp valid
  kIpv4Tcp,    // ip, tcp, opts valid; payload = TCP payload
  kIpv4Icmp,   // ip, icmp valid; payload = ICMP data after the 8-byte header
  kIpv4Other,  // ip valid; payload = IP payload (UDP, ...)
  kOther,      // other EtherType (VLAN-tagged, IPv6 without accept_ipv6, ...); payload = Ethernet payload
  kIpv6Tcp,    // ip6, tcp, opts valid; payload = TCP payload
  kIpv6Icmp,   // ip6, icmp6 valid; payload = ICMPv6 data after the 8-byte header
  kIpv6Other,  // ip6 valid; payload = upper-layer packet (UDP, AH, ESP, no next header, ...)
};

struct Frame {
  FrameKind kind = FrameKind::kOther;
  EthernetView eth;
  ArpView arp;
  Ipv4View ip;
  Ipv6View ip6;
  TcpView tcp;
  IcmpView icmp;
  Icmpv6View icmp6;
  TcpOptions opts;
  // Trimmed by the IP total length: Ethernet padding never shows up here.
  std::span<const uint8_t> payload;
};

// Checksums to verify in software. Turn off what the NIC has verified already
// (RX checksum offload).
struct ParseFlags {
  bool verify_ip_checksum = true;
  bool verify_l4_checksum = true;  // TCP (pseudo-header included), ICMP and ICMPv6
  // IPv6 frames are classified (kIpv6*) and parse_tcp_frame() takes IPv6
  // TCP only when set; otherwise they stay FrameKind::kOther / kNotTcp, as
  // for a caller that speaks IPv4 only.
  bool accept_ipv6 = false;
};

inline constexpr ParseFlags kVerifyChecksums{true, true, false};
inline constexpr ParseFlags kTrustChecksums{false, false, false};

// Errors, in the order they are checked: kEthTruncated; ARP: kArpTruncated,
// kArpUnsupported; IPv4: the Ipv4View::parse() errors, kBadIpChecksum,
// kIpFragment (MF or offset != 0, any protocol: not reassembled); TCP: the
// TcpView::parse() errors, kBadTcpChecksum, the parse_tcp_options() errors;
// ICMP: kIcmpTruncated, kBadIcmpChecksum. IPv6 (accept_ipv6): the
// Ipv6View::parse() errors (extension headers included; a fragment is
// kIpFragment), then TCP as for IPv4 with the IPv6 pseudo-header, or ICMPv6:
// kIcmp6Truncated, kBadIcmp6Checksum. Neighbor Discovery's own validity
// checks are parse_nd()'s (ndp.hpp).
Result<Frame> parse_frame(std::span<const uint8_t> frame, ParseFlags flags = kVerifyChecksums);

}  // namespace synmill::wire
