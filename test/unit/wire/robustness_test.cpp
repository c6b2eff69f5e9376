// Randomized robustness (every rng() draw is sequenced, so the run is the
// same with any compiler and optimization level): valid frames, mutated frames and garbage through
// parse_frame (and the in-place ICMP reply). Each input lives in a heap buffer
// of exactly its size, so under ASan any read past the end is caught; every
// view of an accepted frame is walked to the last byte.
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/bytes.hpp"
#include "wire/frame.hpp"
#include "wire/icmp.hpp"
#include "wire/tcp_frame.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

namespace {

using Rng = std::mt19937_64;

uint32_t sum_bytes(std::span<const uint8_t> s) {
  uint32_t acc = 0;
  for (uint8_t b : s) acc += b;
  return acc;
}

// Touches every accessor and every byte an accepted frame exposes.
uint64_t walk(const Frame& f) {
  uint64_t acc = f.eth.ethertype() + f.eth.src()[0] + f.eth.dst()[5] + sum_bytes(f.payload);
  switch (f.kind) {
    case FrameKind::kArp:
      acc += f.arp.op() + f.arp.sender_ip() + f.arp.target_ip() + f.arp.sender_mac()[5] + f.arp.target_mac()[5];
      break;
    case FrameKind::kIpv4Tcp:
      acc += f.tcp.src_port() + f.tcp.dst_port() + f.tcp.seq() + f.tcp.ack() + f.tcp.flags() + f.tcp.window() +
             f.tcp.checksum() + f.tcp.urgent_ptr() + sum_bytes(f.tcp.options()) + sum_bytes(f.tcp.bytes());
      acc += f.opts.mss + f.opts.wscale + f.opts.ts_val + f.opts.sack_count;
      REQUIRE(f.opts.sack_count <= kMaxSackBlocks);
      [[fallthrough]];
    case FrameKind::kIpv4Icmp:
      if (f.kind == FrameKind::kIpv4Icmp) {
        acc += f.icmp.type() + f.icmp.code() + f.icmp.echo_id() + f.icmp.echo_seq() + sum_bytes(f.icmp.bytes());
      }
      [[fallthrough]];
    case FrameKind::kIpv4Other:
      acc += f.ip.src() + f.ip.dst() + f.ip.ttl() + f.ip.id() + f.ip.protocol() + f.ip.total_len() +
             sum_bytes(f.ip.header()) + sum_bytes(f.ip.payload());
      REQUIRE(f.ip.bytes().size() == f.ip.total_len());
      REQUIRE_FALSE(f.ip.is_fragment());
      break;
    case FrameKind::kOther:
      break;
    case FrameKind::kIpv6Tcp:  // never without ParseFlags::accept_ipv6 (robustness6_test has them)
    case FrameKind::kIpv6Icmp:
    case FrameKind::kIpv6Other: FAIL("IPv6 classified without accept_ipv6"); break;
  }
  return acc;
}

std::vector<uint8_t> random_tcp_frame(Rng& rng) {
  TcpFrameSpec s;
  s.src_ip = static_cast<uint32_t>(rng());
  s.dst_ip = static_cast<uint32_t>(rng());
  s.seq = static_cast<uint32_t>(rng());
  s.flags = static_cast<uint8_t>(rng());
  s.opts.has_mss = rng() % 2;
  s.opts.has_wscale = rng() % 2;
  s.opts.sack_permitted = rng() % 2;
  s.opts.has_timestamps = rng() % 2;
  s.opts.sack_count = static_cast<uint8_t>(rng() % 5);
  std::vector<uint8_t> payload(rng() % 64, 0x5A);
  std::vector<uint8_t> out(200);
  out.resize(build_tcp_frame(out, s, payload));
  return out;
}

std::vector<uint8_t> seed_frame(Rng& rng) {
  switch (rng() % 9) {
    case 0: return bytes_of(tv::kSynFrame);
    case 1: return bytes_of(tv::kSynAckFrame);
    case 2: return bytes_of(tv::kDataFrame);
    case 3: return bytes_of(tv::kPaddedAckFrame);
    case 4: return bytes_of(tv::kEchoRequestFrame);
    case 5: return bytes_of(tv::kArpRequestFrame);
    case 6: return bytes_of(tv::kSackAckFrame);
    case 7: {  // garbage
      std::vector<uint8_t> g(rng() % 100);
      for (auto& b : g) b = static_cast<uint8_t>(rng());
      if (g.size() >= 14 && rng() % 2) store_be16(g.data() + 12, rng() % 2 ? ethertype::kIpv4 : ethertype::kArp);
      if (g.size() >= 15 && rng() % 2) g[14] = 0x45;
      return g;
    }
    default: return random_tcp_frame(rng);
  }
}

// Random TCP options area of `len` bytes built from plausible pieces.
void scribble_options(std::vector<uint8_t>& f, size_t off, size_t len, Rng& rng) {
  static constexpr std::array<uint8_t, 9> kKinds = {0, 1, 2, 3, 4, 5, 8, 30, 254};
  size_t i = 0;
  while (i < len) {
    f[off + i++] = kKinds[rng() % kKinds.size()];
    if (i < len) f[off + i++] = static_cast<uint8_t>(rng() % 4 == 0 ? rng() : rng() % 12);
    const size_t body = rng() % 9;
    for (size_t k = 0; k < body && i < len; ++k) f[off + i++] = static_cast<uint8_t>(rng());
  }
}

void mutate(std::vector<uint8_t>& f, Rng& rng) {
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < n; ++m) {
    switch (rng() % 8) {
      case 0:
      case 1:  // flip a byte, mostly in the headers
        if (!f.empty()) {
          const size_t span = rng() % 2 ? std::min<size_t>(f.size(), 80) : f.size();
          const size_t at = rng() % span;
          f[at] ^= static_cast<uint8_t>(1 + rng() % 255);
        }
        break;
      case 2:  // truncate
        f.resize(f.empty() ? 0 : rng() % (f.size() + 1));
        break;
      case 3: {  // extend (trailer / padding)
        const size_t extra = rng() % 20;
        f.resize(f.size() + extra, static_cast<uint8_t>(rng()));
        break;
      }
      case 4:  // IP total length
        if (f.size() >= 18) {
          store_be16(f.data() + 16, static_cast<uint16_t>(rng() % 2 ? rng() : rng() % (f.size() + 8)));
        }
        break;
      case 5:  // IHL / version
        if (f.size() >= 15) f[14] = static_cast<uint8_t>(rng() % 2 ? 0x40 | (rng() % 16) : rng());
        break;
      case 6:  // TCP data offset
        if (f.size() >= 47) f[46] = static_cast<uint8_t>((rng() % 16) << 4);
        break;
      default:  // options area
        if (f.size() >= 54 && (f[46] >> 4) > 5) {
          const size_t olen = std::min<size_t>((f[46] >> 4) * 4u - 20, f.size() - 54);
          scribble_options(f, 54, olen, rng);
        }
        break;
    }
  }
}

}  // namespace

