#pragma once
// IPv4 header (RFC 791 §3.1). Addresses in host order. Options (IHL > 5) are
// accepted and skipped, never interpreted.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr size_t kIpv4MaxHeaderLen = 60;

namespace ip_proto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
}  // namespace ip_proto

// Byte offsets inside the header, for in-place rewrites (checksum.hpp).
namespace ipv4_off {
inline constexpr size_t kTotalLen = 2;
inline constexpr size_t kId = 4;
inline constexpr size_t kTtl = 8;
inline constexpr size_t kChecksum = 10;
inline constexpr size_t kSrc = 12;
inline constexpr size_t kDst = 16;
}  // namespace ipv4_off

class Ipv4View {
 public:
  Ipv4View() = default;

  // `data` is the Ethernet payload, possibly padded. Checks, in order:
  // kIpTruncated (< 20 bytes), kIpBadVersion, kIpBadIhl (IHL < 5),
  // kIpIhlBeyondData, kIpTotalLenTooSmall (< IHL*4), kIpTotalLenBeyondFrame.
  // The view covers exactly total-length bytes: Ethernet padding is trimmed.
  // Neither the checksum nor fragmentation is checked here.
  static Result<Ipv4View> parse(std::span<const uint8_t> data);

  uint8_t version() const { return static_cast<uint8_t>(bytes_[0] >> 4); }
  size_t header_len() const { return static_cast<size_t>(bytes_[0] & 0x0F) * 4; }
  uint8_t tos() const { return bytes_[1]; }
  uint16_t total_len() const { return load_be16(bytes_.data() + ipv4_off::kTotalLen); }
  uint16_t id() const { return load_be16(bytes_.data() + ipv4_off::kId); }
  bool dont_fragment() const { return (bytes_[6] & 0x40) != 0; }
  bool more_fragments() const { return (bytes_[6] & 0x20) != 0; }
  uint16_t fragment_offset() const { return load_be16(bytes_.data() + 6) & 0x1FFF; }  // in 8-byte units
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
  uint8_t ttl() const { return bytes_[8]; }
  uint8_t protocol() const { return bytes_[9]; }
  uint16_t checksum() const { return load_be16(bytes_.data() + ipv4_off::kChecksum); }
  uint32_t src() const { return load_be32(bytes_.data() + ipv4_off::kSrc); }
  uint32_t dst() const { return load_be32(bytes_.data() + ipv4_off::kDst); }
  bool checksum_ok() const;

  std::span<const uint8_t> header() const { return bytes_.first(header_len()); }
  // The datagram's payload: total length minus header, padding excluded.
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_len()); }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit Ipv4View(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;  // total_len bytes
};

struct Ipv4HeaderSpec {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint8_t protocol = 0;
  uint16_t total_len = 0;  // header + payload
  uint8_t ttl = 64;
  uint16_t id = 0;
  bool dont_fragment = true;  // RFC 1191 path MTU discovery, as Linux sets for TCP
  uint8_t tos = 0;
};

// Writes a 20-byte header (no options). Returns kIpv4MinHeaderLen, or 0 when
// `out` is shorter. With fill_checksum=false the checksum field is zero (for
// TX offload).
size_t write_ipv4_header(std::span<uint8_t> out, const Ipv4HeaderSpec& spec, bool fill_checksum = true);

// Recomputes and stores the checksum of the header at the start of `hdr`
// (IHL*4 bytes, which `hdr` must hold).
void fill_ipv4_checksum(std::span<uint8_t> hdr);

// In-place reply helpers: swap source and destination (the header checksum is
// unchanged, the sum being commutative); set TTL with an RFC 1624 update.
// Precondition: `hdr` holds a header of at least 20 bytes.
void swap_ipv4_addresses(std::span<uint8_t> hdr);
void set_ipv4_ttl(std::span<uint8_t> hdr, uint8_t ttl);

}  // namespace synmill::wire
