// libFuzzer target: the receive-side parser. One input = one Ethernet frame.
//
//   parse_frame (checksums verified and trusted), parse_tcp_options on the
//   TCP options area, segment_from_frame; then a rebuild of the parsed TCP
//   segment with build_tcp_frame / frame_from_segment, parsed again, must
//   give back the same fields.
//
// Invariants (abort on violation): every span the parser hands out lies inside
// the input; the TCP payload ends where the IP total length says; the options
// area is at most 40 bytes; at most 4 SACK blocks; a rebuilt frame parses;
// a valid ICMP echo request becomes a valid reply in place, an ARP request a
// parsable reply; where
// wire/flow_peek.hpp exists, peek_tcp_flow() agrees with the full parse.
//
// Differential checks of the fast paths against the general ones: the
// in-place parser (parse_tcp_frame / segment_from_bytes) accepts, rejects
// (same error) and reads exactly what parse_frame + segment_from_frame do,
// with checksums verified and trusted; the template builder
// (frame_from_segment) writes the same bytes as build_tcp_frame.
//
// IPv6 (ParseFlags::accept_ipv6): fuzz_wire6.cpp, on the same input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_wire6.hpp"
#include "tcp/segment_codec.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_parse.hpp"
#if __has_include("wire/flow_peek.hpp")  // the software dispatcher's tuple peek (main)
#include "wire/flow_peek.hpp"
#define SYNMILL_FUZZ_FLOW_PEEK 1
#endif

using namespace synmill;

