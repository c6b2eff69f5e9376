#include "wire/ipv6.hpp"

namespace synmill::wire {

namespace {

constexpr ParseError kOk = ParseError::kCount;

// Options of a hop-by-hop or destination options header (RFC 8200 §4.2):
// `opts` is the header after its two fixed bytes. Pad1 is a lone zero byte;
// every other option is type, length, data.
ParseError walk_options(std::span<const uint8_t> opts) {
  size_t i = 0;
  while (i < opts.size()) {
    const uint8_t type = opts[i];
    if (type == 0) {  // Pad1
      ++i;
      continue;
    }
    if (i + 2 > opts.size() || i + 2 + opts[i + 1] > opts.size()) return ParseError::kIp6OptionOverrun;
    // PadN (1) is known; an unknown type with action bits 00 is skipped,
    // 01/10/11 discard the packet (the ICMP that 10/11 ask for is not sent).
    if (type != 1 && (type >> 6) != 0) return ParseError::kIp6OptionUnrecognized;
    i += 2 + size_t{opts[i + 1]};
  }
  return kOk;
}

}  // namespace

Result<Ipv6View> Ipv6View::parse(std::span<const uint8_t> data) {
  if (data.size() < kIpv6HeaderLen) return ParseError::kIp6Truncated;
  if ((data[0] >> 4) != 6) return ParseError::kIp6BadVersion;
  const size_t end = kIpv6HeaderLen + load_be16(data, ipv6_off::kPayloadLen);
  if (end > data.size()) return ParseError::kIp6PayloadLenBeyondFrame;
  if (data[ipv6_off::kSrc] == 0xFF) return ParseError::kIp6MulticastSource;
  const std::span<const uint8_t> b = data.first(end);

  // RFC 8200 §4.1: hop-by-hop only right after the fixed header; every other
  // header "should occur at most once", destination options at most twice.
  // More than that is taken for a loop and dropped (a deviation from §4.1's
  // "accept ... any number of times", which RFC 8504 §5.3's limits allow).
  size_t off = kIpv6HeaderLen;
  uint8_t nh = data[ipv6_off::kNextHeader];
  unsigned routing = 0, fragment = 0, dest_opts = 0;
  for (;;) {
    switch (nh) {
      case ip_proto::kHopByHop:
        if (off != kIpv6HeaderLen) return ParseError::kIp6HopByHopNotFirst;
        break;
      case ip_proto::kRouting:
        if (++routing > 1) return ParseError::kIp6ExtRepeated;
        break;
      case ip_proto::kFragment:
        if (++fragment > 1) return ParseError::kIp6ExtRepeated;
        break;
      case ip_proto::kDestOpts:
        if (++dest_opts > 2) return ParseError::kIp6ExtRepeated;
        break;
      default: return Ipv6View(b, static_cast<uint16_t>(off), nh);  // the upper layer
    }
    // Every extension header is a multiple of 8 bytes, at least 8; its
    // second byte counts 8-byte units after the first (§4.3-4.6), except the
    // fragment header's, which is reserved: that header is 8 bytes.
    if (off + 8 > end) return ParseError::kIp6ExtTruncated;
    const size_t len = nh == ip_proto::kFragment ? 8 : (size_t{b[off + 1]} + 1) * 8;
    if (off + len > end) return ParseError::kIp6ExtTruncated;
    if (off + len - kIpv6HeaderLen > kMaxIpv6ExtChainLen) return ParseError::kIp6ExtChainTooLong;
    switch (nh) {
      case ip_proto::kHopByHop:
      case ip_proto::kDestOpts: {
        const ParseError e = walk_options(b.subspan(off + 2, len - 2));
        if (e != kOk) return e;
        break;
      }
      case ip_proto::kRouting:
        if (b[off + 3] != 0) return ParseError::kIp6RoutingSegmentsLeft;  // §4.4
        break;
      default:  // fragment: offset (13 bits), 2 reserved bits, M
        if ((load_be16(b, off + 2) & 0xFFF9u) != 0) return ParseError::kIpFragment;
        break;
    }
    nh = b[off];
    off += len;
  }
}

size_t write_ipv6_header(std::span<uint8_t> out, const Ipv6HeaderSpec& spec) {
  if (out.size() < kIpv6HeaderLen) return 0;
  uint8_t* p = out.data();
  store_be32(p, (6u << 28) | (uint32_t{spec.traffic_class} << 20) | (spec.flow_label & 0xFFFFFu));
  store_be16(p + ipv6_off::kPayloadLen, spec.payload_len);
  p[ipv6_off::kNextHeader] = spec.next_header;
  p[ipv6_off::kHopLimit] = spec.hop_limit;
  spec.src.store(p + ipv6_off::kSrc);
  spec.dst.store(p + ipv6_off::kDst);
  return kIpv6HeaderLen;
}

}  // namespace synmill::wire
