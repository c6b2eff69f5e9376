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
        "--addr: '2001:2::1/64': synmill-gen takes IPv4 addresses only (A.B.C.D/P)");
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
  auto h = parse({"--help"});
  REQUIRE(synmill::dp::parsed_ok(h));
  CHECK(std::get<0>(h).help);
  CHECK(synmill::gen::gen_help_text().find("--close client|server|rst") != std::string::npos);
}
