// Software Toeplitz: agreement with DPDK's and Microsoft's reference values,
// symmetry with the 0x6d5a key, RETA lookup and source-port choice.
#include <arpa/inet.h>

#include <cstring>
#include <random>

#include <catch2/catch.hpp>

#include "dp/rss.hpp"
#include "dp/rte.hpp"

using namespace synmill::dp;

namespace {

constexpr uint32_t ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

struct Tuple {
  uint32_t src_ip, dst_ip;
  uint16_t src_port, dst_port;
};

Tuple random_tuple(std::mt19937& rng) {
  std::uniform_int_distribution<uint32_t> any32;
  std::uniform_int_distribution<uint32_t> any16(0, 65535);
  return {any32(rng), any32(rng), static_cast<uint16_t>(any16(rng)),
          static_cast<uint16_t>(any16(rng))};
}

}  // namespace

TEST_CASE("Toeplitz matches Microsoft's RSS verification suite", "[dp][rss]") {
  // "Verifying the RSS Hash Calculation", IPv4 with TCP, default key.
  const RssHasher h(kDefaultRssKey);
  CHECK(h.hash(ipv4(66, 9, 149, 187), ipv4(161, 142, 100, 80), 2794, 1766) == 0x51ccc178u);
  CHECK(h.hash(ipv4(199, 92, 111, 2), ipv4(65, 69, 140, 83), 14230, 4739) == 0xc626b0eau);
  CHECK(h.hash(ipv4(24, 19, 198, 95), ipv4(12, 22, 207, 184), 12898, 38024) == 0x5c2b394au);
  CHECK(h.hash(ipv4(38, 27, 205, 30), ipv4(209, 142, 163, 6), 48228, 2217) == 0xafc7327fu);
  CHECK(h.hash(ipv4(153, 39, 163, 191), ipv4(202, 188, 127, 2), 44251, 1303) == 0x10e828a2u);
}

TEST_CASE("RssHasher agrees with rte_softrss on the raw key", "[dp][rss]") {
  alignas(4) std::array<uint8_t, 40> key{};
  std::mt19937 rng(7);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  const RssHasher h(key);
  for (int i = 0; i < 1000; ++i) {
    const Tuple t = random_tuple(rng);
    rte_ipv4_tuple tuple{};
    tuple.src_addr = t.src_ip;
    tuple.dst_addr = t.dst_ip;
    tuple.sport = t.src_port;
    tuple.dport = t.dst_port;
    const uint32_t expected =
        rte_softrss(reinterpret_cast<uint32_t*>(&tuple), RTE_THASH_V4_L4_LEN, key.data());
    REQUIRE(h.hash(t.src_ip, t.dst_ip, t.src_port, t.dst_port) == expected);
  }
}

TEST_CASE("RssTable4 gives RssHasher's IPv4 hash, both functions, any key", "[dp][rss]") {
  std::mt19937 rng(11);
  for (const RssFunction fn : {RssFunction::kToeplitz, RssFunction::kSymmetricToeplitz}) {
    for (int k = 0; k < 4; ++k) {
      std::vector<uint8_t> key(k == 0 ? 40 : k == 1 ? 52 : k == 2 ? 16 : 40);
      if (k == 3) {
        key = repeat_key(kSymmetricKeyPattern, 40);
      } else {
        for (auto& b : key) b = static_cast<uint8_t>(rng());
      }
      const RssHasher h(key, fn);
      const RssTable4 t(h);
      INFO("function " << static_cast<int>(fn) << " key " << k);
      for (int i = 0; i < 2000; ++i) {
        const Tuple x = random_tuple(rng);
        REQUIRE(t.hash(x.src_ip, x.dst_ip, x.src_port, x.dst_port) == h.hash(x.src_ip, x.dst_ip, x.src_port, x.dst_port));
      }
      // hash_memo(): the same, whether the addresses repeat (one or two
      // clients, many ports) or change every call.
      RssTable4 m(h);
      for (int i = 0; i < 2000; ++i) {
        Tuple x = random_tuple(rng);
        if (i % 3 != 0) x.src_ip = 0x0A000001u + static_cast<uint32_t>(i % 2);
        if (i % 5 != 0) x.dst_ip = 0xC6120002u;
        REQUIRE(m.hash_memo(x.src_ip, x.dst_ip, x.src_port, x.dst_port) ==
                h.hash(x.src_ip, x.dst_ip, x.src_port, x.dst_port));
      }
      REQUIRE(m.hash_memo(0, 0, 0, 0) == 0);
      REQUIRE(t.hash(0, 0, 0, 0) == 0);
    }
  }
  // Microsoft's RSS verification suite, through the table.
  const RssTable4 ms{RssHasher(kDefaultRssKey)};
  CHECK(ms.hash(ipv4(66, 9, 149, 187), ipv4(161, 142, 100, 80), 2794, 1766) == 0x51ccc178u);
}

