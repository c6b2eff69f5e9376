#include "wire/parse_error.hpp"

namespace synmill::wire {

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::kEthTruncated: return "eth_truncated";
    case ParseError::kArpTruncated: return "arp_truncated";
    case ParseError::kArpUnsupported: return "arp_unsupported";
    case ParseError::kIpTruncated: return "ip_truncated";
    case ParseError::kIpBadVersion: return "ip_bad_version";
    case ParseError::kIpBadIhl: return "ip_bad_ihl";
    case ParseError::kIpIhlBeyondData: return "ip_ihl_beyond_data";
    case ParseError::kIpTotalLenTooSmall: return "ip_total_len_too_small";
    case ParseError::kIpTotalLenBeyondFrame: return "ip_total_len_beyond_frame";
    case ParseError::kIpFragment: return "ip_fragment";
    case ParseError::kBadIpChecksum: return "bad_ip_checksum";
    case ParseError::kIcmpTruncated: return "icmp_truncated";
    case ParseError::kBadIcmpChecksum: return "bad_icmp_checksum";
    case ParseError::kTcpTruncated: return "tcp_truncated";
    case ParseError::kTcpBadDataOffset: return "tcp_bad_data_offset";
    case ParseError::kTcpDataOffsetBeyondSegment: return "tcp_data_offset_beyond_segment";
    case ParseError::kBadTcpChecksum: return "bad_tcp_checksum";
    case ParseError::kOptBadLength: return "opt_bad_length";
    case ParseError::kOptOverrun: return "opt_overrun";
    case ParseError::kOptBadMssLength: return "opt_bad_mss_length";
    case ParseError::kOptBadWscaleLength: return "opt_bad_wscale_length";
    case ParseError::kOptBadSackPermLength: return "opt_bad_sack_perm_length";
    case ParseError::kOptBadTimestampLength: return "opt_bad_timestamp_length";
    case ParseError::kOptBadSackLength: return "opt_bad_sack_length";
    case ParseError::kCount: break;
  }
  return "unknown";
}

}  // namespace synmill::wire
