// Per-port overrides from the command line, applied on top of a profile.
#include <catch2/catch.hpp>

#include "dp/driver_profile.hpp"
#include "test_eal.hpp"

using namespace synmill::dp;

namespace {

DriverProfile tap_profile() {
  auto p = find_profile(synmill::dp::test::drivers_config_dir(), "net_tap");
  REQUIRE(p.ok());
  return *p;
}

}  // namespace

TEST_CASE("override lists split on commas; list values continue", "[dp][override]") {
  auto o = parse_overrides("rx_desc=512, mtu = 9000");
  REQUIRE(o.ok());
  CHECK(*o == std::vector<ProfileOverride>{{"rx_desc", "512"}, {"mtu", "9000"}});

  o = parse_overrides("offloads=rx_ip_cksum,tx_tcp_cksum,mtu=9000");
  REQUIRE(o.ok());
  CHECK(*o == std::vector<ProfileOverride>{{"offloads", "rx_ip_cksum,tx_tcp_cksum"}, {"mtu", "9000"}});

  o = parse_overrides("");
  REQUIRE(o.ok());
  CHECK(o->empty());

  o = parse_overrides("512,rx_desc=1");
  REQUIRE_FALSE(o.ok());
  CHECK(o.error() == "override '512': expected key=value (e.g. rx_desc=512)");
}

TEST_CASE("overrides replace profile values and record their origin", "[dp][override]") {
  DriverProfile p = tap_profile();
  auto o = parse_overrides("rx_desc=512,tx_desc=256,offloads=rx_ip_cksum,tx_ip_cksum,mtu=9000");
  REQUIRE(o.ok());
  auto r = apply_overrides(p, *o, "--port-opt 0");
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  CHECK(p.rx_desc == 512);
  CHECK(p.tx_desc == 256);
  CHECK(p.mtu == 9000);
  CHECK(p.offloads == (offload::kRxIpCksum | offload::kTxIpCksum));
  CHECK(p.origin.at("rx_desc") == "--port-opt 0 'rx_desc=512'");
  CHECK(p.software_dispatch);  // untouched
}

TEST_CASE("bad overrides fail in one line and change nothing", "[dp][override]") {
  const DriverProfile before = tap_profile();
  DriverProfile p = before;

  auto r = apply_overrides(p, {{"rx_desc", "512"}, {"rx_dsc", "512"}}, "--port-opt 0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "--port-opt 0 'rx_dsc=512': unknown key 'rx_dsc' (did you mean 'rx_desc'?)");
  CHECK(p.rx_desc == before.rx_desc);

  r = apply_overrides(p, {{"mtu", "big"}}, "--port-opt 0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "--port-opt 0 'mtu=big': bad value 'big' for 'mtu': expected an integer in 68..9728");

  r = apply_overrides(p, {{"mtu", ""}}, "--port-opt 0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "--port-opt 0 'mtu=': missing value: write 'mtu=<value>'");

  // RSS on a software-dispatch profile without turning dispatch off.
  r = apply_overrides(p, {{"rss", "toeplitz_symmetric_key"}}, "--port-opt 0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("software_dispatch = true conflicts with rss = toeplitz_symmetric_key "
                       "(--port-opt 0 'rss=toeplitz_symmetric_key')") != std::string::npos);
  CHECK(r.error().rfind(before.path + ":", 0) == 0);
  CHECK(p.rss == RssMode::kNone);

  // Both keys together are fine.
  r = apply_overrides(p, {{"rss", "toeplitz_symmetric_key"}, {"software_dispatch", "false"}},
                      "--port-opt 0");
  REQUIRE(r.ok());
  CHECK(p.rss == RssMode::kToeplitzSymmetricKey);
  CHECK_FALSE(p.software_dispatch);
}
