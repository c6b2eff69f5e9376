// synmill-gen's pieces that run without the EAL: the latency histogram and
// the command line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gen/gen_config.hpp"
#include "gen/histogram.hpp"

using synmill::gen::CloseKind;
using synmill::gen::GenConfig;
using synmill::gen::Histogram;
using synmill::gen::Mode;

TEST_CASE("Histogram buckets: exact below 32, ~3% relative error above", "[gen]") {
  for (uint64_t v = 0; v < 32; ++v) CHECK(Histogram::upper_bound_of(Histogram::index_of(v)) == v);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const unsigned idx = Histogram::index_of(v);
    REQUIRE(idx < Histogram::kBuckets);
    const uint64_t hi = Histogram::upper_bound_of(idx);
    REQUIRE(hi >= v);
    REQUIRE(static_cast<double>(hi - v) <= static_cast<double>(v) / 32.0 + 1.0);
  }
  CHECK(Histogram::index_of(UINT64_MAX) == Histogram::kBuckets - 1);
}

TEST_CASE("Histogram quantiles against a sorted reference", "[gen]") {
  Histogram h;
  CHECK(h.quantile(0.5) == 0);
  std::vector<uint64_t> values;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> lat(10.0, 1.0);  // ~22 us median, in ns
  for (int i = 0; i < 50000; ++i) {
    const auto v = static_cast<uint64_t>(lat(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    const uint64_t got = h.quantile(q);
    CHECK(got >= exact);
    CHECK(static_cast<double>(got) <= static_cast<double>(exact) * 1.04 + 1);
  }
  CHECK(h.quantile(1.0) == values.back());
  CHECK(h.max() == values.back());
  Histogram other;
  other.record(5);
  other.merge(h);
  CHECK(other.count() == h.count() + 1);
  CHECK(other.quantile(0.0) == 5);
}

namespace {
synmill::dp::Parsed<GenConfig> parse(std::vector<std::string> a) { return synmill::gen::parse_gen_args(a); }
std::string error_of(std::vector<std::string> a) {
  auto p = parse(std::move(a));
  return synmill::dp::parsed_ok(p) ? std::string("(ok)") : std::get<1>(p);
}
}  // namespace

TEST_CASE("synmill-gen options", "[gen]") {
  auto p = parse({"--mode", "connect", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80", "--src-ports",
                  "2000-3000", "--src-addrs", "198.18.1.1-198.18.1.9", "--rate", "5000", "--duration", "2.5",
                  "--concurrency", "64", "--request", "1K", "--response=2K", "--close", "server", "--json"});
  REQUIRE(synmill::dp::parsed_ok(p));
  const GenConfig& c = std::get<0>(p);
  CHECK(c.mode == Mode::kConnect);
  CHECK(c.dst_ip == 0xC6120002u);
  CHECK(c.dst_port == 80);
  CHECK(c.src_ports.first == 2000);
  CHECK(c.src_ports.last == 3000);
  CHECK(c.src_addrs.first == 0xC6120101u);
  CHECK(c.src_addrs.last == 0xC6120109u);
  CHECK(c.rate == 5000);
  CHECK(c.duration.count_ms() == 2500);
  CHECK(c.concurrency == 64);
  CHECK(c.request == 1024);
  CHECK(c.response == 2048);
  CHECK(c.close == CloseKind::kServer);
  CHECK(c.json);

  auto d = parse({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80", "--rate", "max"});
  REQUIRE(synmill::dp::parsed_ok(d));
  CHECK(std::get<0>(d).rate == 0);
  CHECK(std::get<0>(d).src_addrs.first == 0xC6120001u);  // defaults to the first --addr

  CHECK(error_of({"--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80"}).find("--mode is required") == 0);
  CHECK(error_of({"--mode", "flood"}).find("--mode: 'flood'") == 0);
  CHECK(error_of({"--mode", "syn", "--addr", "2001:2::1/64", "--dst", "198.18.0.2:80"}) ==
        "--dst 198.18.0.2:80 is IPv4 and no --addr is: give the generator an IPv4 address (e.g. --addr "
        "198.18.0.1/24)");
  CHECK(error_of({"--mode", "syn", "--dst", "198.18.0.2:80"}).find("--addr is required") == 0);
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24"}).find("--dst is required") == 0);
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2"}).find("--dst: ") == 0);
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "198.18.0.1:80"}).find("own --addr") !=
        std::string::npos);
  CHECK(error_of({"--mode", "syn", "--src-ports", "3000-2000"}).find("above the last") != std::string::npos);
  CHECK(error_of({"--mode", "syn", "--src-ports", "0-10"}).find("--src-ports") == 0);
  CHECK(error_of({"--mode", "syn", "--rate"}).find("needs a value") != std::string::npos);
  CHECK(error_of({"--bogus", "1"}).find("unknown option --bogus") == 0);
  CHECK(error_of({"--json=1"}).find("takes no value") != std::string::npos);
  CHECK(error_of({"stray"}).find("unexpected argument") == 0);
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "198.18.1.5:80", "--src-addrs",
                  "198.18.1.1-198.18.1.9"})
            .find("contains the destination") != std::string::npos);
  auto hp = parse({"--mode", "connect", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80", "--hold", "1000",
                   "--hold-pause", "1.5"});
  REQUIRE(synmill::dp::parsed_ok(hp));
  CHECK(std::get<0>(hp).hold_pause.count_ms() == 1500);
  CHECK(error_of({"--mode", "connect", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80", "--hold-pause", "1"}) ==
        "--hold-pause goes with --hold");
  auto h = parse({"--help"});
  REQUIRE(synmill::dp::parsed_ok(h));
  CHECK(std::get<0>(h).help);
  CHECK(synmill::gen::gen_help_text().find("--close client|server|rst") != std::string::npos);
}

TEST_CASE("synmill-gen over IPv6: --addr, --dst [ADDR]:PORT, --src-addrs and the family checks", "[gen]") {
  using synmill::wire::Ipv6Addr;
  const Ipv6Addr gen1 = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 1});
  const Ipv6Addr dst = Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 2});

  // One IPv6 --addr: it is the source; the destination in brackets.
  auto p = parse({"--mode", "connect", "--addr", "2001:2::1/64", "--dst", "[2001:2::2]:7"});
  REQUIRE(synmill::dp::parsed_ok(p));
  {
    const GenConfig& c = std::get<0>(p);
    CHECK(c.v6);
    CHECK(c.dst_ip == 0);
    CHECK(c.dst_ip6 == dst);
    CHECK(c.dst_port == 7);
    CHECK(c.src_addrs6.first == gen1);
    CHECK(c.src_addrs6.last == gen1);
    CHECK(c.src_addrs.first == 1);  // the low 32 bits
    CHECK(c.src_addrs.last == 1);
    CHECK(synmill::gen::source_addr6(c, 1) == gen1);
    CHECK(synmill::gen::dst_text(c) == "[2001:2::2]:7");
  }

  // Both families given: the source is the first --addr of --dst's family.
  auto both = parse({"--mode", "syn", "--addr", "198.18.0.1/24", "--addr", "2001:2::1/64", "--dst", "[2001:2::2]:80"});
  REQUIRE(synmill::dp::parsed_ok(both));
  CHECK(std::get<0>(both).src_addrs6.first == gen1);
  auto both4 = parse({"--mode", "syn", "--addr", "2001:2::1/64", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80"});
  REQUIRE(synmill::dp::parsed_ok(both4));
  CHECK_FALSE(std::get<0>(both4).v6);
  CHECK(std::get<0>(both4).src_addrs.first == 0xC6120001u);
  CHECK(synmill::gen::dst_text(std::get<0>(both4)) == "198.18.0.2:80");

  // A range of IPv6 sources: the low 32 bits walk, the rest is fixed.
  auto r = parse({"--mode", "syn", "--random", "--addr", "2001:2::1/64", "--dst", "[2001:2::2]:80", "--src-addrs",
                  "2001:2::1:0-2001:2::ff:ffff"});
  REQUIRE(synmill::dp::parsed_ok(r));
  {
    const GenConfig& c = std::get<0>(r);
    CHECK(c.src_addrs.first == 0x00010000u);
    CHECK(c.src_addrs.last == 0x00FFFFFFu);
    CHECK(synmill::gen::source_addr6(c, 0x00ABCDEFu) ==
          Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0xAB, 0xCDEF}));
    CHECK(c.src_addrs6.contains(Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0x12, 0x3456})));
    CHECK_FALSE(c.src_addrs6.contains(Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 1, 0x12, 0x3456})));
    CHECK_FALSE(c.src_addrs6.contains(gen1));
  }
  // Only --src-addrs is IPv6 (the --addr IPv4): sources from the range.
  auto only_range = parse({"--mode", "connect", "--addr", "198.18.0.1/24", "--dst", "[2001:2::2]:80", "--src-addrs",
                           "2001:2::1:1-2001:2::1:3f"});
  REQUIRE(synmill::dp::parsed_ok(only_range));
  CHECK(std::get<0>(only_range).src_addrs.last - std::get<0>(only_range).src_addrs.first + 1 == 63);

  const std::vector<std::string> v6{"--mode", "connect", "--addr", "2001:2::1/64"};
  auto err = [&](std::vector<std::string> more) {
    std::vector<std::string> a = v6;
    a.insert(a.end(), more.begin(), more.end());
    return error_of(a);
  };
  // The brackets are required (2001:2::2:80 reads two ways), and closed.
  CHECK(err({"--dst", "2001:2::2:80"}) == "--dst: '2001:2::2:80': an IPv6 destination goes in brackets, e.g. [2001:2::2]:80");
  CHECK(err({"--dst", "[2001:2::2]80"}).find("expected [IPV6]:PORT") != std::string::npos);
  CHECK(err({"--dst", "[2001:2::2:80"}).find("expected [IPV6]:PORT") != std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:0"}).find("--dst: ") == 0);
  CHECK(err({"--dst", "[2001:2::zz]:80"}).find("bad IPv6 address") != std::string::npos);
  CHECK(err({"--dst", "[ff02::1]:80"}).find("not a global or unique-local unicast") != std::string::npos);
  CHECK(err({"--dst", "[fe80::1]:80"}).find("not a global or unique-local unicast") != std::string::npos);
  CHECK(err({"--dst", "[::1]:80"}).find("not a global or unique-local unicast") != std::string::npos);
  CHECK(err({"--dst", "[2001:2::1]:80"}).find("own --addr") != std::string::npos);
  // Mixed families are refused, both ways.
  CHECK(err({"--dst", "198.18.0.2:80"}).find("is IPv4 and no --addr is") != std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "198.18.1.1-198.18.1.9"}) ==
        "--dst [2001:2::2]:80 is IPv6 and --src-addrs IPv4: sources and destination are of one family");
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "198.18.0.2:80", "--src-addrs",
                  "2001:2::1:1-2001:2::1:9"}) ==
        "--dst 198.18.0.2:80 is IPv4 and --src-addrs IPv6: sources and destination are of one family");
  CHECK(error_of({"--mode", "syn", "--addr", "198.18.0.1/24", "--dst", "[2001:2::2]:80"}) ==
        "--dst [2001:2::2]:80 is IPv6 and no --addr is: give the generator an IPv6 address (e.g. --addr "
        "2001:2::1/64)");
  // IPv6 ranges: one /96, in order, unicast, without the destination.
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1:1-2001:2:0:1::1:9"}).find("last 32 bits") !=
        std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1:9-2001:2::1:1"}).find("above the last") !=
        std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1:1"}).find("expected FIRST-LAST") !=
        std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "ff02::1:1-ff02::1:9"}).find("unicast") != std::string::npos);
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1-2001:2::9"}) ==
        "--src-addrs contains the destination 2001:2::2");
  // Connections keep their local IPv6 address as an index into the TCP
  // core's table (64 places, the --addr ones too); raw SYNs take any number.
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1:1-2001:2::1:3f"}) == "(ok)");
  CHECK(err({"--dst", "[2001:2::2]:80", "--src-addrs", "2001:2::1:1-2001:2::1:40"}).find("at most 64 local IPv6") !=
        std::string::npos);
  CHECK(error_of({"--mode", "hold", "--addr", "2001:2::1/64", "--dst", "[2001:2::2]:80", "--src-addrs",
                  "2001:2::1:0-2001:2::1:ffff"})
            .find("at most 64 local IPv6") != std::string::npos);
  CHECK(error_of({"--mode", "syn", "--addr", "2001:2::1/64", "--dst", "[2001:2::2]:80", "--src-addrs",
                  "2001:2::1:0-2001:2::1:ffff"}) == "(ok)");
  // The help names the forms.
  CHECK(synmill::gen::gen_help_text().find("[IPV6]:PORT") != std::string::npos);
  CHECK(synmill::gen::gen_help_text().find("Neighbor Discovery") != std::string::npos);
}

TEST_CASE("--http's Host is --dst, without the port when it is 80", "[gen]") {
  const auto host = [](const char* addr, const char* dst) {
    auto p = parse({"--mode", "connect", "--addr", addr, "--dst", dst});
    REQUIRE(synmill::dp::parsed_ok(p));
    return synmill::gen::http_host(std::get<0>(p));
  };
  CHECK(host("198.18.0.1/24", "198.18.0.9:80") == "198.18.0.9");
  CHECK(host("198.18.0.1/24", "198.18.0.9:8000") == "198.18.0.9:8000");
  CHECK(host("2001:2::1/64", "[2001:2::2]:80") == "[2001:2::2]");
  CHECK(host("2001:2::1/64", "[2001:2::2]:8080") == "[2001:2::2]:8080");
}
