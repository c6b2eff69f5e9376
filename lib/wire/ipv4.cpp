#include "wire/ipv4.hpp"

#include <algorithm>
#include <cassert>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace synmill::wire {

Result<Ipv4View> Ipv4View::parse(std::span<const uint8_t> data) {
  if (data.size() < kIpv4MinHeaderLen) return ParseError::kIpTruncated;
  if ((data[0] >> 4) != 4) return ParseError::kIpBadVersion;
  const size_t hlen = static_cast<size_t>(data[0] & 0x0F) * 4;
  if (hlen < kIpv4MinHeaderLen) return ParseError::kIpBadIhl;
  if (hlen > data.size()) return ParseError::kIpIhlBeyondData;
  const size_t total = load_be16(data, ipv4_off::kTotalLen);
  if (total < hlen) return ParseError::kIpTotalLenTooSmall;
  if (total > data.size()) return ParseError::kIpTotalLenBeyondFrame;
  return Ipv4View(data.first(total));
}

bool Ipv4View::checksum_ok() const { return ipv4_header_checksum_ok(header()); }

size_t write_ipv4_header(std::span<uint8_t> out, const Ipv4HeaderSpec& spec, bool fill_checksum) {
  if (out.size() < kIpv4MinHeaderLen) return 0;
  uint8_t* p = out.data();
  p[0] = 0x45;  // version 4, IHL 5
  p[1] = spec.tos;
  store_be16(p + ipv4_off::kTotalLen, spec.total_len);
  store_be16(p + ipv4_off::kId, spec.id);
  store_be16(p + 6, spec.dont_fragment ? 0x4000 : 0);
  p[ipv4_off::kTtl] = spec.ttl;
  p[9] = spec.protocol;
  store_be16(p + ipv4_off::kChecksum, 0);
  store_be32(p + ipv4_off::kSrc, spec.src);
  store_be32(p + ipv4_off::kDst, spec.dst);
  if (fill_checksum) fill_ipv4_checksum(out);
  return kIpv4MinHeaderLen;
}

void fill_ipv4_checksum(std::span<uint8_t> hdr) {
  assert(hdr.size() >= kIpv4MinHeaderLen);
  const size_t hlen = static_cast<size_t>(hdr[0] & 0x0F) * 4;
  assert(hlen >= kIpv4MinHeaderLen && hlen <= hdr.size());
  store_be16(hdr, ipv4_off::kChecksum, ipv4_header_checksum(hdr.first(hlen)));
}

void swap_ipv4_addresses(std::span<uint8_t> hdr) {
  assert(hdr.size() >= kIpv4MinHeaderLen);
  std::swap_ranges(hdr.begin() + ipv4_off::kSrc, hdr.begin() + ipv4_off::kDst, hdr.begin() + ipv4_off::kDst);
}

void set_ipv4_ttl(std::span<uint8_t> hdr, uint8_t ttl) {
  assert(hdr.size() >= kIpv4MinHeaderLen);
  rewrite_u8(hdr, ipv4_off::kTtl, ttl, ipv4_off::kChecksum);
}

}  // namespace synmill::wire
