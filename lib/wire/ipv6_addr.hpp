#pragma once
// IPv6 addresses (RFC 4291): 16 bytes in network order, kept as bytes (they
// are only ever compared, copied and summed, never computed with). The
// address family tag the TCP frame builders and parsers take. Multicast
// mapping to Ethernet (RFC 2464 §7) and the solicited-node group (RFC 4291
// §2.7.1) that Neighbor Discovery sends to.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/ethernet.hpp"

namespace synmill::wire {

enum class IpFamily : uint8_t { kV4, kV6 };

struct Ipv6Addr {
  std::array<uint8_t, 16> b{};

  // Eight 16-bit groups as written in text ("2001:2::1" = {0x2001, 2, 0, 0, 0, 0, 0, 1}).
  static constexpr Ipv6Addr from_groups(const std::array<uint16_t, 8>& g) {
    Ipv6Addr a;
    for (size_t i = 0; i < 8; ++i) {
      a.b[2 * i] = static_cast<uint8_t>(g[i] >> 8);
      a.b[2 * i + 1] = static_cast<uint8_t>(g[i]);
    }
    return a;
  }
  // Precondition: p points at 16 readable bytes.
  static Ipv6Addr load(const uint8_t* p) {
    Ipv6Addr a;
    std::memcpy(a.b.data(), p, 16);
    return a;
  }
  void store(uint8_t* p) const { std::memcpy(p, b.data(), 16); }

  constexpr bool is_unspecified() const {  // :: (RFC 4291 §2.5.2)
    for (uint8_t x : b) {
      if (x != 0) return false;
    }
    return true;
  }
  constexpr bool is_loopback() const {  // ::1 (RFC 4291 §2.5.3)
    for (size_t i = 0; i < 15; ++i) {
      if (b[i] != 0) return false;
    }
    return b[15] == 1;
  }
  // ::ffff:0:0/96, IPv4-mapped (RFC 4291 §2.5.5.2): never a valid source on
  // the wire (RFC 6890's registry; Linux's tcp_v6_conn_request drops such a SYN).
  constexpr bool is_v4_mapped() const {
    for (int i = 0; i < 10; ++i) {
      if (b[i] != 0) return false;
    }
    return b[10] == 0xFF && b[11] == 0xFF;
  }
  constexpr bool is_multicast() const { return b[0] == 0xFF; }                          // ff00::/8 (§2.7)
  constexpr bool is_link_local() const { return b[0] == 0xFE && (b[1] & 0xC0) == 0x80; }  // fe80::/10 (§2.5.6)

  friend constexpr bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
};

// ff02::1, all nodes on the link (RFC 4291 §2.7.1): where unsolicited NAs go.
inline constexpr Ipv6Addr kAllNodesAddr = Ipv6Addr::from_groups({0xFF02, 0, 0, 0, 0, 0, 0, 1});

// ff02::1:ffXX:XXXX, the solicited-node group of `a`: its low 24 bits
// appended to ff02::1:ff00:0/104 (RFC 4291 §2.7.1).
constexpr Ipv6Addr solicited_node_addr(const Ipv6Addr& a) {
  Ipv6Addr s = Ipv6Addr::from_groups({0xFF02, 0, 0, 0, 0, 1, 0xFF00, 0});
  s.b[13] = a.b[13];
  s.b[14] = a.b[14];
  s.b[15] = a.b[15];
  return s;
}

constexpr bool is_solicited_node_addr(const Ipv6Addr& a) {
  const Ipv6Addr prefix = solicited_node_addr(Ipv6Addr{});
  for (size_t i = 0; i < 13; ++i) {
    if (a.b[i] != prefix.b[i]) return false;
  }
  return true;
}

// 33:33 followed by the group's low 32 bits (RFC 2464 §7): the Ethernet
// destination of a frame to an IPv6 multicast address; for a solicited-node
// group, 33:33:ff:XX:XX:XX.
constexpr MacAddr ipv6_multicast_mac(const Ipv6Addr& group) {
  return MacAddr{0x33, 0x33, group.b[12], group.b[13], group.b[14], group.b[15]};
}

}  // namespace synmill::wire
