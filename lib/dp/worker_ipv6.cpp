// The worker's IPv6 half (see worker.hpp): TCP to our IPv6 addresses,
// Neighbor Discovery (RFC 4861) and ICMPv6 echo (RFC 4443), the IPv6
// neighbour table, the unsolicited NA sent at start.
#include <algorithm>
#include <cstring>

#include "dp/dispatch.hpp"
#include "dp/rte.hpp"
#include "dp/worker.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ndp.hpp"

namespace synmill::dp {

namespace {

constexpr size_t kMinFrame = 60;  // Ethernet minimum without FCS

uint8_t neigh6_slot(const wire::Ipv6Addr& a) {
  uint32_t low = 0;
  std::memcpy(&low, a.b.data() + 12, 4);
  uint32_t high = 0;
  std::memcpy(&high, a.b.data() + 8, 4);
  return static_cast<uint8_t>(((low ^ (high * 31u)) * 0x9E3779B1u) >> 24);
}

}  // namespace

bool Worker::ours6(const wire::Ipv6Addr& a) const {
  return std::any_of(addrs6_.begin(), addrs6_.end(), [&a](const Address& x) { return x.ip6 == a; }) ||
         std::any_of(s_.ranges6.begin(), s_.ranges6.end(), [&a](const AddrRange6& r) { return r.contains(a); });
}

// Address resolution (RFC 4861 §7.2.2), as resolve() does with ARP: an NS
// for `ip` to its solicited-node group, from `from` with our link-layer
// address; the NA that answers fills the table (handle_nd).
bool Worker::resolve6(const wire::Ipv6Addr& ip, const wire::Ipv6Addr& from) {
  if (neighbour6(ip) != nullptr) return true;
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
  if (m == nullptr) {
    ++ctr_.drop_no_mbuf;
    return false;
  }
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, wire::kNdFrameLen));
  if (p == nullptr ||
      wire::build_neighbor_solicit(std::span<uint8_t>(p, wire::kNdFrameLen), s_.port->mac, from, ip) == 0) {
    ++ctr_.drop_frame_too_big;
    rte_pktmbuf_free(m);
    return false;
  }
  tx(m);
  return false;
}

// A source never answered, not even with RST: unspecified (RFC 4291
// §2.5.2: never a source of TCP), loopback (§2.5.3: never leaves a host),
// multicast (§2.7: never a source), one of ours (source equal to the
// destination, a land attack, or our own frame looped back), or a multicast
// MAC.
bool Worker::bad_source6(const wire::Ipv6Addr& src, const uint8_t* src_mac) const {
  return src.is_unspecified() || src.is_loopback() || src.is_multicast() || src.is_v4_mapped() || ours6(src) ||
         (src_mac[0] & 1) != 0;
}

void Worker::learn6(const wire::Ipv6Addr& ip, const std::array<uint8_t, 6>& mac) {
  if (ip.is_unspecified() || ip.is_multicast() || (mac[0] & 1) != 0) return;
  Neighbour6& n = neigh6_[neigh6_slot(ip)];
  if (n.ip != ip || n.mac != mac) {
    n.ip = ip;
    n.mac = mac;
    ++ctr_.nd_learned;
    if (dispatch_ != nullptr && s_.index == 0) dispatch_->announce(NeighbourNote{0, mac, true, ip});
  }
}

const std::array<uint8_t, 6>* Worker::neighbour6(const wire::Ipv6Addr& ip) const {
  const Neighbour6& n = neigh6_[neigh6_slot(ip)];
  return n.ip == ip && !ip.is_unspecified() ? &n.mac : nullptr;
}

// TCP over IPv6: to one of our addresses, unicast, from a plausible unicast
// source (true: its source MAC learnt, on to the stack as IPv4 segments go;
// false: dropped, counted, freed).
bool Worker::accept_tcp6(rte_mbuf* m, const tcp::SegmentIn& seg, const uint8_t* eth) {
  if (!ours6(*seg.local6) || (eth[0] & 1) != 0) {
    ++ctr_.drop_not_for_us;
    rte_pktmbuf_free(m);
    return false;
  }
  if (bad_source6(*seg.remote6, eth + 6)) {
    ++ctr_.drop_bad_source;
    rte_pktmbuf_free(m);
    return false;
  }
  wire::MacAddr src_mac;
  std::memcpy(src_mac.data(), eth + 6, 6);
  learn6(*seg.remote6, src_mac);
  reply_mac_ = src_mac;
  seen_ip_ = 0;  // reply_mac_ is no longer the IPv4 source's (worker.hpp)
  return true;
}