TEST_CASE("the 0x6d5a key is symmetric, the default key is not", "[dp][rss]") {
  const auto key40 = repeat_key(kSymmetricKeyPattern, 40);
  const auto key52 = repeat_key(kSymmetricKeyPattern, 52);
  REQUIRE(key40.size() == 40);
  CHECK(key40[38] == 0x6d);
  CHECK(key40[39] == 0x5a);
  const RssHasher sym40(key40);
  const RssHasher sym52(key52);
  const RssHasher def(kDefaultRssKey);
  const RssHasher nic_sym(kDefaultRssKey, RssFunction::kSymmetricToeplitz);
  CHECK(sym40.symmetric());
  CHECK(sym52.symmetric());
  CHECK_FALSE(def.symmetric());
  CHECK(nic_sym.symmetric());

  std::mt19937 rng(12345);
  int default_symmetric = 0;
  for (int i = 0; i < 20000; ++i) {
    const Tuple t = random_tuple(rng);
    REQUIRE(sym40.hash(t.src_ip, t.dst_ip, t.src_port, t.dst_port) ==
            sym40.hash(t.dst_ip, t.src_ip, t.dst_port, t.src_port));
    REQUIRE(sym52.hash(t.src_ip, t.dst_ip, t.src_port, t.dst_port) ==
            sym52.hash(t.dst_ip, t.src_ip, t.dst_port, t.src_port));
    REQUIRE(nic_sym.hash(t.src_ip, t.dst_ip, t.src_port, t.dst_port) ==
            nic_sym.hash(t.dst_ip, t.src_ip, t.dst_port, t.src_port));
    if (def.hash(t.src_ip, t.dst_ip, t.src_port, t.dst_port) ==
        def.hash(t.dst_ip, t.src_ip, t.dst_port, t.src_port)) {
      ++default_symmetric;
    }
  }
  CHECK(default_symmetric == 0);
}

TEST_CASE("hash_inbound hashes remote -> local", "[dp][rss]") {
  const RssHasher h(kDefaultRssKey);
  synmill::tcp::FourTuple t;
  t.local_ip = ipv4(198, 18, 0, 1);
  t.remote_ip = ipv4(198, 18, 0, 2);
  t.local_port = 80;
  t.remote_port = 40000;
  CHECK(h.hash_inbound(t) == h.hash(t.remote_ip, t.local_ip, t.remote_port, t.local_port));
  CHECK(h.hash_inbound(t) != h.hash(t.local_ip, t.remote_ip, t.local_port, t.remote_port));
}

TEST_CASE("RETA lookup and software dispatch agree", "[dp][rss]") {
  const auto reta = round_robin_reta(128, 3);
  REQUIRE(reta.size() == 128);
  CHECK(reta[0] == 0);
  CHECK(reta[1] == 1);
  CHECK(reta[2] == 2);
  CHECK(reta[3] == 0);
  CHECK(queue_for(5, reta) == 2);
  CHECK(queue_for(128 + 4, reta) == 1);
  const auto sw = round_robin_reta(kSoftwareRetaSize, 5);
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t h = static_cast<uint32_t>(rng());
    REQUIRE(owner_for(h, 5) == queue_for(h, sw));
  }
}

