#include "test_util.hpp"

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

}  // namespace synmill::wire::test
