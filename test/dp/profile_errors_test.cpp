// Configuration mistakes produce one line naming file:line, the key and the fix.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "dp/driver_profile.hpp"
#include "test_eal.hpp"

using namespace synmill::dp;

namespace {

std::string parse_error(const std::string& text, const std::string& path = "drivers-config/tap.conf") {
  auto p = parse_profile(text, path, "tap");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().find('\n') == std::string::npos);
  return p.error();
}

// A scratch profile directory, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("synmill-dptest-" + tag + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};

const std::string kGood = "match = net_tap\nrss = none\nsoftware_dispatch = true\n";

}  // namespace

TEST_CASE("unknown key: file:line and the closest key", "[dp][profile][errors]") {
  const std::string text =
      "# tap\n\nmatch = net_tap\nrss = none\nsoftware_dispatch = true\nrx_queues_max = 1\n"
      "rx_dsc = 512\n";
  CHECK(parse_error(text) ==
        "drivers-config/tap.conf:7: unknown key 'rx_dsc' (did you mean 'rx_desc'?)");
}

TEST_CASE("unknown key with no close match lists the keys", "[dp][profile][errors]") {
  const std::string msg = parse_error("match = net_tap\nbananas = 3\n");
  CHECK(msg.rfind("drivers-config/tap.conf:2: unknown key 'bananas': known keys are match, "
                  "rx_queues_max,",
                  0) == 0);
}

TEST_CASE("bad values say what is expected", "[dp][profile][errors]") {
  CHECK(parse_error("match = net_tap\nrx_desc = fast\n") ==
        "drivers-config/tap.conf:2: bad value 'fast' for 'rx_desc': expected an integer in "
        "16..32768");
  CHECK(parse_error("match = net_tap\nrx_desc = 70000\n") ==
        "drivers-config/tap.conf:2: bad value '70000' for 'rx_desc': expected an integer in "
        "16..32768");
  CHECK(parse_error("match = net_tap\nflow_isolate = maybe\n") ==
        "drivers-config/tap.conf:2: bad value 'maybe' for 'flow_isolate': expected true or false");
  CHECK(parse_error("match = net_tap\nrss = symetric_toeplitz\n") ==
        "drivers-config/tap.conf:2: bad value 'symetric_toeplitz' for 'rss' (did you mean "
        "'symmetric_toeplitz'?): expected one of symmetric_toeplitz, toeplitz_symmetric_key, none");
  CHECK(parse_error("match = net_tap\nrss_key = 6d5a\n") ==
        "drivers-config/tap.conf:2: bad value '6d5a' for 'rss_key': expected 0x followed by 2 to 52 "
        "bytes in hex, e.g. 0x6d5a (repeated to the device's key size)");
  CHECK(parse_error("match = net_tap\nrss_key = 0x6d5g\n").find("tap.conf:2: bad value '0x6d5g'") !=
        std::string::npos);
  const std::string offload = parse_error("match = net_tap\noffloads = rx_ip_cksum, tx_tcp_csum\n");
  CHECK(offload.rfind("drivers-config/tap.conf:2: unknown offload 'tx_tcp_csum' in 'offloads' "
                      "(did you mean 'tx_tcp_cksum'?): expected a comma-separated list of "
                      "rx_ip_cksum, ",
                      0) == 0);
  CHECK(parse_error("match = net_tap\nrss_types = ipv4-tpc\n")
            .find("unknown type 'ipv4-tpc' in 'rss_types' (did you mean 'ipv4-tcp'?)") !=
        std::string::npos);
}

TEST_CASE("syntax errors", "[dp][profile][errors]") {
  CHECK(parse_error("match = net_tap\nrx_desc 512\n") ==
        "drivers-config/tap.conf:2: expected 'key = value', got 'rx_desc 512'");
  CHECK(parse_error("match = net_tap\nrx_desc =\n") ==
        "drivers-config/tap.conf:2: missing value for 'rx_desc': write 'rx_desc = <value>'");
  CHECK(parse_error("match = net_tap\nrx_desc = 512\n\nrx_desc = 256\n") ==
        "drivers-config/tap.conf:4: duplicate key 'rx_desc' (first set on line 2): keep one");
}

TEST_CASE("whole-profile checks", "[dp][profile][errors]") {
  CHECK(parse_error("rx_desc = 512\n") ==
        "drivers-config/tap.conf: missing key 'match': add 'match = <driver_name>' naming the PMD "
        "(rte_eth_dev_info.driver_name, e.g. net_tap)");
  CHECK(parse_error("match = net_tap\nrss = toeplitz_symmetric_key\nsoftware_dispatch = true\n") ==
        "drivers-config/tap.conf:3: software_dispatch = true conflicts with rss = "
        "toeplitz_symmetric_key (drivers-config/tap.conf:2): set rss = none, or "
        "software_dispatch = false");
  CHECK(parse_error("match = net_tap\nsoftware_dispatch = true\n") ==
        "drivers-config/tap.conf:2: software_dispatch = true conflicts with rss = "
        "toeplitz_symmetric_key (drivers-config/tap.conf (default)): set rss = none, or "
        "software_dispatch = false");
}

TEST_CASE("a driver without a profile", "[dp][profile][errors]") {
  const std::string dir = synmill::dp::test::drivers_config_dir();
  auto p = find_profile(dir, "net_foo");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error() == "no profile for driver 'net_foo' in " + dir + "/: add " + dir +
                         "/<name>.conf with 'match = net_foo'");

  // The message as users see it, run from the source tree.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::path(dir).parent_path());
  auto relative = find_profile("drivers-config", "net_foo");
  std::filesystem::current_path(cwd);
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error() ==
        "no profile for driver 'net_foo' in drivers-config/: add drivers-config/<name>.conf with "
        "'match = net_foo'");
}

TEST_CASE("profile directory problems", "[dp][profile][errors]") {
  SECTION("a broken file is reported with its path and line") {
    TempDir dir("broken");
    dir.write("tap.conf", kGood);
    dir.write("bad.conf", "match = net_bad\nmtu = huge\n");
    dir.write("notes.txt", "not a profile");
    auto p = find_profile(dir.path.string(), "net_tap");
    REQUIRE_FALSE(p.ok());
    CHECK(p.error() == (dir.path / "bad.conf").string() +
                           ":2: bad value 'huge' for 'mtu': expected an integer in 68..9728");
  }
  SECTION("two profiles for one driver") {
    TempDir dir("twice");
    dir.write("a.conf", kGood);
    dir.write("b.conf", kGood);
    auto p = find_profile(dir.path.string(), "net_tap");
    REQUIRE_FALSE(p.ok());
    CHECK(p.error() == "driver 'net_tap' is matched by both " + (dir.path / "a.conf").string() +
                           " and " + (dir.path / "b.conf").string() +
                           ": remove it from one of the 'match' lines");
  }
  SECTION("a missing directory") {
    auto p = find_profile("/nonexistent/drivers-config", "net_tap");
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().rfind("cannot open profile directory /nonexistent/drivers-config/: ", 0) == 0);
    CHECK(p.error().find('\n') == std::string::npos);
  }
}