TEST_CASE("pick_source_port lands replies on the requested queue", "[dp][rss]") {
  const RssHasher h(repeat_key(kSymmetricKeyPattern, 40));
  const uint32_t local = ipv4(198, 18, 0, 1);
  std::mt19937 rng(99);
  for (uint16_t queues : {uint16_t{2}, uint16_t{4}, uint16_t{7}}) {
    const auto reta = round_robin_reta(512, queues);
    for (int i = 0; i < 200; ++i) {
      const uint32_t remote = ipv4(198, 19, static_cast<uint32_t>(rng() % 256),
                                 static_cast<uint32_t>(rng() % 256));
      const auto remote_port = static_cast<uint16_t>(1 + rng() % 65535);
      const auto queue = static_cast<uint16_t>(rng() % queues);
      const PortRange range{10000, 60000};
      const auto start = static_cast<uint16_t>(range.first + rng() % 50000);
      const auto port = pick_source_port(h, reta, queue, local, remote, remote_port, range, start);
      REQUIRE(port.has_value());
      CHECK(*port >= range.first);
      CHECK(*port <= range.last);
      // The reply (remote -> local:port) and our own segments hash alike.
      CHECK(queue_for(h.hash(remote, local, remote_port, *port), reta) == queue);
      CHECK(queue_for(h.hash(local, remote, *port, remote_port), reta) == queue);
      // Retrying after a busy port finds the next one.
      const auto next = pick_source_port(h, reta, queue, local, remote, remote_port, range,
                                         static_cast<uint16_t>(*port + 1));
      REQUIRE(next.has_value());
      CHECK(*next != *port);
      CHECK(queue_for(h.hash(remote, local, remote_port, *next), reta) == queue);
    }
  }
}

TEST_CASE("pick_source_port reports when no port fits", "[dp][rss]") {
  const RssHasher h(repeat_key(kSymmetricKeyPattern, 40));
  const std::vector<uint16_t> all_zero(128, 0);
  CHECK_FALSE(pick_source_port(h, all_zero, 1, 1, 2, 80, {1024, 65535}, 1024).has_value());
  CHECK(pick_source_port(h, all_zero, 0, 1, 2, 80, {1024, 65535}, 5000) == uint16_t{5000});
  CHECK(pick_source_port(h, all_zero, 0, 1, 2, 80, {1024, 65535}, 65535) == uint16_t{65535});
  CHECK(pick_source_port(h, all_zero, 0, 1, 2, 80, {1024, 2000}, 80) == uint16_t{1024});
  CHECK_FALSE(pick_source_port(h, {}, 0, 1, 2, 80, {1024, 2000}, 80).has_value());
}

namespace {

using V6 = std::array<uint8_t, 16>;

// Parses a textual IPv6 address (test vectors only; inet_pton semantics).
V6 v6(const char* text) {
  V6 a{};
  REQUIRE(inet_pton(AF_INET6, text, a.data()) == 1);
  return a;
}

V6 random_v6(std::mt19937& rng) {
  V6 a{};
  for (auto& b : a) b = static_cast<uint8_t>(rng());
  return a;
}

}  // namespace

TEST_CASE("IPv6 Toeplitz matches Microsoft's RSS verification suite", "[dp][rss][ipv6]") {
  // "Verifying the RSS Hash Calculation", IPv6 with TCP, default key. The
  // addresses are the suite's (never put on a wire here).
  const RssHasher h(kDefaultRssKey);
  CHECK(h.hash6(v6("3ffe:2501:200:1fff::7"), v6("3ffe:2501:200:3::1"), 2794, 1766) == 0x40207d3du);
  CHECK(h.hash6(v6("3ffe:501:8::260:97ff:fe40:efab"), v6("ff02::1"), 14230, 4739) == 0xdde51bbfu);
  CHECK(h.hash6(v6("3ffe:1900:4545:3:200:f8ff:fe21:67cf"), v6("fe80::200:f8ff:fe21:67cf"), 44251, 38024) ==
        0x02d1feefu);
}