namespace {

#define FUZZ_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) {                                                               \
      __builtin_printf("fuzz_wire: invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

bool inside(std::span<const uint8_t> inner, const uint8_t* base, size_t size) {
  if (inner.empty()) return true;
  return inner.data() >= base && inner.data() + inner.size() <= base + size;
}

class VecSource final : public tcp::PayloadSource {
 public:
  explicit VecSource(std::span<const uint8_t> d) : d_(d) {}
  void copy_to(uint32_t offset, uint32_t len, uint8_t* dst) const override {
    FUZZ_CHECK(static_cast<size_t>(offset) + len <= d_.size());
    std::memcpy(dst, d_.data() + offset, len);
  }

 private:
  std::span<const uint8_t> d_;
};

void check_same_options(const wire::TcpOptions& a, const wire::TcpOptions& b) {
  FUZZ_CHECK(a.has_mss == b.has_mss);
  FUZZ_CHECK(!a.has_mss || a.mss == b.mss);
  FUZZ_CHECK(a.has_wscale == b.has_wscale);
  FUZZ_CHECK(!a.has_wscale || a.wscale == b.wscale);
  FUZZ_CHECK(a.sack_permitted == b.sack_permitted);
  FUZZ_CHECK(a.has_timestamps == b.has_timestamps);
  FUZZ_CHECK(!a.has_timestamps || (a.ts_val == b.ts_val && a.ts_ecr == b.ts_ecr));
}

void check_same_segment(const tcp::SegmentIn& a, const tcp::SegmentIn& b) {
  FUZZ_CHECK(a.tuple.local_ip == b.tuple.local_ip && a.tuple.remote_ip == b.tuple.remote_ip);
  FUZZ_CHECK(a.tuple.local_port == b.tuple.local_port && a.tuple.remote_port == b.tuple.remote_port);
  FUZZ_CHECK(a.seq == b.seq && a.ack == b.ack && a.flags == b.flags && a.window == b.window);
  FUZZ_CHECK(a.payload.data() == b.payload.data() && a.payload.size() == b.payload.size());
  FUZZ_CHECK(a.local6 == b.local6 && a.remote6 == b.remote6);
  check_same_options(a.opts, b.opts);
  FUZZ_CHECK(a.opts.mss == b.opts.mss && a.opts.wscale == b.opts.wscale);
  FUZZ_CHECK(a.opts.ts_val == b.opts.ts_val && a.opts.ts_ecr == b.opts.ts_ecr);
  FUZZ_CHECK(a.opts.sack_count == b.opts.sack_count);
  for (int k = 0; k < wire::kMaxSackBlocks; ++k) {
    FUZZ_CHECK(a.opts.sack[k].left == b.opts.sack[k].left && a.opts.sack[k].right == b.opts.sack[k].right);
  }
}

// The receive fast path against parse_frame (`full`, same flags).
void check_fast_parse(std::span<const uint8_t> in, wire::ParseFlags flags, const wire::Result<wire::Frame>& full) {
  // One SegmentIn for every input, as Worker::handle keeps: whatever the last
  // frame left in it must not show through (segment_from_bytes writes every
  // field).
  static tcp::SegmentIn seg;
  static const wire::Ipv6Addr stale{};
  seg.local6 = seg.remote6 = &stale;
  seg.tuple = tcp::FourTuple{0xDEADBEEF, 0xDEADBEEF, 0xDEAD, 0xBEEF};
  wire::TcpFrameView view;
  wire::ParseError err{};
  switch (tcp::segment_from_bytes(in, flags, seg, view, err)) {
    case wire::TcpFrameParse::kTcp:
      FUZZ_CHECK(full.ok() && full->kind == wire::FrameKind::kIpv4Tcp);
      check_same_segment(seg, tcp::segment_from_frame(*full));
      FUZZ_CHECK(view.frame() == in.data());
      FUZZ_CHECK(view.options().data() == full->tcp.options().data() &&
                 view.options().size() == full->tcp.options().size());
      break;
    case wire::TcpFrameParse::kNotTcp:
      FUZZ_CHECK(!full.ok() || full->kind != wire::FrameKind::kIpv4Tcp);
      break;
    case wire::TcpFrameParse::kError:
      FUZZ_CHECK(!full.ok() && full.error() == err);
      break;
  }
}

void check_frame(const wire::Frame& f, const uint8_t* data, size_t size) {
  FUZZ_CHECK(inside(f.payload, data, size));
  if (f.kind != wire::FrameKind::kIpv4Tcp) return;
  FUZZ_CHECK(inside(f.ip.bytes(), data, size));
  FUZZ_CHECK(inside(f.tcp.bytes(), data, size));
  FUZZ_CHECK(inside(f.tcp.options(), data, size));
  FUZZ_CHECK(f.tcp.options().size() <= wire::kTcpMaxOptionsLen);
  FUZZ_CHECK(f.opts.sack_count <= wire::kMaxSackBlocks);
  FUZZ_CHECK(f.tcp.bytes().size() >= wire::kTcpMinHeaderLen);
  // Payload ends with the TCP segment, which ends with the IP datagram.
  FUZZ_CHECK(f.payload.size() + f.tcp.options().size() + wire::kTcpMinHeaderLen == f.tcp.bytes().size());
  FUZZ_CHECK(f.tcp.bytes().data() + f.tcp.bytes().size() == f.ip.bytes().data() + f.ip.bytes().size());

  const tcp::SegmentIn seg = tcp::segment_from_frame(f);
  FUZZ_CHECK(seg.payload.size() == f.payload.size());
  FUZZ_CHECK(seg.tuple.local_ip == f.ip.dst() && seg.tuple.remote_ip == f.ip.src());

  // Rebuild what we parsed (the way synmill's reply path writes frames) and
  // parse it again: the fields must survive.
  if (seg.payload.size() > 2048) return;
  tcp::SegmentOut out;
  out.tuple = tcp::FourTuple{seg.tuple.remote_ip, seg.tuple.local_ip, seg.tuple.remote_port,
                             seg.tuple.local_port};
  out.seq = seg.seq;
  out.ack = seg.ack;
  out.flags = seg.flags;
  out.window = seg.window;
  out.opts = seg.opts;
  const VecSource src(seg.payload);
  out.payload_src = &src;
  out.payload_len = static_cast<uint32_t>(seg.payload.size());
  std::vector<uint8_t> buf(tcp::frame_len_for(out));
  tcp::FrameAddrs addrs;
  const size_t n = tcp::frame_from_segment(buf, out, addrs);
  FUZZ_CHECK(n == buf.size());
  // The template builder writes what the general builder writes.
  {
    wire::TcpFrameSpec spec;
    spec.src_ip = out.tuple.local_ip;
    spec.dst_ip = out.tuple.remote_ip;
    spec.src_port = out.tuple.local_port;
    spec.dst_port = out.tuple.remote_port;
    spec.seq = out.seq.raw();
    spec.ack = (out.flags & tcp::flag::kAck) ? out.ack.raw() : 0;
    spec.flags = out.flags;
    spec.window = out.window;
    spec.opts = out.opts;
    std::vector<uint8_t> ref(buf.size());
    FUZZ_CHECK(wire::build_tcp_frame(ref, spec, seg.payload) == n);
    FUZZ_CHECK(std::memcmp(ref.data(), buf.data(), n) == 0);
  }
  const auto again = wire::parse_frame(std::span<const uint8_t>(buf.data(), n));
  FUZZ_CHECK(static_cast<bool>(again));
  FUZZ_CHECK(again->kind == wire::FrameKind::kIpv4Tcp);
  const tcp::SegmentIn seg2 = tcp::segment_from_frame(*again);
  FUZZ_CHECK(seg2.tuple.local_ip == seg.tuple.local_ip && seg2.tuple.remote_ip == seg.tuple.remote_ip);
  FUZZ_CHECK(seg2.tuple.local_port == seg.tuple.local_port && seg2.tuple.remote_port == seg.tuple.remote_port);
  FUZZ_CHECK(seg2.seq == seg.seq && seg2.flags == seg.flags && seg2.window == seg.window);
  if (seg.flags & tcp::flag::kAck) FUZZ_CHECK(seg2.ack == seg.ack);
  FUZZ_CHECK(seg2.payload.size() == seg.payload.size());
  FUZZ_CHECK(seg.payload.empty() || std::memcmp(seg2.payload.data(), seg.payload.data(), seg.payload.size()) == 0);
  check_same_options(seg.opts, seg2.opts);
  const size_t blocks = wire::tcp_sack_blocks_that_fit(seg.opts);
  FUZZ_CHECK(seg2.opts.sack_count == blocks);
  for (size_t b = 0; b < blocks; ++b) {
    FUZZ_CHECK(seg2.opts.sack[b].left == seg.opts.sack[b].left);
    FUZZ_CHECK(seg2.opts.sack[b].right == seg.opts.sack[b].right);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into an exactly sized heap buffer so ASan sees any read past the end.
  std::vector<uint8_t> frame(data, data + size);
  const std::span<const uint8_t> in(frame.data(), frame.size());

  const auto trusted = wire::parse_frame(in, wire::kTrustChecksums);
  check_fast_parse(in, wire::kTrustChecksums, trusted);
  if (trusted) check_frame(*trusted, frame.data(), frame.size());
  const auto verified = wire::parse_frame(in, wire::kVerifyChecksums);
  check_fast_parse(in, wire::kVerifyChecksums, verified);
  if (verified) {
    check_frame(*verified, frame.data(), frame.size());
    FUZZ_CHECK(static_cast<bool>(trusted) && trusted->kind == verified->kind);  // verifying only removes
  }

#ifdef SYNMILL_FUZZ_FLOW_PEEK
  // The dispatcher picks the owner core from peek_tcp_flow() before the owner
  // parses the frame: whatever the full parse accepts as IPv4 TCP must peek to
  // the same 4-tuple, or the flow lands on a core that does not own it.
  if (trusted && trusted->kind == wire::FrameKind::kIpv4Tcp) {
    const auto peek = wire::peek_tcp_flow(in);
    FUZZ_CHECK(peek.has_value());
    FUZZ_CHECK(peek->src_ip == trusted->ip.src() && peek->dst_ip == trusted->ip.dst());
    FUZZ_CHECK(peek->src_port == trusted->tcp.src_port() && peek->dst_port == trusted->tcp.dst_port());
  }
#endif

  // The ICMP echo responder works in place on the received frame: a valid
  // request must become a valid reply (RFC 1624 incremental checksums).
  if (verified && verified->kind == wire::FrameKind::kIpv4Icmp && verified->icmp.is_echo_request()) {
    std::vector<uint8_t> copy(frame);
    const size_t n = wire::icmp_echo_reply_in_place(copy, 64);
    FUZZ_CHECK(n > 0 && n <= copy.size());
    const auto reply = wire::parse_frame(std::span<const uint8_t>(copy.data(), n));
    FUZZ_CHECK(static_cast<bool>(reply));
    FUZZ_CHECK(reply->kind == wire::FrameKind::kIpv4Icmp);
    FUZZ_CHECK(reply->icmp.type() == 0 && reply->icmp.code() == 0);
    FUZZ_CHECK(reply->ip.src() == verified->ip.dst() && reply->ip.dst() == verified->ip.src());
    FUZZ_CHECK(reply->icmp.echo_id() == verified->icmp.echo_id());
    FUZZ_CHECK(reply->icmp.echo_seq() == verified->icmp.echo_seq());
    FUZZ_CHECK(reply->payload.size() == verified->payload.size());
    FUZZ_CHECK(reply->payload.empty() ||
               std::memcmp(reply->payload.data(), verified->payload.data(), reply->payload.size()) == 0);
  }

  // An ARP request is answered with a frame that parses back to the reply.
  if (verified && verified->kind == wire::FrameKind::kArp && verified->arp.op() == wire::arp_op::kRequest) {
    const wire::MacAddr mine{0x02, 0, 0, 0, 0, 0x02};
    uint8_t out[wire::kArpFrameLen];
    FUZZ_CHECK(wire::build_arp_reply(out, mine, verified->arp.target_ip(), verified->arp.sender_mac(),
                                     verified->arp.sender_ip()) == wire::kArpFrameLen);
    const auto r = wire::parse_frame(std::span<const uint8_t>(out, sizeof out));
    FUZZ_CHECK(static_cast<bool>(r) && r->kind == wire::FrameKind::kArp);
    FUZZ_CHECK(r->arp.op() == wire::arp_op::kReply);
    FUZZ_CHECK(r->arp.sender_ip() == verified->arp.target_ip() && r->arp.sender_mac() == mine);
    FUZZ_CHECK(r->arp.target_ip() == verified->arp.sender_ip());
    FUZZ_CHECK(r->arp.target_mac() == verified->arp.sender_mac());
    FUZZ_CHECK(r->eth.dst() == verified->arp.sender_mac());
  }

  fuzz_wire_ipv6(in);

  // The options parser alone, on a prefix of at most 40 bytes.
  const size_t olen = size < wire::kTcpMaxOptionsLen ? size : wire::kTcpMaxOptionsLen;
  std::vector<uint8_t> optbuf(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(olen));
  const auto opts = wire::parse_tcp_options(optbuf);
  if (opts) {
    FUZZ_CHECK(opts->sack_count <= wire::kMaxSackBlocks);
    // Written back and parsed again: the same options.
    uint8_t out[wire::kTcpMaxOptionsLen];
    const size_t n = wire::write_tcp_options(out, *opts);
    FUZZ_CHECK(n == wire::tcp_options_len(*opts) && n <= wire::kTcpMaxOptionsLen && n % 4 == 0);
    const auto back = wire::parse_tcp_options(std::span<const uint8_t>(out, n));
    FUZZ_CHECK(static_cast<bool>(back));
    check_same_options(*opts, *back);
    FUZZ_CHECK(back->sack_count == wire::tcp_sack_blocks_that_fit(*opts));
  }
  return 0;
}
