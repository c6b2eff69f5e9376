#pragma once
// TCP header (RFC 9293 §3.1). Ports in host order. The view spans the whole
// segment (header, options, payload) as trimmed by the IP total length.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"
#include "wire/result.hpp"
#include "wire/tcp_flags.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::wire {

inline constexpr size_t kTcpMinHeaderLen = 20;
inline constexpr size_t kTcpMaxHeaderLen = 60;

// Byte offsets inside the header, for in-place rewrites (checksum.hpp).
namespace tcp_off {
inline constexpr size_t kSrcPort = 0;
inline constexpr size_t kDstPort = 2;
inline constexpr size_t kSeq = 4;
inline constexpr size_t kAck = 8;
inline constexpr size_t kDataOffset = 12;
inline constexpr size_t kFlags = 13;
inline constexpr size_t kWindow = 14;
inline constexpr size_t kChecksum = 16;
inline constexpr size_t kUrgent = 18;
}  // namespace tcp_off

class TcpView {
 public:
  TcpView() = default;

  // `segment` is the IP payload. kTcpTruncated (< 20 bytes),
  // kTcpBadDataOffset (data offset < 5), kTcpDataOffsetBeyondSegment.
  // Neither options nor the checksum are checked here.
  static Result<TcpView> parse(std::span<const uint8_t> segment);

  uint16_t src_port() const { return load_be16(bytes_.data() + tcp_off::kSrcPort); }
  uint16_t dst_port() const { return load_be16(bytes_.data() + tcp_off::kDstPort); }
  uint32_t seq() const { return load_be32(bytes_.data() + tcp_off::kSeq); }
  uint32_t ack() const { return load_be32(bytes_.data() + tcp_off::kAck); }
  size_t header_len() const { return static_cast<size_t>(bytes_[tcp_off::kDataOffset] >> 4) * 4; }
  uint8_t flags() const { return bytes_[tcp_off::kFlags]; }  // CWR..FIN; reserved bits not exposed
  bool has(uint8_t f) const { return (flags() & f) != 0; }
  uint16_t window() const { return load_be16(bytes_.data() + tcp_off::kWindow); }
  uint16_t checksum() const { return load_be16(bytes_.data() + tcp_off::kChecksum); }
  uint16_t urgent_ptr() const { return load_be16(bytes_.data() + tcp_off::kUrgent); }

  std::span<const uint8_t> options() const { return bytes_.subspan(kTcpMinHeaderLen, header_len() - kTcpMinHeaderLen); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_len()); }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit TcpView(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// The fields of an outgoing segment's IPv4 and TCP headers (host byte
// order): the one description every writer takes (TcpFrameTemplate on the
// transmit path, write_tcp_header() and build_tcp_frame() for tests and
// peers).
struct TcpHeaderFields {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
};

// Writes header + options (write_tcp_options layout) with a zero checksum;
// the addresses are not part of it. Returns the header length (20 +
// tcp_options_len(opts)), or 0 when `out` is too small (nothing written).
size_t write_tcp_header(std::span<uint8_t> out, const TcpHeaderFields& h, const TcpOptions& opts,
                        uint16_t urgent_ptr = 0);

}  // namespace synmill::wire
