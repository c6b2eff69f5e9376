#pragma once
// What the TCP core receives and what it asks the caller to transmit. The core
// never touches frames: the data plane (or the simulation) parses a frame into a
// SegmentIn with lib/wire and turns each SegmentOut into a frame.
#include <cstdint>
#include <span>

#include "tcp/types.hpp"
#include "wire/ipv6_addr.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::tcp {

struct SegmentIn {
  // local = destination of the received segment. IPv6 (local6 set): the
  // codec fills the ports and points local6 / remote6 at the addresses (in
  // the frame; valid during on_segment); Stack::on_segment fills local_ip /
  // remote_ip from its address tables (addr_table6.hpp).
  FourTuple tuple;
  const wire::Ipv6Addr* local6 = nullptr;
  const wire::Ipv6Addr* remote6 = nullptr;
  bool v6() const { return local6 != nullptr; }
  Seq seq;
  Seq ack;
  uint8_t flags = 0;
  uint16_t window = 0;  // raw header field, not yet scaled
  wire::TcpOptions opts;
  std::span<const uint8_t> payload;

  bool has(uint8_t f) const { return (flags & f) != 0; }
  // Sequence space the segment occupies: payload + SYN + FIN (RFC 9293 §3.4).
  uint32_t seg_len() const {
    return static_cast<uint32_t>(payload.size()) + ((flags & flag::kSyn) ? 1u : 0u) +
           ((flags & flag::kFin) ? 1u : 0u);
  }
};

// Payload of an outgoing segment lives in a connection's send queue; the
// emitter copies it out with copy_to() so the core never builds a frame.
class PayloadSource {
 public:
  // Copies `len` bytes starting `offset` bytes past the queue's first byte.
  virtual void copy_to(uint32_t offset, uint32_t len, uint8_t* dst) const = 0;

 protected:
  ~PayloadSource() = default;
};

struct SegmentOut {
  FourTuple tuple;  // local = source of the segment to send
  // IPv6 (is_ipv6(tuple)): the addresses, set by Stack::emit; null for IPv4.
  // They point into the stack's tables or the received segment and are
  // valid during TxSink::emit only.
  const wire::Ipv6Addr* local6 = nullptr;
  const wire::Ipv6Addr* remote6 = nullptr;
  Seq seq;
  Seq ack;
  uint8_t flags = 0;
  uint16_t window = 0;  // already scaled down for the header
  wire::TcpOptions opts;
  const PayloadSource* payload_src = nullptr;
  uint32_t payload_offset = 0;
  uint32_t payload_len = 0;
};

// Implemented by the caller: the poll loop builds a frame (in place in the
// received mbuf where it can), the simulation serializes into its link.
class TxSink {
 public:
  virtual void emit(const SegmentOut& seg) = 0;

 protected:
  ~TxSink() = default;
};

}  // namespace synmill::tcp
