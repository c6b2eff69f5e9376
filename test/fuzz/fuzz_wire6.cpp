// fuzz_wire's IPv6 half (the same input, parsed with ParseFlags::accept_ipv6):
//
//  - accept_ipv6 changes nothing for other EtherTypes; without it an IPv6
//    frame stays kOther;
//  - parse_tcp_frame accepts, rejects (same error) and reads what parse_frame
//    does, for IPv4 and IPv6 alike; peek_tcp_flow(in, true) reads the same
//    IPv6 tuple;
//  - every span lies inside the input;
//  - an IPv6 TCP segment rebuilt with build_tcp_frame and with the frame
//    template (write_headers6 + fill_tcp6_checksum) gives the same bytes,
//    which parse back to the same fields;
//  - a verified ICMPv6 echo request becomes a reply that parses;
//  - a valid NS gets an NA (RFC 4861 §7.2.4) that passes parse_nd, with the
//    target, Solicited flag and destination §7.2.4 asks for; an NS we build
//    for a valid target passes parse_nd.
#include "fuzz_wire6.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/flow_peek.hpp"
#include "wire/frame.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ndp.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_parse.hpp"
#include "wire/tcp_template.hpp"

using namespace synmill;

namespace {

#define FUZZ_CHECK(cond)                                                                            \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      __builtin_printf("fuzz_wire (IPv6): invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)

const wire::MacAddr kMine{0x02, 0, 0, 0, 0, 0x02};

bool inside(std::span<const uint8_t> inner, std::span<const uint8_t> outer) {
  return inner.empty() || (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

bool is_tcp(wire::FrameKind k) { return k == wire::FrameKind::kIpv4Tcp || k == wire::FrameKind::kIpv6Tcp; }

void same_options(const wire::TcpOptions& a, const wire::TcpOptions& b) {
  FUZZ_CHECK(a.has_mss == b.has_mss && a.mss == b.mss);
  FUZZ_CHECK(a.has_wscale == b.has_wscale && a.wscale == b.wscale);
  FUZZ_CHECK(a.sack_permitted == b.sack_permitted);
  FUZZ_CHECK(a.has_timestamps == b.has_timestamps && a.ts_val == b.ts_val && a.ts_ecr == b.ts_ecr);
  FUZZ_CHECK(a.sack_count == b.sack_count);
}

void check_fast(std::span<const uint8_t> in, wire::ParseFlags flags, const wire::Result<wire::Frame>& full) {
  wire::TcpFrameView v;
  wire::TcpOptions o;
  wire::ParseError e{};
  switch (wire::parse_tcp_frame(in, flags, v, o, e)) {
    case wire::TcpFrameParse::kTcp:
      FUZZ_CHECK(full.ok() && is_tcp(full->kind));
      FUZZ_CHECK(v.is_ipv6() == (full->kind == wire::FrameKind::kIpv6Tcp));
      FUZZ_CHECK(v.segment().data() == full->tcp.bytes().data() && v.segment().size() == full->tcp.bytes().size());
      FUZZ_CHECK(v.options().data() == full->tcp.options().data() && v.options().size() == full->tcp.options().size());
      FUZZ_CHECK(v.payload().data() == full->payload.data() && v.payload().size() == full->payload.size());
      FUZZ_CHECK(v.seq() == full->tcp.seq() && v.ack() == full->tcp.ack() && v.flags() == full->tcp.flags());
      if (v.is_ipv6()) FUZZ_CHECK(v.src_ip6() == full->ip6.src() && v.dst_ip6() == full->ip6.dst());
      same_options(o, full->opts);
      break;
    case wire::TcpFrameParse::kNotTcp: FUZZ_CHECK(!full.ok() || !is_tcp(full->kind)); break;
    case wire::TcpFrameParse::kError: FUZZ_CHECK(!full.ok() && full.error() == e); break;
  }
}

void check_tcp6(std::span<const uint8_t> in, const wire::Frame& f) {
  FUZZ_CHECK(inside(f.tcp.bytes(), in) && inside(f.ip6.bytes(), in));
  FUZZ_CHECK(f.tcp.bytes().data() + f.tcp.bytes().size() == f.ip6.bytes().data() + f.ip6.bytes().size());
  FUZZ_CHECK(f.tcp.bytes().size() == f.ip6.upper().size());
  const auto peek = wire::peek_tcp_flow(in, true);
  FUZZ_CHECK(peek.has_value() && peek->family == wire::IpFamily::kV6);
  FUZZ_CHECK(peek->src_ip6 == f.ip6.src() && peek->dst_ip6 == f.ip6.dst());
  FUZZ_CHECK(peek->src_port == f.tcp.src_port() && peek->dst_port == f.tcp.dst_port());

  // The reply direction, rebuilt both ways. Not to a multicast destination:
  // that reply would come from a multicast source, which the parse drops
  // (RFC 4291 §2.7); the data plane answers only its own unicast addresses.
  if (f.payload.size() > 2048 || f.ip6.dst().is_multicast()) return;
  wire::TcpFrameSpec spec;
  spec.family = wire::IpFamily::kV6;
  spec.src_mac = kMine;
  spec.dst_mac = f.eth.src();
  spec.src_ip6 = f.ip6.dst();
  spec.dst_ip6 = f.ip6.src();
  spec.src_port = f.tcp.dst_port();
  spec.dst_port = f.tcp.src_port();
  spec.seq = f.tcp.seq();
  spec.ack = f.tcp.ack();
  spec.flags = f.tcp.flags();
  spec.window = f.tcp.window();
  spec.opts = f.opts;
  const size_t olen = wire::tcp_options_len(spec.opts);
  const size_t len = wire::tcp_frame_header_len(spec.opts, wire::IpFamily::kV6) + f.payload.size();
  std::vector<uint8_t> a(len), b(len);
  FUZZ_CHECK(wire::build_tcp_frame(a, spec, f.payload) == len);
  const wire::TcpFrameTemplate tpl(kMine, 64);
  tpl.write_headers6(b.data(), spec.dst_mac, spec.src_ip6, spec.dst_ip6, spec, spec.opts, olen, f.payload.size());
  if (!f.payload.empty()) std::memcpy(b.data() + len - f.payload.size(), f.payload.data(), f.payload.size());
  wire::fill_tcp6_checksum(b.data(), 20 + olen + f.payload.size());
  FUZZ_CHECK(a == b);
  const auto again = wire::parse_frame(a, wire::ParseFlags{true, true, true});
  FUZZ_CHECK(again.ok() && again->kind == wire::FrameKind::kIpv6Tcp);
  FUZZ_CHECK(again->ip6.src() == f.ip6.dst() && again->ip6.dst() == f.ip6.src());
  FUZZ_CHECK(again->tcp.src_port() == f.tcp.dst_port() && again->tcp.dst_port() == f.tcp.src_port());
  FUZZ_CHECK(again->tcp.seq() == f.tcp.seq() && again->tcp.ack() == f.tcp.ack());
  FUZZ_CHECK(again->tcp.flags() == f.tcp.flags() && again->tcp.window() == f.tcp.window());
  FUZZ_CHECK(again->payload.size() == f.payload.size());
  FUZZ_CHECK(f.payload.empty() || std::memcmp(again->payload.data(), f.payload.data(), f.payload.size()) == 0);
  FUZZ_CHECK(again->opts.sack_count == wire::tcp_sack_blocks_that_fit(f.opts));
}

void check_icmp6(std::span<const uint8_t> in, const wire::Frame& f, bool verified) {
  FUZZ_CHECK(inside(f.icmp6.bytes(), in) && f.icmp6.bytes().size() >= wire::kIcmpv6MinLen);
  const wire::Ipv6Addr me = wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});
  if (verified && f.icmp6.is_echo_request()) {
    std::vector<uint8_t> copy(in.begin(), in.end());
    const size_t n = wire::icmpv6_echo_reply_in_place(copy, kMine, me, 64);
    if (f.ip6.src().is_unspecified()) {
      FUZZ_CHECK(n == 0);
    } else {
      FUZZ_CHECK(n == 54 + f.icmp6.bytes().size() && n <= copy.size());
      copy.resize(n);
      const auto r = wire::parse_frame(copy, wire::ParseFlags{true, true, true});
      FUZZ_CHECK(r.ok() && r->kind == wire::FrameKind::kIpv6Icmp);
      FUZZ_CHECK(r->icmp6.type() == 129 && r->icmp6.code() == 0);
      FUZZ_CHECK(r->icmp6.echo_id() == f.icmp6.echo_id() && r->icmp6.echo_seq() == f.icmp6.echo_seq());
      FUZZ_CHECK(r->ip6.dst() == f.ip6.src() && r->ip6.src() == me);
      FUZZ_CHECK(r->payload.size() == f.payload.size());
      FUZZ_CHECK(f.payload.empty() || std::memcmp(r->payload.data(), f.payload.data(), f.payload.size()) == 0);
    }
  }
  const uint8_t t = f.icmp6.type();
  if (t != wire::icmp6_type::kNeighborSolicit && t != wire::icmp6_type::kNeighborAdvert) return;
  const auto nd = wire::parse_nd(f.ip6, f.icmp6);
  if (!nd) return;
  FUZZ_CHECK(f.ip6.hop_limit() == 255 && f.icmp6.code() == 0 && !nd->target.is_multicast());
  if (t != wire::icmp6_type::kNeighborSolicit) return;
  uint8_t out[wire::kNdFrameLen];
  FUZZ_CHECK(wire::build_neighbor_advert_reply(out, kMine, *nd, f.ip6.src(), f.eth.src()) == wire::kNdFrameLen);
  const auto r = wire::parse_frame(std::span<const uint8_t>(out, sizeof out), wire::ParseFlags{true, true, true});
  FUZZ_CHECK(r.ok() && r->kind == wire::FrameKind::kIpv6Icmp);
  const auto na = wire::parse_nd(r->ip6, r->icmp6);
  FUZZ_CHECK(na.ok() && na->type == wire::icmp6_type::kNeighborAdvert && na->target == nd->target);
  FUZZ_CHECK(na->has_lladdr && na->lladdr == kMine);
  const bool from_unspecified = f.ip6.src().is_unspecified();
  FUZZ_CHECK(((na->flags & wire::nd_flag::kSolicited) != 0) == !from_unspecified);
  FUZZ_CHECK(r->ip6.dst() == (from_unspecified ? wire::kAllNodesAddr : f.ip6.src()));
  // And the solicitation we would send for that target passes our checks.
  uint8_t ns_out[wire::kNdFrameLen];
  FUZZ_CHECK(wire::build_neighbor_solicit(ns_out, kMine, me, nd->target) == wire::kNdFrameLen);
  const auto s = wire::parse_frame(std::span<const uint8_t>(ns_out, sizeof ns_out), wire::ParseFlags{true, true, true});
  FUZZ_CHECK(s.ok() && s->kind == wire::FrameKind::kIpv6Icmp);
  const auto ns2 = wire::parse_nd(s->ip6, s->icmp6);
  FUZZ_CHECK(ns2.ok() && ns2->target == nd->target && ns2->has_lladdr && ns2->lladdr == kMine);
}

}  // namespace

void fuzz_wire_ipv6(std::span<const uint8_t> in) {
  const bool v6_type = in.size() >= wire::kEthHeaderLen && wire::load_be16(in.data() + 12) == wire::ethertype::kIpv6;
  for (const bool verify : {false, true}) {
    const wire::ParseFlags v4only{verify, verify, false};
    const wire::ParseFlags dual{verify, verify, true};
    const auto before = wire::parse_frame(in, v4only);
    const auto full = wire::parse_frame(in, dual);
    if (v6_type) {
      FUZZ_CHECK(before.ok() && before->kind == wire::FrameKind::kOther);
    } else {
      FUZZ_CHECK(before.ok() == full.ok());
      FUZZ_CHECK(before.ok() ? before->kind == full->kind : before.error() == full.error());
    }
    check_fast(in, dual, full);
    if (!full.ok()) continue;
    FUZZ_CHECK(inside(full->payload, in));
    if (full->kind == wire::FrameKind::kIpv6Tcp) check_tcp6(in, *full);
    if (full->kind == wire::FrameKind::kIpv6Icmp) check_icmp6(in, *full, verify);
  }
}
