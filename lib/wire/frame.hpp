#pragma once
// One-call classification and parse of a received Ethernet frame, used by the
// data plane and the simulation: Ethernet -> ARP | IPv4 -> TCP (+ options) |
// ICMP | other.
#include <cstdint>
#include <span>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/result.hpp"
#include "wire/tcp_header.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

enum class FrameKind : uint8_t {
  kArp,        // arp valid
  kIpv4Tcp,    // ip, tcp, opts valid; payload = TCP payload
  kIpv4Icmp,   // ip, icmp valid; payload = ICMP data after the 8-byte header
  kIpv4Other,  // ip valid; payload = IP payload (UDP, ...)
  kOther,      // other EtherType (IPv6, VLAN-tagged, ...); payload = Ethernet payload
};

struct Frame {
  FrameKind kind = FrameKind::kOther;
  EthernetView eth;
  ArpView arp;
  Ipv4View ip;
  TcpView tcp;
  IcmpView icmp;
  TcpOptions opts;
  // Trimmed by the IP total length: Ethernet padding never shows up here.
  std::span<const uint8_t> payload;
};

// Checksums to verify in software. Turn off what the NIC has verified already
// (RX checksum offload).
struct ParseFlags {
  bool verify_ip_checksum = true;
  bool verify_l4_checksum = true;  // TCP (pseudo-header included) and ICMP
};

inline constexpr ParseFlags kVerifyChecksums{true, true};
inline constexpr ParseFlags kTrustChecksums{false, false};

// Errors, in the order they are checked: kEthTruncated; ARP: kArpTruncated,
// kArpUnsupported; IPv4: the Ipv4View::parse() errors, kBadIpChecksum,
// kIpFragment (MF or offset != 0, any protocol: not reassembled); TCP: the
// TcpView::parse() errors, kBadTcpChecksum, the parse_tcp_options() errors;
// ICMP: kIcmpTruncated, kBadIcmpChecksum.
Result<Frame> parse_frame(std::span<const uint8_t> frame, ParseFlags flags = kVerifyChecksums);

}  // namespace synmill::wire
