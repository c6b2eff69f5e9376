// Steering rules of a flow-isolated port (flow_steer.hpp, steer_plan.hpp):
// what each rte_flow pattern matches, read from the pattern itself (no NIC
// here takes rte_flow rules: net_tap's need the multiq qdisc this kernel
// lacks, see DPDK-ON-THIS-MACHINE), the rules synmill's configuration gives
// for IPv4 and IPv6, and the error when a port refuses a rule (a ring port:
// net_ring has no rte_flow).
#include <unistd.h>

#include <cstring>

#include <catch2/catch.hpp>

#include "dp/flow_pattern.hpp"
#include "dp/steer_plan.hpp"
#include "test_eal.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_eth_ring.h>
#include <rte_ring.h>
#pragma GCC diagnostic pop

using namespace synmill;
using namespace synmill::dp;
namespace t = synmill::dp::test;

namespace {

wire::Ipv6Addr v6(const char* text) {
  const auto a = parse_ipv6(text);
  REQUIRE(parsed_ok(a));
  return std::get<0>(a);
}

Address addr6(const char* text) {
  Address a;
  a.v6 = true;
  a.ip6 = v6(text);
  a.prefix = 64;
  return a;
}

SteerRule rule6(const char* text, uint16_t port, uint16_t mask = 0xffff) {
  SteerRule r;
  r.v6 = true;
  r.dst_ip6 = v6(text);
  r.dst_port = port;
  r.dst_port_mask = mask;
  return r;
}

}  // namespace

TEST_CASE("flow patterns: IPv6 TCP to an address and port", "[dp][flow]") {
  const SteerRule r = rule6("2001:2::1", 80);
  const FlowPattern p(&r);
  CHECK(p.items[0].type == RTE_FLOW_ITEM_TYPE_ETH);
  CHECK(p.items[0].spec == nullptr);
  CHECK(p.items[1].type == RTE_FLOW_ITEM_TYPE_IPV6);
  REQUIRE(p.items[1].spec == &p.ip6_spec);
  REQUIRE(p.items[1].mask == &p.ip6_mask);
  CHECK(std::memcmp(p.ip6_spec.hdr.dst_addr, r.dst_ip6.b.data(), 16) == 0);
  for (uint8_t b : p.ip6_mask.hdr.dst_addr) CHECK(b == 0xff);
  for (uint8_t b : p.ip6_mask.hdr.src_addr) CHECK(b == 0);  // any source
  CHECK(p.items[2].type == RTE_FLOW_ITEM_TYPE_TCP);
  REQUIRE(p.items[2].spec == &p.tcp_spec);
  CHECK(p.tcp_spec.hdr.dst_port == rte_cpu_to_be_16(80));
  CHECK(p.tcp_mask.hdr.dst_port == 0xffff);
  CHECK(p.tcp_mask.hdr.src_port == 0);
  CHECK(p.items[3].type == RTE_FLOW_ITEM_TYPE_END);
  CHECK(format_steer_rule(r) == "[2001:2::1]:80");

  SECTION("a port block, any IPv6 address") {
    const SteerRule any = rule6("::", 0x9c00, 0xfc00);
    const FlowPattern q(&any);
    CHECK(q.items[1].type == RTE_FLOW_ITEM_TYPE_IPV6);
    CHECK(q.items[1].spec == nullptr);
    CHECK(q.tcp_spec.hdr.dst_port == rte_cpu_to_be_16(0x9c00));
    CHECK(q.tcp_mask.hdr.dst_port == rte_cpu_to_be_16(0xfc00));
    CHECK(format_steer_rule(any) == "[*]:39936/0xfc00");
  }
  SECTION("IPv4 as before") {
    SteerRule r4;
    r4.dst_ip = 0xc6120001;
    r4.dst_port = 7;
    const FlowPattern q(&r4);
    CHECK(q.items[1].type == RTE_FLOW_ITEM_TYPE_IPV4);
    CHECK(q.ip4_spec.hdr.dst_addr == rte_cpu_to_be_32(0xc6120001));
    CHECK(q.ip4_mask.hdr.dst_addr == 0xffffffffu);
    CHECK(q.tcp_spec.hdr.dst_port == rte_cpu_to_be_16(7));
    CHECK(format_steer_rule(r4) == "198.18.0.1:7");
    const FlowPattern all(nullptr);  // the catch-all IPv4/TCP rule
    CHECK(all.items[1].type == RTE_FLOW_ITEM_TYPE_IPV4);
    CHECK(all.items[1].spec == nullptr);
    CHECK(all.items[2].spec == nullptr);
  }
}

