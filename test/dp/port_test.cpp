// Ports brought up from their profiles on virtual devices (net_null, net_ring)
// inside this process's EAL (--no-huge, own --file-prefix; see test_eal.hpp).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <catch2/catch.hpp>

#include "dp/eal.hpp"
#include "dp/eal_diagnose.hpp"
#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/rte.hpp"
#include "test_eal.hpp"

using namespace synmill::dp;
namespace t = synmill::dp::test;

namespace {

DriverProfile profile_for(uint16_t port) {
  auto p = find_profile(t::drivers_config_dir(), driver_name_of(port));
  INFO((p.ok() ? std::string() : p.error()));
  REQUIRE(p.ok());
  return *p;
}

// configure -> pool -> start; REQUIREs success.
struct StartedPort {
  PortInfo info;
  rte_mempool* pool = nullptr;
};

StartedPort bring_up(const DriverProfile& profile, uint16_t port, uint16_t workers) {
  auto plan = configure_port(profile, PortRequest{port, workers, {}});
  INFO((plan.ok() ? std::string() : plan.error()));
  REQUIRE(plan.ok());
  auto spec = mbuf_pool_spec_for(plan->info, workers, 64, 2);
  auto pool = create_mbuf_pool(spec);
  INFO((pool.ok() ? std::string() : pool.error()));
  REQUIRE(pool.ok());
  auto info = start_port(*plan, *pool);
  INFO((info.ok() ? std::string() : info.error()));
  REQUIRE(info.ok());
  UNSCOPED_INFO(format_port_info(*info));
  return {*info, *pool};
}

void tear_down(StartedPort& p) {
  auto closed = close_port(p.info.port_id);
  INFO((closed.ok() ? std::string() : closed.error()));
  CHECK(closed.ok());
  rte_mempool_free(p.pool);
}

}  // namespace

TEST_CASE("EAL starts once and returns the application's arguments", "[dp][eal]") {
  Eal& eal = t::eal();
  CHECK(eal.app_args() == std::vector<std::string>{"dp_tests", "--app-flag"});
  CHECK(rte_eal_process_type() == RTE_PROC_PRIMARY);
  auto again = Eal::init(t::eal_args());
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().find("already initialised") != std::string::npos);
  CHECK(again.error().find('\n') == std::string::npos);

  // Another process sees this one's file prefix as taken (record locks are
  // invisible to their owner, hence the child).
  const std::string prefix = eal_file_prefix(t::eal_args());
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(file_prefix_in_use(prefix) ? 0 : 1);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("net_null from its profile: one RX queue, software dispatch", "[dp][eal][port]") {
  const uint16_t port = t::port_by_name("net_null0");
  CHECK(driver_name_of(port) == "net_null");
  StartedPort p = bring_up(profile_for(port), port, 2);
  const PortInfo& info = p.info;
  CHECK(info.port_id == port);
  CHECK(info.name == "net_null0");
  CHECK(info.driver == "net_null");
  CHECK(info.profile.ends_with("null.conf"));
  CHECK(info.rx_queues == 1);
  CHECK(info.tx_queues == 2);
  CHECK(info.rx_desc == 1024);
  CHECK(info.tx_desc == 1024);
  CHECK(info.software_dispatch);
  CHECK(info.rss == RssMode::kNone);
  CHECK_FALSE(info.reta_from_device);
  CHECK(info.reta == round_robin_reta(kSoftwareRetaSize, 2));
  CHECK(info.rss_key == repeat_key(kSymmetricKeyPattern, 40));
  CHECK(info.hasher().symmetric());
  CHECK(info.offloads == 0);
  CHECK_FALSE(info.tx_tcp_cksum_offloaded());
  CHECK(info.link_up);
  CHECK(info.mtu >= 1500);
  CHECK(std::any_of(info.mac.begin(), info.mac.end(), [](uint8_t b) { return b != 0; }));
  CHECK(format_port_info(info).find("software dispatch") != std::string::npos);

  // The queues work: net_null hands out frames on RX and frees on TX.
  std::array<rte_mbuf*, 8> burst{};
  const uint16_t got = rte_eth_rx_burst(port, 0, burst.data(), burst.size());
  CHECK(got > 0);
  const uint16_t sent = rte_eth_tx_burst(port, 1, burst.data(), got);
  CHECK(sent == got);
  for (uint16_t i = sent; i < got; ++i) rte_pktmbuf_free(burst[i]);

  // Stop (the port could be started again), then release it.
  auto stopped = stop_port(port);
  CHECK(stopped.ok());
  tear_down(p);
  CHECK_FALSE(rte_eth_dev_is_valid_port(port));
}

