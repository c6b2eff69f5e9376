#pragma once
// IPv6 header (RFC 8200 §3) and its extension header chain (§4), walked with
// bounds up to the upper-layer header. synmill is a host: it reassembles
// nothing and forwards nothing, so
//  - a fragment header (§4.5) other than an atomic fragment (offset 0, M 0,
//    processed in isolation: RFC 6946 §4) is kIpFragment, counted as an IPv4
//    fragment is;
//  - a routing header with segments left != 0 (§4.4) names another hop as
//    the destination: dropped (kIp6RoutingSegmentsLeft). With 0 left it is
//    skipped, whatever its type.
// Hop-by-hop and destination options (§4.2, §4.3) are walked option by
// option: Pad1 and PadN are the only ones recognised; an unknown option is
// skipped when its action bits are 00 and drops the packet otherwise (RFC 8200
// §4.2; the ICMP Parameter Problem it asks for is not sent).
// AH, ESP and every other next header end the walk as the upper-layer
// protocol (ip_proto values): the caller handles TCP and ICMPv6, drops the
// rest.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

inline constexpr size_t kIpv6HeaderLen = 40;

// Extension headers, together, at most this long. RFC 8200 §4.1 sets no
// limit; RFC 8504 §5.3 lets hosts set one (Linux has sysctls for option
// counts, not for the chain). A chain is at most five headers (see
// kIp6ExtRepeated); 512 bytes leaves room for a hop-by-hop and a destination
// option header and a segment routing header of 24 segments.
inline constexpr size_t kMaxIpv6ExtChainLen = 512;

namespace ip_proto {
inline constexpr uint8_t kHopByHop = 0;    // RFC 8200 §4.3
inline constexpr uint8_t kRouting = 43;    // §4.4
inline constexpr uint8_t kFragment = 44;   // §4.5
inline constexpr uint8_t kIcmpv6 = 58;     // RFC 4443
inline constexpr uint8_t kNoNext = 59;     // §4.7
inline constexpr uint8_t kDestOpts = 60;   // §4.6
}  // namespace ip_proto

// Byte offsets inside the fixed header.
namespace ipv6_off {
inline constexpr size_t kPayloadLen = 4;
inline constexpr size_t kNextHeader = 6;
inline constexpr size_t kHopLimit = 7;
inline constexpr size_t kSrc = 8;
inline constexpr size_t kDst = 24;
}  // namespace ipv6_off

class Ipv6View {
 public:
  Ipv6View() = default;

  // `data` is the Ethernet payload, possibly padded. Checks, in order:
  // kIp6Truncated (< 40 bytes), kIp6BadVersion, kIp6PayloadLenBeyondFrame,
  // kIp6MulticastSource (RFC 4291 §2.7; Linux ipv6_rcv drops these too), then
  // the chain, header by header: kIp6HopByHopNotFirst, kIp6ExtRepeated,
  // kIp6ExtTruncated, kIp6ExtChainTooLong, then that header's own checks
  // (kIp6OptionOverrun, kIp6OptionUnrecognized, kIp6RoutingSegmentsLeft,
  // kIpFragment). The view covers exactly 40 + payload length bytes
  // (Ethernet padding trimmed). A payload length of 0 is an empty payload:
  // jumbograms (RFC 2675) are not supported.
  static Result<Ipv6View> parse(std::span<const uint8_t> data);

  uint8_t version() const { return static_cast<uint8_t>(bytes_[0] >> 4); }
  uint8_t traffic_class() const { return static_cast<uint8_t>((load_be16(bytes_.data()) >> 4) & 0xFF); }
  uint32_t flow_label() const { return load_be32(bytes_.data()) & 0xFFFFFu; }
  uint16_t payload_len() const { return load_be16(bytes_.data() + ipv6_off::kPayloadLen); }
  uint8_t next_header() const { return bytes_[ipv6_off::kNextHeader]; }  // of the fixed header
  uint8_t hop_limit() const { return bytes_[ipv6_off::kHopLimit]; }
  Ipv6Addr src() const { return Ipv6Addr::load(bytes_.data() + ipv6_off::kSrc); }
  Ipv6Addr dst() const { return Ipv6Addr::load(bytes_.data() + ipv6_off::kDst); }
  const uint8_t* src_bytes() const { return bytes_.data() + ipv6_off::kSrc; }
  const uint8_t* dst_bytes() const { return bytes_.data() + ipv6_off::kDst; }

  // After the extension headers: the upper-layer protocol, where its header
  // starts (40 + the chain's length) and the upper-layer packet, whose length
  // is the one the pseudo-header carries (RFC 8200 §8.1).
  uint8_t upper_protocol() const { return upper_proto_; }
  size_t upper_offset() const { return upper_off_; }
  size_t ext_len() const { return upper_off_ - kIpv6HeaderLen; }
  std::span<const uint8_t> upper() const { return bytes_.subspan(upper_off_); }
  std::span<const uint8_t> header() const { return bytes_.first(kIpv6HeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  Ipv6View(std::span<const uint8_t> b, uint16_t upper_off, uint8_t upper_proto)
      : bytes_(b), upper_off_(upper_off), upper_proto_(upper_proto) {}
  std::span<const uint8_t> bytes_;  // 40 + payload length bytes
  uint16_t upper_off_ = kIpv6HeaderLen;
  uint8_t upper_proto_ = ip_proto::kNoNext;
};

struct Ipv6HeaderSpec {
  Ipv6Addr src;
  Ipv6Addr dst;
  uint8_t next_header = 0;
  uint16_t payload_len = 0;  // everything after the 40-byte header
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;  // 20 bits
};

// Writes the 40-byte fixed header. Returns kIpv6HeaderLen, or 0 when `out`
// is shorter.
size_t write_ipv6_header(std::span<uint8_t> out, const Ipv6HeaderSpec& spec);

}  // namespace synmill::wire
