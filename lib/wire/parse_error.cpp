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
    case ParseError::kIp6Truncated: return "ip6_truncated";
    case ParseError::kIp6BadVersion: return "ip6_bad_version";
    case ParseError::kIp6PayloadLenBeyondFrame: return "ip6_payload_len_beyond_frame";
    case ParseError::kIp6MulticastSource: return "ip6_multicast_source";
    case ParseError::kIp6ExtTruncated: return "ip6_ext_truncated";
    case ParseError::kIp6HopByHopNotFirst: return "ip6_hop_by_hop_not_first";
    case ParseError::kIp6ExtRepeated: return "ip6_ext_repeated";
    case ParseError::kIp6ExtChainTooLong: return "ip6_ext_chain_too_long";
    case ParseError::kIp6OptionOverrun: return "ip6_option_overrun";
    case ParseError::kIp6OptionUnrecognized: return "ip6_option_unrecognized";
    case ParseError::kIp6RoutingSegmentsLeft: return "ip6_routing_segments_left";
    case ParseError::kIcmp6Truncated: return "icmp6_truncated";
    case ParseError::kBadIcmp6Checksum: return "bad_icmp6_checksum";
    case ParseError::kNdBadHopLimit: return "nd_bad_hop_limit";
    case ParseError::kNdBadCode: return "nd_bad_code";
    case ParseError::kNdTruncated: return "nd_truncated";
    case ParseError::kNdTargetMulticast: return "nd_target_multicast";
    case ParseError::kNdBadOptionLength: return "nd_bad_option_length";
    case ParseError::kNdBadLinkLayerOption: return "nd_bad_link_layer_option";
    case ParseError::kNdUnspecifiedSourceWithSlla: return "nd_unspecified_source_with_slla";
    case ParseError::kNdUnspecifiedSourceNotSolicited: return "nd_unspecified_source_not_solicited";
    case ParseError::kNdSolicitedToMulticast: return "nd_solicited_to_multicast";
    case ParseError::kCount: break;
  }
  return "unknown";
}

}  // namespace synmill::wire
