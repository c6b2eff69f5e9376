#pragma once
// Every way a received frame can be rejected by lib/wire. The data plane keeps
// one drop counter per value (index with static_cast<size_t>(e)), so the
// values are dense, start at 0 and end before kCount.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synmill::wire {

enum class ParseError : uint8_t {
  // Ethernet
  kEthTruncated,               // fewer than 14 bytes
  // ARP (RFC 826)
  kArpTruncated,               // fewer than 28 bytes after the Ethernet header
  kArpUnsupported,             // not Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4)
  // IPv4 (RFC 791 §3.1)
  kIpTruncated,                // fewer than 20 bytes
  kIpBadVersion,               // version != 4
  kIpBadIhl,                   // IHL < 5
  kIpIhlBeyondData,            // IHL * 4 > bytes available
  kIpTotalLenTooSmall,         // total length < IHL * 4
  kIpTotalLenBeyondFrame,      // total length > bytes available
  kIpFragment,                 // MF set or fragment offset != 0 (not reassembled)
  kBadIpChecksum,
  // ICMP (RFC 792)
  kIcmpTruncated,              // fewer than 8 bytes
  kBadIcmpChecksum,
  // TCP (RFC 9293 §3.1)
  kTcpTruncated,               // fewer than 20 bytes
  kTcpBadDataOffset,           // data offset < 5
  kTcpDataOffsetBeyondSegment, // data offset * 4 > segment length
  kBadTcpChecksum,
  // TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018)
  kOptBadLength,               // length byte 0 or 1
  kOptOverrun,                 // length byte missing or option runs past the header
  kOptBadMssLength,            // MSS length != 4
  kOptBadWscaleLength,         // window scale length != 3
  kOptBadSackPermLength,       // SACK-permitted length != 2
  kOptBadTimestampLength,      // timestamps length != 10
  kOptBadSackLength,           // SACK length not 2 + 8k with k >= 1
  // IPv6 (RFC 8200 §3, §4). A fragment header that is not an atomic
  // fragment (RFC 6946) reports kIpFragment, as an IPv4 fragment does.
  kIp6Truncated,               // fewer than 40 bytes
  kIp6BadVersion,              // version != 6
  kIp6PayloadLenBeyondFrame,   // 40 + payload length > bytes available
  kIp6MulticastSource,         // source in ff00::/8 (RFC 4291 §2.7)
  kIp6ExtTruncated,            // an extension header (or its length) runs past the payload
  kIp6HopByHopNotFirst,        // hop-by-hop options not right after the IPv6 header (§4.1)
  kIp6ExtRepeated,             // a header more often than §4.1 allows: a loop in the chain
  kIp6ExtChainTooLong,         // extension headers longer than kMaxIpv6ExtChainLen (RFC 8504 §5.3)
  kIp6OptionOverrun,           // an option's length byte missing or runs past its header (§4.2)
  kIp6OptionUnrecognized,      // unknown option whose action bits say discard (§4.2)
  kIp6RoutingSegmentsLeft,     // routing header with segments left != 0: not the final destination (§4.4)
  // ICMPv6 (RFC 4443 §2)
  kIcmp6Truncated,             // fewer than 8 bytes
  kBadIcmp6Checksum,           // pseudo-header included (§2.3)
  // Neighbor Discovery (RFC 4861 §7.1.1 NS, §7.1.2 NA validity)
  kNdBadHopLimit,              // IP hop limit != 255
  kNdBadCode,                  // ICMP code != 0
  kNdTruncated,                // ICMP length < 24
  kNdTargetMulticast,          // target address is multicast
  kNdBadOptionLength,          // an option of length 0, or one running past the message
  kNdBadLinkLayerOption,       // source/target link-layer option not 8 bytes (RFC 2464 §8)
  kNdUnspecifiedSourceWithSlla,       // NS from :: carrying a source link-layer option
  kNdUnspecifiedSourceNotSolicited,   // NS from :: not sent to a solicited-node group
  kNdSolicitedToMulticast,     // NA with the Solicited flag sent to a multicast address
  kCount
};

inline constexpr size_t kParseErrorCount = static_cast<size_t>(ParseError::kCount);

// Stable, lower_snake_case name for counters and logs ("eth_truncated", ...).
std::string_view to_string(ParseError e);

}  // namespace synmill::wire
