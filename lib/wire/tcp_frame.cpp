#include "wire/tcp_frame.hpp"

#include <cstring>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/checksum6.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp_header.hpp"

namespace synmill::wire {

namespace {
constexpr size_t kL3Off = kEthHeaderLen;
constexpr size_t kL4Off = kEthHeaderLen + kIpv4MinHeaderLen;
constexpr size_t kL4Off6 = kEthHeaderLen + kIpv6HeaderLen;
constexpr size_t kMaxIpTotalLen = 0xFFFF;

size_t finish_tcp6_frame(std::span<uint8_t> frame, size_t payload_len, bool fill_tcp_csum) {
  if (frame.size() < kL4Off6 + kTcpMinHeaderLen) return 0;
  if ((frame[kL3Off] >> 4) != 6 || frame[kL3Off + ipv6_off::kNextHeader] != ip_proto::kTcp) return 0;
  const size_t tcp_hlen = static_cast<size_t>(frame[kL4Off6 + tcp_off::kDataOffset] >> 4) * 4;
  if (tcp_hlen < kTcpMinHeaderLen) return 0;
  const size_t seg_len = tcp_hlen + payload_len;
  if (payload_len > kMaxIpTotalLen || seg_len > kMaxIpTotalLen) return 0;
  const size_t frame_len = kL4Off6 + seg_len;
  if (frame.size() < frame_len) return 0;
  const std::span<uint8_t> ip = frame.subspan(kL3Off, kIpv6HeaderLen);
  const std::span<uint8_t> seg = frame.subspan(kL4Off6, seg_len);
  store_be16(ip, ipv6_off::kPayloadLen, static_cast<uint16_t>(seg_len));
  const uint16_t csum =
      fill_tcp_csum ? tcp6_checksum(ip.data() + ipv6_off::kSrc, ip.data() + ipv6_off::kDst, seg) : 0;
  store_be16(seg, tcp_off::kChecksum, csum);
  return frame_len;
}

}  // namespace

size_t write_tcp_frame_headers(std::span<uint8_t> out, const TcpFrameSpec& spec) {
  const size_t hlen = tcp_frame_header_len(spec.opts, spec.family);
  if (out.size() < hlen) return 0;
  if (spec.family == IpFamily::kV6) {
    write_ethernet(out, spec.dst_mac, spec.src_mac, ethertype::kIpv6);
    Ipv6HeaderSpec ip;
    ip.src = spec.src_ip6;
    ip.dst = spec.dst_ip6;
    ip.next_header = ip_proto::kTcp;
    ip.payload_len = 0;  // finish_tcp_frame()
    ip.hop_limit = spec.ttl;
    write_ipv6_header(out.subspan(kL3Off), ip);
    write_tcp_header(out.subspan(kL4Off6), spec, spec.opts);
    return hlen;
  }
  write_ethernet(out, spec.dst_mac, spec.src_mac, ethertype::kIpv4);
  Ipv4HeaderSpec ip;
  ip.src = spec.src_ip;
  ip.dst = spec.dst_ip;
  ip.protocol = ip_proto::kTcp;
  ip.total_len = 0;  // finish_tcp_frame()
  ip.ttl = spec.ttl;
  ip.id = spec.ip_id;
  write_ipv4_header(out.subspan(kL3Off), ip, /*fill_checksum=*/false);
  write_tcp_header(out.subspan(kL4Off), spec, spec.opts);
  return hlen;
}

size_t finish_tcp_frame(std::span<uint8_t> frame, size_t payload_len, bool fill_ip_csum, bool fill_tcp_csum) {
  if (frame.size() >= kEthHeaderLen && load_be16(frame, 12) == ethertype::kIpv6) {
    return finish_tcp6_frame(frame, payload_len, fill_tcp_csum);
  }
  if (frame.size() < kL4Off + kTcpMinHeaderLen) return 0;
  if (frame[kL3Off] != 0x45) return 0;  // written by write_ipv4_header: no IP options
  const size_t tcp_hlen = static_cast<size_t>(frame[kL4Off + tcp_off::kDataOffset] >> 4) * 4;
  if (tcp_hlen < kTcpMinHeaderLen) return 0;
  const size_t seg_len = tcp_hlen + payload_len;
  if (payload_len > kMaxIpTotalLen || seg_len > kMaxIpTotalLen - kIpv4MinHeaderLen) return 0;
  const size_t frame_len = kL4Off + seg_len;
  if (frame.size() < frame_len) return 0;

  const std::span<uint8_t> ip = frame.subspan(kL3Off, kIpv4MinHeaderLen);
  const std::span<uint8_t> seg = frame.subspan(kL4Off, seg_len);
  store_be16(ip, ipv4_off::kTotalLen, static_cast<uint16_t>(kIpv4MinHeaderLen + seg_len));
  store_be16(ip, ipv4_off::kChecksum, fill_ip_csum ? ipv4_header_checksum(ip) : uint16_t{0});
  const uint16_t tcp_csum =
      fill_tcp_csum ? tcp_checksum(load_be32(ip, ipv4_off::kSrc), load_be32(ip, ipv4_off::kDst), seg) : 0;
  store_be16(seg, tcp_off::kChecksum, tcp_csum);
  return frame_len;
}

size_t build_tcp_frame(std::span<uint8_t> out, const TcpFrameSpec& spec, std::span<const uint8_t> payload,
                       bool fill_ip_csum, bool fill_tcp_csum) {
  const size_t hlen = tcp_frame_header_len(spec.opts, spec.family);
  if (payload.size() > tcp_frame_max_payload(spec.opts, spec.family) || out.size() < hlen + payload.size()) {
    return 0;
  }
  write_tcp_frame_headers(out, spec);
  if (!payload.empty()) std::memmove(out.data() + hlen, payload.data(), payload.size());
  return finish_tcp_frame(out, payload.size(), fill_ip_csum, fill_tcp_csum);
}

}  // namespace synmill::wire