// ICMPv6 (checksum verified by parse_frame): NS/NA to Neighbor Discovery,
// echo requests to one of our addresses answered in place (RFC 4443 §4.2);
// the rest (router solicitations, MLD reports, errors, echo to a group) is
// dropped and counted.
void Worker::handle_icmp6(rte_mbuf* m, std::span<uint8_t> frame, const wire::Frame& f) {
  const uint8_t type = f.icmp6.type();
  if (type == wire::icmp6_type::kNeighborSolicit || type == wire::icmp6_type::kNeighborAdvert) {
    handle_nd(m, f);
    return;
  }
  if (!f.icmp6.is_echo_request()) {
    ++ctr_.drop_icmp6_other;
    rte_pktmbuf_free(m);
    return;
  }
  const wire::Ipv6Addr dst = f.ip6.dst();
  if (!ours6(dst) || (f.eth.dst()[0] & 1) != 0) {
    ++ctr_.drop_not_for_us;
    rte_pktmbuf_free(m);
    return;
  }
  if (bad_source6(f.ip6.src(), f.eth.src().data())) {
    ++ctr_.drop_bad_source;
    rte_pktmbuf_free(m);
    return;
  }
  const size_t n = wire::icmpv6_echo_reply_in_place(frame, s_.port->mac, dst);
  if (n == 0) {
    ++ctr_.drop_parse_error;
    rte_pktmbuf_free(m);
    return;
  }
  const size_t len = std::max(n, kMinFrame);
  if (len > n) std::fill(frame.data() + n, frame.data() + len, 0);
  rte_pktmbuf_data_len(m) = static_cast<uint16_t>(len);
  rte_pktmbuf_pkt_len(m) = static_cast<uint32_t>(len);
  m->ol_flags = 0;
  ++ctr_.icmp6_echo_replies;
  tx(m);
}

// Neighbor Discovery (RFC 4861). parse_nd() applies §7.1.1 / §7.1.2 (hop
// limit 255: not forwarded by a router, so not spoofed from off the link;
// code; length; options; the rules for :: sources). Then:
// - NS for one of our addresses, to that address or its solicited-node
//   group: the sender's source link-layer option updates the neighbour table
//   (§7.2.3) and a solicited NA answers (§7.2.4); from :: (another node's
//   duplicate address detection of our address) the NA goes to all nodes.
// - NA: its target link-layer option updates the neighbour table. Linux and
//   RFC 4861 §7.2.5 only update entries they already hold; this table
//   learns from every valid NA on the link, as it learns from every ARP
//   reply to us (the same trust as the IPv4 side). An NA for one of our own
//   addresses is another node claiming it (RFC 4862 §5.4.4): counted, not
//   learned.
void Worker::handle_nd(rte_mbuf* m, const wire::Frame& f) {
  const auto nd = wire::parse_nd(f.ip6, f.icmp6);
  if (!nd) {
    ++ctr_.drop_nd_invalid;
    rte_pktmbuf_free(m);
    return;
  }
  const wire::Ipv6Addr src = f.ip6.src();
  const wire::Ipv6Addr dst = f.ip6.dst();
  // Sources that are multicast, loopback or ours never take part (an NS
  // from :: is duplicate address detection, handled below).
  if (src.is_multicast() || src.is_loopback() || ours6(src) || (f.eth.src()[0] & 1) != 0) {
    ++ctr_.drop_bad_source;
    rte_pktmbuf_free(m);
    return;
  }
  if (nd->type == wire::icmp6_type::kNeighborAdvert) {
    ++ctr_.nd_adverts_received;
    if (ours6(nd->target)) {
      ++ctr_.drop_nd_conflict;
    } else if (nd->has_lladdr) {
      learn6(nd->target, nd->lladdr);
    }
    rte_pktmbuf_free(m);
    return;
  }
  // NS (§7.2.3): for us only if the target is ours and it came to the target
  // itself or to the target's solicited-node group.
  if (!ours6(nd->target) || (dst != nd->target && dst != wire::solicited_node_addr(nd->target))) {
    ++ctr_.drop_nd_not_ours;
    rte_pktmbuf_free(m);
    return;
  }
  ++ctr_.nd_solicits;
  if (!src.is_unspecified() && nd->has_lladdr) learn6(src, nd->lladdr);
  const wire::NdMessage ns = *nd;
  const wire::MacAddr src_mac = f.eth.src();
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, wire::kNdFrameLen));
  if (p == nullptr) {
    ++ctr_.drop_frame_too_big;
    rte_pktmbuf_free(m);
    return;
  }
  const size_t n =
      wire::build_neighbor_advert_reply(std::span<uint8_t>(p, wire::kNdFrameLen), s_.port->mac, ns, src, src_mac);
  if (n == 0) {
    ++ctr_.drop_frame_too_big;
    rte_pktmbuf_free(m);
    return;
  }
  ++ctr_.nd_adverts_sent;
  tx(m);
}

// At start, one unsolicited NA per IPv6 address (RFC 4861 §7.2.6), as the
// gratuitous ARP announces the IPv4 ones: neighbours that cached another MAC
// for it update their entry (Override set).
void Worker::send_unsolicited_na() {
  for (const Address& a : addrs6_) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (m == nullptr) {
      ++ctr_.drop_no_mbuf;
      return;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, wire::kNdFrameLen));
    if (p == nullptr || wire::build_unsolicited_neighbor_advert(std::span<uint8_t>(p, wire::kNdFrameLen),
                                                                s_.port->mac, a.ip6) == 0) {
      ++ctr_.drop_frame_too_big;
      rte_pktmbuf_free(m);
      return;
    }
    ++ctr_.nd_unsolicited_sent;
    tx(m);
  }
}

}  // namespace synmill::dp