TEST_CASE("net_null with RSS overrides: queue per worker, symmetric key, RETA read back",
          "[dp][eal][port]") {
  const uint16_t port = t::port_by_name("net_null1");
  DriverProfile profile = profile_for(port);
  auto o = parse_overrides("rss=toeplitz_symmetric_key,software_dispatch=false,rx_queues_max=4,"
                           "offloads=rx_ip_cksum,tx_tcp_cksum");
  REQUIRE(o.ok());
  auto applied = apply_overrides(profile, *o, "test");
  INFO((applied.ok() ? std::string() : applied.error()));
  REQUIRE(applied.ok());

  SECTION("more workers than the profile allows queues is refused before touching the port") {
    REQUIRE(apply_overrides(profile, {{"rx_queues_max", "2"}}, "test").ok());
    auto plan = configure_port(profile, PortRequest{port, 4, {}});
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.error() ==
          "port " + std::to_string(port) +
              " (net_null): 4 workers but at most 2 RX queues (device 1024, rx_queues_max 2 at "
              "test 'rx_queues_max=2'): use at most 2 workers, or set rss = none and "
              "software_dispatch = true");
  }
  SECTION("flow isolation needs steering rules") {
    REQUIRE(apply_overrides(profile, {{"flow_isolate", "true"}}, "test").ok());
    auto plan = configure_port(profile, PortRequest{port, 2, {}});
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.error().find("flow_isolate = true (test 'flow_isolate=true') but no traffic to "
                            "steer") != std::string::npos);
  }
  SECTION("configured and started") {
    StartedPort p = bring_up(profile, port, 2);
    const PortInfo& info = p.info;
    CHECK(info.rx_queues == 2);
    CHECK(info.tx_queues == 2);
    CHECK_FALSE(info.software_dispatch);
    CHECK(info.rss == RssMode::kToeplitzSymmetricKey);
    CHECK(info.rss_function == RssFunction::kToeplitz);
    CHECK(info.rss_types == rss_type::kIpv4Tcp);
    CHECK(info.rss_key == repeat_key(kSymmetricKeyPattern, 40));
    CHECK(info.hasher().symmetric());
    CHECK(info.reta.size() == 128);
    CHECK(info.reta_from_device);
    CHECK(std::all_of(info.reta.begin(), info.reta.end(), [](uint16_t q) { return q < 2; }));
    // net_null advertises no checksum offloads: both are refused and noted.
    CHECK(info.offloads == 0);
    CHECK(info.offloads_refused == (offload::kRxIpCksum | offload::kTxTcpCksum));
    CHECK(format_port_info(info).find("not advertised: rx_ip_cksum,tx_tcp_cksum") !=
          std::string::npos);
    tear_down(p);
  }
}

TEST_CASE("net_ring from its profile loops a frame back", "[dp][eal][port]") {
  const uint16_t port = t::port_by_name("net_ring0");
  StartedPort p = bring_up(profile_for(port), port, 1);
  const PortInfo& info = p.info;
  CHECK(info.driver == "net_ring");
  CHECK(info.rx_queues == 1);
  CHECK(info.tx_queues == 1);
  CHECK(info.software_dispatch);
  CHECK(info.reta == round_robin_reta(kSoftwareRetaSize, 1));

  // A TCP SYN 198.18.0.2:40000 -> 198.18.0.1:80; the ring returns it unchanged.
  const std::array<uint8_t, 54> frame{
      0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,          // Ethernet
      0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0,                    // IPv4
      198, 18, 0, 2, 198, 18, 0, 1,                                  //
      0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,  // TCP
  };
  rte_mbuf* m = rte_pktmbuf_alloc(p.pool);
  REQUIRE(m != nullptr);
  char* data = rte_pktmbuf_append(m, frame.size());
  REQUIRE(data != nullptr);
  std::memcpy(data, frame.data(), frame.size());
  REQUIRE(rte_eth_tx_burst(port, 0, &m, 1) == 1);
  rte_mbuf* back = nullptr;
  REQUIRE(rte_eth_rx_burst(port, 0, &back, 1) == 1);
  REQUIRE(back != nullptr);
  CHECK(rte_pktmbuf_data_len(back) == frame.size());
  CHECK(std::memcmp(rte_pktmbuf_mtod(back, const uint8_t*), frame.data(), frame.size()) == 0);
  // Whichever worker owns the flow by the port's hash.
  const RssHasher h = info.hasher();
  const uint32_t hash = h.hash(0xc6120002u, 0xc6120001u, 40000, 80);
  CHECK(queue_for(hash, info.reta) == 0);
  rte_pktmbuf_free(back);
  tear_down(p);
}