TEST_CASE("robustness: 200k random and mutated frames never crash", "[wire]") {
  Rng rng(0x5EED);
  std::array<size_t, kParseErrorCount> errors{};
  std::array<size_t, 5> kinds{};
  uint64_t sink = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::vector<uint8_t> f = seed_frame(rng);
    if (rng() % 8 != 0) mutate(f, rng);
    if (rng() % 2) refresh_checksums(f);
    // Exact-size heap copy: any overread is a heap-buffer-overflow under ASan.
    const std::vector<uint8_t> exact(f.begin(), f.end());
    const ParseFlags flags{rng() % 4 != 0, rng() % 4 != 0};
    const auto r = parse_frame(std::span<const uint8_t>(exact.data(), exact.size()), flags);
    if (r.ok()) {
      ++kinds[static_cast<size_t>(r->kind)];
      sink += walk(*r);
    } else {
      REQUIRE(static_cast<size_t>(r.error()) < kParseErrorCount);
      ++errors[static_cast<size_t>(r.error())];
    }
    std::vector<uint8_t> reply(f.begin(), f.end());
    const size_t n = icmp_echo_reply_in_place(reply);
    REQUIRE(n <= reply.size());
  }
  CHECK(sink != 0);
  // The mix reaches every classification and every error.
  for (size_t k = 0; k < kinds.size(); ++k) {
    INFO("kind " << k);
    CHECK(kinds[k] > 0);
  }
  // IPv4-side errors; the IPv6, ICMPv6 and ND ones (accept_ipv6, parse_nd)
  // have their own tests (ipv6_test, icmpv6_test, ndp_test, robustness6_test).
  for (size_t e = 0; e < static_cast<size_t>(ParseError::kIp6Truncated); ++e) {
    INFO("error " << to_string(static_cast<ParseError>(e)));
    CHECK(errors[e] > 0);
  }
}
