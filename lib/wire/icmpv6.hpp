#pragma once
// ICMPv6 (RFC 4443): a view of a message (type, code, checksum over the
// IPv6 pseudo-header, the identifier / sequence number of echo messages) and
// the echo reply built in place. Neighbor Discovery messages: ndp.hpp.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ethernet.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

// Type, code, checksum and four more bytes: every message RFC 4443 and RFC
// 4861 define has at least these (echo: id and sequence; errors: unused/MTU/
// pointer; NS/NA: reserved/flags).
inline constexpr size_t kIcmpv6MinLen = 8;

namespace icmp6_type {
inline constexpr uint8_t kEchoRequest = 128;     // RFC 4443 §4.1
inline constexpr uint8_t kEchoReply = 129;       // RFC 4443 §4.2
inline constexpr uint8_t kNeighborSolicit = 135; // RFC 4861 §4.3
inline constexpr uint8_t kNeighborAdvert = 136;  // RFC 4861 §4.4
}  // namespace icmp6_type

class Icmpv6View {
 public:
  Icmpv6View() = default;

  // `msg` is the IPv6 upper-layer packet (Ipv6View::upper()).
  // kIcmp6Truncated when fewer than 8 bytes. The checksum is not checked.
  static Result<Icmpv6View> parse(std::span<const uint8_t> msg);

  uint8_t type() const { return bytes_[0]; }
  uint8_t code() const { return bytes_[1]; }
  uint16_t checksum() const { return load_be16(bytes_.data() + 2); }
  uint16_t echo_id() const { return load_be16(bytes_.data() + 4); }   // echo request / reply
  uint16_t echo_seq() const { return load_be16(bytes_.data() + 6); }  // echo request / reply
  bool is_echo_request() const { return type() == icmp6_type::kEchoRequest && code() == 0; }
  // RFC 4443 §2.3: over the pseudo-header of `ip` (the packet carrying it)
  // and the whole message.
  bool checksum_ok(const Ipv6View& ip) const;
  // After the first 8 bytes (echo data).
  std::span<const uint8_t> payload() const { return bytes_.subspan(kIcmpv6MinLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  explicit Icmpv6View(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// Stores the checksum of the ICMPv6 message `msg` (its field zeroed first)
// sent from `src` to `dst` (RFC 4443 §2.3).
void fill_icmpv6_checksum(std::span<uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst);

// Turns a received Ethernet frame carrying an ICMPv6 echo request into the
// echo reply, in place (RFC 4443 §4.2): from `my_mac` / `my_addr` (a request
// to a multicast group is answered from a unicast address of ours, §4.2) to
// the request's source, hop limit `hop_limit`, type 129; identifier,
// sequence number and data echoed. Extension headers of the request are not
// echoed: the message moves up to right after a 40-byte header. The checksum
// is computed afresh. The request's own checksum must have been verified
// (parse_frame). Returns the reply's frame length (14 + 40 + message), or 0,
// leaving `frame` as it was, when it is not an IPv6 ICMPv6 echo request
// (Ipv6View::parse rules) or its source is unspecified (no one to answer).
size_t icmpv6_echo_reply_in_place(std::span<uint8_t> frame, const MacAddr& my_mac, const Ipv6Addr& my_addr,
                                  uint8_t hop_limit = 64);

}  // namespace synmill::wire
