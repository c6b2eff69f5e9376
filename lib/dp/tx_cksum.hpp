#pragma once
// TX checksum offload of a TCP frame the worker built (Ethernet, IPv4 or
// IPv6, TCP; no VLAN tag): the mbuf's lengths and flags, and the
// pseudo-header sum the NIC completes, stored in the TCP checksum field.
// Used only when the port enabled the offload (PortInfo::tx_*_offloaded());
// otherwise the frame carries full software checksums and no flag.
#include <cstddef>
#include <cstdint>

struct rte_mbuf;

namespace synmill::dp {

// `frame` (len bytes, at the mbuf's data) holds IPv4 or IPv6 by its
// EtherType. IPv4: RTE_MBUF_F_TX_IPV4, plus RTE_MBUF_F_TX_IP_CKSUM with
// `ip_cksum` (the header checksum field is left as built: the NIC
// overwrites it). IPv6 (RFC 8200 §8.1): RTE_MBUF_F_TX_IPV6 (no header
// checksum to offload); l3_len covers the extension headers, if any, and the
// pseudo-header carries the upper-layer length (TCP header and data, not the
// extension headers). `tcp_cksum`: RTE_MBUF_F_TX_TCP_CKSUM and the folded,
// uncomplemented pseudo-header sum in the checksum field (what
// rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum give). l2_len, l3_len and l4_len
// are set in every case. Returns false (nothing changed) for a frame it
// cannot read: not IP, or an IPv6 chain that does not end at TCP.
bool mark_tcp_tx_offload(rte_mbuf* m, uint8_t* frame, size_t len, bool ip_cksum, bool tcp_cksum);

}  // namespace synmill::dp
