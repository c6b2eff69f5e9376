// The shipped profiles in drivers-config/: every one parses, documents what it
// sets, and is found by its PMD's driver name.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "dp/driver_profile.hpp"
#include "test_eal.hpp"

using namespace synmill::dp;
using synmill::dp::test::drivers_config_dir;

TEST_CASE("every profile in drivers-config parses", "[dp][profile]") {
  auto all = load_profile_dir(drivers_config_dir());
  INFO((all.ok() ? std::string() : all.error()));
  REQUIRE(all.ok());
  std::vector<std::string> names;
  for (const DriverProfile& p : *all) {
    names.push_back(p.name);
    CHECK_FALSE(p.match.empty());
    CHECK(p.rx_queues_max >= 1);
    CHECK(p.rss_key.size() >= 2);
  }
  CHECK(names == std::vector<std::string>{"af_packet", "af_xdp", "i40e", "ice", "ixgbe", "memif",
                                          "mlx5", "null", "ring", "tap", "virtio"});
}

TEST_CASE("every key a profile sets is documented by a comment", "[dp][profile]") {
  auto all = load_profile_dir(drivers_config_dir());
  REQUIRE(all.ok());
  for (const DriverProfile& p : *all) {
    std::ifstream in(p.path);
    REQUIRE(in);
    // Paragraphs (separated by blank lines) that set a key also carry a comment.
    std::string line;
    bool commented = false;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos) {
        commented = false;
      } else if (line[first] == '#') {
        commented = true;
      } else {
        INFO(p.path << ":" << line_no << ": " << line);
        CHECK(commented);
      }
    }
  }
}

TEST_CASE("profiles are found by driver name", "[dp][profile]") {
  const std::vector<std::pair<std::string, std::string>> expected{
      {"net_tap", "tap"},       {"net_memif", "memif"},    {"net_ring", "ring"},
      {"net_null", "null"},     {"mlx5_pci", "mlx5"},      {"net_mlx5", "mlx5"},
      {"net_i40e", "i40e"},     {"net_ice", "ice"},        {"net_ixgbe", "ixgbe"},
      {"net_virtio", "virtio"}, {"net_virtio_user", "virtio"}, {"net_af_xdp", "af_xdp"},
      {"net_af_packet", "af_packet"},
  };
  for (const auto& [driver, name] : expected) {
    auto p = find_profile(drivers_config_dir(), driver);
    INFO(driver << ": " << (p.ok() ? std::string() : p.error()));
    REQUIRE(p.ok());
    CHECK(p->name == name);
  }
}

TEST_CASE("ports without RSS dispatch in software; mlx5 is isolated", "[dp][profile]") {
  for (const char* driver : {"net_tap", "net_memif", "net_af_packet", "net_ring", "net_virtio",
                             "net_null", "net_af_xdp"}) {
    auto p = find_profile(drivers_config_dir(), driver);
    REQUIRE(p.ok());
    INFO(driver);
    CHECK(p->software_dispatch);
    CHECK(p->rss == RssMode::kNone);
    CHECK(p->rx_queues_max == 1);
  }
  for (const char* driver : {"mlx5_pci", "net_i40e", "net_ice", "net_ixgbe"}) {
    auto p = find_profile(drivers_config_dir(), driver);
    REQUIRE(p.ok());
    INFO(driver);
    CHECK_FALSE(p->software_dispatch);
    CHECK(p->rss == RssMode::kToeplitzSymmetricKey);
    CHECK(p->rss_key == std::vector<uint8_t>{0x6d, 0x5a});
    CHECK(p->rss_types == (rss_type::kIpv4Tcp | rss_type::kIpv6Tcp));
    CHECK(p->has(offload::kTxTcpCksum | offload::kRxTcpCksum));
    CHECK(p->flow_isolate == (std::string(driver) == "mlx5_pci"));
  }
}

TEST_CASE("a profile's values and their origins", "[dp][profile]") {
  const std::string text =
      "# test profile\n"
      "match = net_foo, net_bar\n"
      "rx_desc = 512   # trailing comment\n"
      "tx_desc=256\n"
      "mtu = 9000\n"
      "rss = symmetric_toeplitz\n"
      "rss_key = 0x6D5A6d5a\n"
      "rss_types = ipv4-tcp ipv6-tcp\n"
      "offloads = rx_ip_cksum,tx_tcp_cksum\n"
      "flow_isolate = yes\r\n"
      "software_dispatch = off\n";
  auto p = parse_profile(text, "dir/foo.conf", "foo");
  INFO((p.ok() ? std::string() : p.error()));
  REQUIRE(p.ok());
  CHECK(p->name == "foo");
  CHECK(p->match == std::vector<std::string>{"net_foo", "net_bar"});
  CHECK(p->rx_desc == 512);
  CHECK(p->tx_desc == 256);
  CHECK(p->mtu == 9000);
  CHECK(p->rss == RssMode::kSymmetricToeplitz);
  CHECK(p->rss_key == std::vector<uint8_t>{0x6d, 0x5a, 0x6d, 0x5a});
  CHECK(p->rss_types == (rss_type::kIpv4Tcp | rss_type::kIpv6Tcp));
  CHECK(p->offloads == (offload::kRxIpCksum | offload::kTxTcpCksum));
  CHECK(p->flow_isolate);
  CHECK_FALSE(p->software_dispatch);
  CHECK(p->rx_queues_max == 1024);  // default
  CHECK(p->origin.at("rx_desc") == "dir/foo.conf:3");
  CHECK(p->origin.count("rx_queues_max") == 0);
}
