#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/frame.hpp"
#include "wire/flow_peek.hpp"

namespace tv = synmill::wire::test_vectors;
using synmill::wire::peek_tcp_flow;
using synmill::wire::test::bytes_of;

TEST_CASE("peek_tcp_flow reads the tuple parse_frame reads", "[wire]") {
  for (const auto& frame : {bytes_of(tv::kSynFrame), bytes_of(tv::kDataFrame), bytes_of(tv::kPaddedAckFrame)}) {
    const auto p = peek_tcp_flow(frame);
    const auto f = synmill::wire::parse_frame(frame);
    REQUIRE(p.has_value());
    REQUIRE(static_cast<bool>(f));
    CHECK(p->src_ip == f->ip.src());
    CHECK(p->dst_ip == f->ip.dst());
    CHECK(p->src_port == f->tcp.src_port());
    CHECK(p->dst_port == f->tcp.dst_port());
  }
}

TEST_CASE("peek_tcp_flow leaves what it cannot read to the full parse", "[wire]") {
  CHECK_FALSE(peek_tcp_flow(bytes_of(tv::kArpRequestFrame)));
  CHECK_FALSE(peek_tcp_flow(bytes_of(tv::kEchoRequestFrame)));
  auto syn = bytes_of(tv::kSynFrame);
  CHECK_FALSE(peek_tcp_flow(std::span<const uint8_t>(syn.data(), 14 + 20 + 3)));  // ports cut off
  CHECK(peek_tcp_flow(std::span<const uint8_t>(syn.data(), 14 + 20 + 4)));
  auto frag = syn;
  frag[14 + 7] = 0x10;  // fragment offset 16 (x8): not the first fragment
  CHECK_FALSE(peek_tcp_flow(frag));
  auto short_ihl = syn;
  short_ihl[14] = 0x44;  // IHL 4 words
  CHECK_FALSE(peek_tcp_flow(short_ihl));
  auto v6 = syn;
  v6[14] = 0x65;
  CHECK_FALSE(peek_tcp_flow(v6));
  CHECK_FALSE(peek_tcp_flow(std::span<const uint8_t>()));
}

TEST_CASE("peek_tcp4_tuple reads what peek_tcp_flow reads, or leaves the frame to it", "[wire]") {
  using synmill::wire::FlowTuple4;
  using synmill::wire::peek_tcp4_tuple;
  std::mt19937 rng(791);
  const std::vector<std::vector<uint8_t>> frames = {bytes_of(tv::kSynFrame), bytes_of(tv::kDataFrame),
                                                    bytes_of(tv::kPaddedAckFrame), bytes_of(tv::kArpRequestFrame),
                                                    bytes_of(tv::kEchoRequestFrame)};
  int fast = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    auto f = frames[static_cast<size_t>(iter) % frames.size()];
    // Mutate the bytes the two peeks look at (EtherType, version/IHL,
    // fragment field, protocol) and sometimes cut the frame short.
    const size_t spots[] = {12, 13, 14, 20, 21, 23};
    if (iter % 3 != 0) {
      const size_t at = spots[rng() % 6];
      if (at < f.size()) f[at] = static_cast<uint8_t>(rng() % 4 == 0 ? rng() : f[at] ^ (1u << (rng() % 8)));
    }
    const size_t len = iter % 5 == 0 ? rng() % (f.size() + 1) : f.size();
    const std::span<const uint8_t> s(f.data(), len);
    const auto p = peek_tcp_flow(s);
    FlowTuple4 t{};
    if (peek_tcp4_tuple(s, t)) {
      ++fast;
      REQUIRE(p.has_value());
      CHECK(p->src_ip == t.src_ip);
      CHECK(p->dst_ip == t.dst_ip);
      CHECK(p->src_port == t.src_port);
      CHECK(p->dst_port == t.dst_port);
    } else if (p) {
      CHECK((s[14] & 0x0F) > 5);  // only IPv4 with options is peek_tcp_flow's alone
    }
  }
  CHECK(fast > 1000);
}
