#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>

#include "test_util.hpp"
#include "test_vectors.hpp"
#include "wire/frame.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"

using namespace synmill::wire;
using namespace synmill::wire::test;
namespace tv = synmill::wire::test_vectors;

TEST_CASE("parse_frame: scapy SYN, every view filled", "[wire]") {
  const auto fr = parse_frame(tv::kSynFrame);
  REQUIRE(fr.ok());
  CHECK(fr->kind == FrameKind::kIpv4Tcp);
  CHECK(fr->eth.ethertype() == ethertype::kIpv4);
  CHECK(fr->eth.frame().size() == sizeof(tv::kSynFrame));
  CHECK(fr->ip.src() == tv::kIp1);
  CHECK(fr->ip.dst() == tv::kIp2);
  CHECK(fr->tcp.src_port() == 40000);
  CHECK(fr->tcp.dst_port() == 80);
  CHECK(fr->tcp.seq() == 0x12345678);
  CHECK(fr->tcp.flags() == tcp_flag::kSyn);
  CHECK(fr->opts.mss == 1460);
  CHECK(fr->payload.empty());
}

TEST_CASE("parse_frame: data payload", "[wire]") {
  const auto fr = parse_frame(tv::kDataFrame);
  REQUIRE(fr.ok());
  CHECK(std::string(fr->payload.begin(), fr->payload.end()) == "hello, world!");
  CHECK(fr->payload.data() == tv::kDataFrame + 66);
}

TEST_CASE("parse_frame: views never reach past the input", "[wire]") {
  const auto fr = parse_frame(tv::kPaddedAckFrame);
  REQUIRE(fr.ok());
  const uint8_t* end = tv::kPaddedAckFrame + sizeof(tv::kPaddedAckFrame);
  CHECK(fr->ip.bytes().data() + fr->ip.bytes().size() <= end);
  CHECK(fr->tcp.bytes().data() + fr->tcp.bytes().size() == end - 6);
}

TEST_CASE("ParseError names are distinct and defined", "[wire]") {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kParseErrorCount; ++i) {
    const auto name = to_string(static_cast<ParseError>(i));
    CHECK(name != "unknown");
    CHECK_FALSE(name.empty());
    names.insert(name);
  }
  CHECK(names.size() == kParseErrorCount);
  CHECK(to_string(ParseError::kIpFragment) == "ip_fragment");
  CHECK(to_string(ParseError::kCount) == "unknown");
}

TEST_CASE("Result holds a value or an error", "[wire]") {
  const Result<int> ok = 42;
  CHECK(ok.ok());
  CHECK(static_cast<bool>(ok));
  CHECK(*ok == 42);
  CHECK(ok.value_or(7) == 42);
  const Result<int> bad = ParseError::kTcpTruncated;
  CHECK_FALSE(bad.ok());
  CHECK(bad.error() == ParseError::kTcpTruncated);
  CHECK(bad.value_or(7) == 7);
}
