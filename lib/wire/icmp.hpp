#pragma once
// ICMP (RFC 792): a view of the 8-byte header (type, code, checksum, and the
// identifier / sequence number of echo messages) and the in-place echo reply.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/result.hpp"

namespace synmill::wire {

inline constexpr size_t kIcmpHeaderLen = 8;

namespace icmp_type {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
}  // namespace icmp_type

class IcmpView {
 public:
  IcmpView() = default;

  // `msg` is the IP payload (already trimmed by the IP total length).
  // kIcmpTruncated when fewer than 8 bytes. The checksum is not checked.
  static Result<IcmpView> parse(std::span<const uint8_t> msg);

  uint8_t type() const { return bytes_[0]; }
  uint8_t code() const { return bytes_[1]; }
  uint16_t checksum() const;
  uint16_t echo_id() const;   // meaningful for echo request / reply
  uint16_t echo_seq() const;  // meaningful for echo request / reply
  bool is_echo_request() const { return type() == icmp_type::kEchoRequest && code() == 0; }
  // Checksum over the whole ICMP message (RFC 792).
  bool checksum_ok() const;
  std::span<const uint8_t> payload() const { return bytes_.subspan(kIcmpHeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit IcmpView(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// Turns a received Ethernet frame carrying an ICMP echo request into the echo
// reply, in place (RFC 792 "Echo or Echo Reply Message", RFC 1122 §3.2.2.6):
// swaps MAC and IP addresses, sets the type to 0 and the IP TTL to `ttl`,
// updating both checksums incrementally (RFC 1624) so a request with a valid
// checksum yields a reply with a valid one. Identifier, sequence number and
// data are echoed unchanged; IP options are echoed unchanged as well (RFC 1122
// asks to update Record Route / Timestamp; we do not). Returns the reply's
// frame length (14 + IP total length: Ethernet padding dropped), or 0 when
// `frame` is not an unfragmented IPv4 ICMP echo request (nothing modified).
size_t icmp_echo_reply_in_place(std::span<uint8_t> frame, uint8_t ttl = 64);

}  // namespace synmill::wire
