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
  kCount
};

inline constexpr size_t kParseErrorCount = static_cast<size_t>(ParseError::kCount);

// Stable, lower_snake_case name for counters and logs ("eth_truncated", ...).
std::string_view to_string(ParseError e);

}  // namespace synmill::wire
