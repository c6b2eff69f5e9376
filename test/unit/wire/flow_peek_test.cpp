#include <catch2/catch.hpp>

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
