#include "test_eal.hpp"

#include <unistd.h>

#include <filesystem>
#include <optional>

#include <catch2/catch.hpp>

#include "dp/rte.hpp"

namespace synmill::dp::test {
namespace {

std::optional<Eal>& instance() {
  static std::optional<Eal> eal;
  return eal;
}

std::string file_prefix() { return "synmill-dptest-" + std::to_string(getpid()); }

}  // namespace

std::vector<std::string> eal_args() {
  return {"dp_tests",        "--no-huge",        "-m",       "512",
          "--no-pci",        "--file-prefix=" + file_prefix(),
          "-l",              "0",                "--log-level=warning",
          "--vdev=net_null0", "--vdev=net_null1", "--vdev=net_ring0",
          "--",              "--app-flag"};
}

Eal& eal() {
  auto& e = instance();
  if (!e) {
    auto started = Eal::init(eal_args());
    INFO((started.ok() ? std::string() : started.error()));
    REQUIRE(started.ok());
    e.emplace(std::move(started).value());
  }
  return *e;
}

uint16_t port_by_name(const std::string& name) {
  eal();
  uint16_t port = 0;
  INFO("device " << name);
  REQUIRE(rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0);
  return port;
}

void shutdown_eal() {
  auto& e = instance();
  if (!e) return;
  e->cleanup();
  e.reset();
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path("/var/run/dpdk") / file_prefix(), ec);
}

}  // namespace synmill::dp::test
