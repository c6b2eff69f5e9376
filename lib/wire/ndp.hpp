#pragma once
// Neighbor Discovery over Ethernet (RFC 4861): Neighbor Solicitation and
// Neighbor Advertisement, with their source / target link-layer address
// options (§4.6.1, 8 bytes on Ethernet: RFC 2464 §8). Validity checks of
// §7.1.1 and §7.1.2; builders for the messages a host sends (§7.2.2
// address resolution, §7.2.4 the solicited answer, §7.2.6 unsolicited).
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ethernet.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

inline constexpr uint8_t kNdHopLimit = 255;     // §7.1: anything else came through a router
inline constexpr size_t kNdMinLen = 24;         // type..checksum, reserved/flags, target
inline constexpr size_t kNdLinkLayerOptLen = 8; // type, length 1, MAC
// Frames our builders write: Ethernet + IPv6 + NS/NA + one link-layer option.
inline constexpr size_t kNdFrameLen = kEthHeaderLen + kIpv6HeaderLen + kNdMinLen + kNdLinkLayerOptLen;  // 86

namespace nd_opt {
inline constexpr uint8_t kSourceLinkAddr = 1;  // §4.6.1
inline constexpr uint8_t kTargetLinkAddr = 2;
}  // namespace nd_opt

// First byte of an NA's flags word (§4.4).
namespace nd_flag {
inline constexpr uint8_t kRouter = 0x80;
inline constexpr uint8_t kSolicited = 0x40;
inline constexpr uint8_t kOverride = 0x20;
}  // namespace nd_flag

struct NdMessage {
  uint8_t type = 0;   // icmp6_type::kNeighborSolicit or kNeighborAdvert
  uint8_t flags = 0;  // NA: nd_flag bits; NS: 0
  Ipv6Addr target;
  // NS: the source link-layer option; NA: the target link-layer option.
  // Other options are skipped (§4.6: unrecognised ones silently ignored).
  bool has_lladdr = false;
  MacAddr lladdr{};
};

// Validates a received NS or NA carried by `ip` (checksum already checked,
// as parse_frame does). In order: kNdBadHopLimit (hop limit != 255),
// kNdBadCode, kNdTruncated (ICMP length < 24), kNdTargetMulticast, the
// options (kNdBadOptionLength: a length of 0 or one past the message;
// kNdBadLinkLayerOption: the link-layer option our message type carries not
// 8 bytes, which Linux drops as well), then for NS from :: (duplicate address
// detection): kNdUnspecifiedSourceNotSolicited (destination not a
// solicited-node group), kNdUnspecifiedSourceWithSlla; for NA:
// kNdSolicitedToMulticast (S set, destination multicast). Precondition:
// icmp's type is NS or NA.
Result<NdMessage> parse_nd(const Ipv6View& ip, const Icmpv6View& icmp);

// NS for `target` (§7.2.2): to its solicited-node group and that group's
// MAC (33:33:ff:..), hop limit 255, from `src` with a source link-layer
// option, or from :: without one (duplicate address detection, RFC 4862
// §5.4.2). Returns the frame length (86, or 78 from ::), 0 when `out` is
// too small.
size_t build_neighbor_solicit(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& src,
                              const Ipv6Addr& target);

// NA (§4.4) for `target` from `src` to `dst` at `dst_mac`, hop limit 255,
// `flags` (nd_flag), with a target link-layer option giving `my_mac`.
// Returns kNdFrameLen, 0 when `out` is too small.
size_t build_neighbor_advert(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& src,
                             const MacAddr& dst_mac, const Ipv6Addr& dst, const Ipv6Addr& target, uint8_t flags);

// The answer to a valid NS for one of our addresses (§7.2.4): from the
// target, Override set (not anycast, not proxied), Router clear (a host).
// To the solicitation's source with Solicited set, at the MAC of its source
// link-layer option or else the frame's source MAC; or, from ::, to all
// nodes (ff02::1, 33:33:00:00:00:01) with Solicited clear.
size_t build_neighbor_advert_reply(std::span<uint8_t> out, const MacAddr& my_mac, const NdMessage& ns,
                                   const Ipv6Addr& ns_src, const MacAddr& ns_src_mac);

// Unsolicited NA announcing `addr` (§7.2.6), as sent at start: to all nodes,
// Override set, Solicited clear.
size_t build_unsolicited_neighbor_advert(std::span<uint8_t> out, const MacAddr& my_mac, const Ipv6Addr& addr);

}  // namespace synmill::wire