TEST_CASE("IPv6: RssHasher agrees with rte_softrss over rte_ipv6_tuple", "[dp][rss][ipv6]") {
  alignas(4) std::array<uint8_t, 52> key{};
  std::mt19937 rng(11);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  for (const size_t len : {size_t{40}, size_t{52}}) {
    const RssHasher h(std::span<const uint8_t>(key.data(), len));
    for (int i = 0; i < 1000; ++i) {
      const V6 src = random_v6(rng), dst = random_v6(rng);
      const auto sport = static_cast<uint16_t>(rng()), dport = static_cast<uint16_t>(rng());
      // DPDK's documented recipe: each address word converted to CPU order.
      rte_ipv6_tuple tuple{};
      for (size_t w = 0; w < 4; ++w) {
        uint32_t s = 0, d = 0;
        std::memcpy(&s, src.data() + 4 * w, 4);
        std::memcpy(&d, dst.data() + 4 * w, 4);
        reinterpret_cast<uint32_t*>(tuple.src_addr)[w] = rte_be_to_cpu_32(s);
        reinterpret_cast<uint32_t*>(tuple.dst_addr)[w] = rte_be_to_cpu_32(d);
      }
      tuple.sport = sport;
      tuple.dport = dport;
      const uint32_t expected = rte_softrss(reinterpret_cast<uint32_t*>(&tuple), RTE_THASH_V6_L4_LEN, key.data());
      REQUIRE(h.hash6(src, dst, sport, dport) == expected);
    }
  }
}

TEST_CASE("IPv6: the 0x6d5a key and the NIC symmetric function are symmetric", "[dp][rss][ipv6]") {
  const RssHasher sym40(repeat_key(kSymmetricKeyPattern, 40));
  const RssHasher sym52(repeat_key(kSymmetricKeyPattern, 52));
  const RssHasher def(kDefaultRssKey);
  const RssHasher nic_sym(kDefaultRssKey, RssFunction::kSymmetricToeplitz);
  CHECK(sym40.symmetric6());
  CHECK(sym52.symmetric6());
  CHECK(nic_sym.symmetric6());
  CHECK_FALSE(def.symmetric6());
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    const V6 a = random_v6(rng), b = random_v6(rng);
    const auto pa = static_cast<uint16_t>(rng()), pb = static_cast<uint16_t>(rng());
    REQUIRE(sym40.hash6(a, b, pa, pb) == sym40.hash6(b, a, pb, pa));
    REQUIRE(nic_sym.hash6(a, b, pa, pb) == nic_sym.hash6(b, a, pb, pa));
  }
}

TEST_CASE("IPv6: pick_source_port6 lands replies on the requested queue", "[dp][rss][ipv6]") {
  const RssHasher h(repeat_key(kSymmetricKeyPattern, 40));
  const V6 local = v6("2001:2::100");
  std::mt19937 rng(17);
  for (uint16_t queues : {uint16_t{2}, uint16_t{5}}) {
    const auto reta = round_robin_reta(512, queues);
    for (int i = 0; i < 200; ++i) {
      V6 remote = v6("2001:2::");
      remote[14] = static_cast<uint8_t>(rng());
      remote[15] = static_cast<uint8_t>(rng());
      const auto remote_port = static_cast<uint16_t>(1 + rng() % 65535);
      const auto queue = static_cast<uint16_t>(rng() % queues);
      const PortRange range{10000, 60000};
      const auto port = pick_source_port6(h, reta, queue, local, remote, remote_port, range, 10000);
      REQUIRE(port.has_value());
      CHECK(queue_for(h.hash6(remote, local, remote_port, *port), reta) == queue);
      CHECK(queue_for(h.hash6(local, remote, *port, remote_port), reta) == queue);  // symmetric key
    }
  }
}
