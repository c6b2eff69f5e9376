#include "test_util.hpp"

#include <cstdint>

namespace synmill::wire::test {

void refresh_checksums(std::vector<uint8_t>& f) {
  if (f.size() < kEthHeaderLen + kIpv4MinHeaderLen) return;
  const std::span<uint8_t> ip(f.data() + kEthHeaderLen, f.size() - kEthHeaderLen);
  const size_t hlen = static_cast<size_t>(ip[0] & 0x0F) * 4;
  const size_t total = load_be16(ip.data() + 2);
  if (hlen < kIpv4MinHeaderLen || hlen > ip.size() || total < hlen || total > ip.size()) return;
  fill_ipv4_checksum(ip);
  if (ip[9] != 6 || total - hlen < kTcpMinHeaderLen) return;
  const std::span<uint8_t> seg = ip.subspan(hlen, total - hlen);
  store_be16(seg.data() + 16,
             tcp_checksum(load_be32(ip.data() + 12), load_be32(ip.data() + 16), seg));
}

uint16_t reference_checksum6(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                             std::span<const uint8_t> data) {
  std::vector<uint8_t> buf(src.b.begin(), src.b.end());
  buf.insert(buf.end(), dst.b.begin(), dst.b.end());
  const auto len = static_cast<uint32_t>(data.size());
  for (int sh = 24; sh >= 0; sh -= 8) buf.push_back(static_cast<uint8_t>(len >> sh));
  buf.insert(buf.end(), {0, 0, 0, next_header});
  buf.insert(buf.end(), data.begin(), data.end());
  return reference_checksum(buf);
}

std::vector<uint8_t> make_frame6(uint8_t first_nh, const std::vector<uint8_t>& ext, uint8_t upper_proto,
                                 std::vector<uint8_t> upper, const Ipv6Addr& src, const Ipv6Addr& dst,
                                 uint8_t hop_limit) {
  const size_t csum_off = upper_proto == 6 ? 16 : upper_proto == 58 ? 2 : SIZE_MAX;
  if (csum_off != SIZE_MAX && csum_off + 2 <= upper.size()) {
    upper[csum_off] = 0;
    upper[csum_off + 1] = 0;
    const uint16_t c = reference_checksum6(src, dst, upper_proto, upper);
    upper[csum_off] = static_cast<uint8_t>(c >> 8);
    upper[csum_off + 1] = static_cast<uint8_t>(c);
  }
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xDD};
  const size_t plen = ext.size() + upper.size();
  f.insert(f.end(), {0x60, 0, 0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen), first_nh, hop_limit});
  f.insert(f.end(), src.b.begin(), src.b.end());
  f.insert(f.end(), dst.b.begin(), dst.b.end());
  f.insert(f.end(), ext.begin(), ext.end());
  f.insert(f.end(), upper.begin(), upper.end());
  return f;
}

}  // namespace synmill::wire::test