TEST_CASE("flow patterns: the ICMPv6 that ND and echo need for each IPv6 address", "[dp][flow]") {
  SteerRule r4;
  r4.dst_ip = 0xc6120001;
  r4.dst_port = 80;
  const std::vector<SteerRule> rules{rule6("2001:2::1", 80), r4, rule6("2001:2::1", 7), rule6("::", 9),
                                     rule6("2001:2::abcd:1234", 80)};
  const std::vector<Icmp6Rule> icmp = icmp6_rules_for(rules);
  REQUIRE(icmp.size() == 4);  // two per distinct address; none for IPv4 or ::
  CHECK(icmp[0].dst == v6("2001:2::1"));
  CHECK_FALSE(icmp[0].type.has_value());  // echo, NA, unicast NS to the address
  CHECK(icmp[1].dst == v6("ff02::1:ff00:1"));  // RFC 4291 §2.7.1
  CHECK(icmp[1].type == std::optional<uint8_t>(135));
  CHECK(icmp[2].dst == v6("2001:2::abcd:1234"));
  CHECK(icmp[3].dst == v6("ff02::1:ffcd:1234"));
  CHECK(format_icmp6_rule(icmp[0]) == "icmp6 to 2001:2::1");
  CHECK(format_icmp6_rule(icmp[1]) == "icmp6 type 135 to ff02::1:ff00:1");

  const FlowPattern ns(icmp[1]);
  CHECK(ns.items[0].type == RTE_FLOW_ITEM_TYPE_ETH);
  CHECK(ns.items[1].type == RTE_FLOW_ITEM_TYPE_IPV6);
  CHECK(std::memcmp(ns.ip6_spec.hdr.dst_addr, icmp[1].dst.b.data(), 16) == 0);
  CHECK(ns.items[2].type == RTE_FLOW_ITEM_TYPE_ICMP6);
  REQUIRE(ns.items[2].spec == &ns.icmp6_spec);
  CHECK(ns.icmp6_spec.type == 135);
  CHECK(ns.icmp6_mask.type == 0xff);
  CHECK(ns.icmp6_mask.code == 0);
  CHECK(ns.items[3].type == RTE_FLOW_ITEM_TYPE_END);
  const FlowPattern any(icmp[0]);
  CHECK(any.items[2].type == RTE_FLOW_ITEM_TYPE_ICMP6);
  CHECK(any.items[2].spec == nullptr);
}

TEST_CASE("steering rules from synmill's configuration", "[dp][flow]") {
  CHECK(port_blocks(40000, 40000) == std::vector<std::pair<uint16_t, uint16_t>>{{40000, 0xffff}});
  // 40000..40003: 40000 = 0x9c40 is 64-aligned.
  CHECK(port_blocks(40000, 40003) == std::vector<std::pair<uint16_t, uint16_t>>{{40000, 0xfffc}});
  CHECK(port_blocks(40001, 40006) ==
        std::vector<std::pair<uint16_t, uint16_t>>{{40001, 0xffff}, {40002, 0xfffe}, {40004, 0xfffe}, {40006, 0xffff}});
  CHECK(port_blocks(0, 65535) == std::vector<std::pair<uint16_t, uint16_t>>{{0, 0}});
  CHECK(port_blocks(65535, 65535) == std::vector<std::pair<uint16_t, uint16_t>>{{65535, 0xffff}});
  // Every port of a range is covered once, and nothing else.
  const auto blocks = port_blocks(40000, 40999);
  uint32_t covered = 0;
  for (uint32_t port = 0; port < 65536; ++port) {
    int hits = 0;
    for (const auto& [value, mask] : blocks) hits += (port & mask) == value ? 1 : 0;
    CHECK(hits == ((port >= 40000 && port <= 40999) ? 1 : 0));
    covered += static_cast<uint32_t>(hits);
  }
  CHECK(covered == 1000);

  Address a4;
  a4.ip = 0xc6120001;
  const std::vector<Address> addrs{a4, addr6("2001:2::1"), addr6("2001:2::5")};
  const std::vector<ListenSpec> listeners{{80, "http"}, {7, "echo"}};
  ConnectSpec c6;
  c6.v6 = true;
  c6.ip6 = v6("2001:2::2");
  c6.port = 7000;
  c6.count = 4;
  ConnectSpec c4;
  c4.ip = 0xc6120002;
  c4.port = 7001;
  c4.count = 1;
  const auto rules = steer_rules_for(addrs, listeners, {c6, c4}, 40000);
  std::vector<std::string> text;
  for (const SteerRule& r : rules) text.push_back(format_steer_rule(r));
  CHECK(text == std::vector<std::string>{"198.18.0.1:80", "198.18.0.1:7", "[2001:2::1]:80", "[2001:2::1]:7",
                                         "[2001:2::5]:80", "[2001:2::5]:7", "[2001:2::1]:40000/0xfffc",
                                         "198.18.0.1:40000"});
  CHECK(icmp6_rules_for(rules).size() == 4);
}

TEST_CASE("a port that refuses rte_flow rules: the error names the IPv6 rule", "[dp][eal][flow]") {
  t::eal();  // a ring port of its own (other cases close the probed devices)
  const std::string tag = std::to_string(::getpid());
  rte_ring* ring = rte_ring_create(("flow-r-" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(ring != nullptr);
  const int id = rte_eth_from_rings(("flow_" + tag).c_str(), &ring, 1, &ring, 1, 0);
  REQUIRE(id >= 0);
  const auto port = static_cast<uint16_t>(id);
  const SteerRule r = rule6("2001:2::1", 80);
  FlowRss rss;
  auto tcp = add_tcp_rss_rule(port, &r, rss);
  REQUIRE_FALSE(tcp.ok());
  CHECK(tcp.error().find("port " + std::to_string(port) + ": rte_flow rule tcp [2001:2::1]:80 -> rss over all "
                         "queues refused: ") == 0);
  auto icmp = add_icmp6_rule(port, Icmp6Rule{v6("ff02::1:ff00:1"), 135}, 0);
  REQUIRE_FALSE(icmp.ok());
  CHECK(icmp.error().find("port " + std::to_string(port) + ": rte_flow rule icmp6 type 135 to ff02::1:ff00:1 -> "
                          "queue 0 refused: ") == 0);
  CHECK(flush_flows(port).ok());  // no rte_flow: nothing to flush
  CHECK(rte_eth_dev_close(port) == 0);
  rte_ring_free(ring);
}
