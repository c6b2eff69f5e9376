// TX checksum offload (tx_cksum.hpp) for IPv4 and IPv6 TCP frames: the mbuf's
// flags and lengths and the pseudo-header sum against DPDK's own
// rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum; the checksum a NIC completes
// from it (summed here as a NIC does: over the TCP bytes, field included)
// verifies. Then the worker itself over a ring port: an IPv6 SYN in, the
// SYN-ACK out, with the offload on (flags and pseudo-header in the frame) and
// on a port that lacks it (the profile asks, the port refuses: no flag, a
// full software checksum).
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "dp/mbuf_pool.hpp"
#include "dp/port.hpp"
#include "dp/profile_values.hpp"
#include "dp/rte.hpp"
#include "dp/tx_cksum.hpp"
#include "dp/worker.hpp"
#include "tcp/apps/factory.hpp"
#include "test_eal.hpp"
#include "wire/checksum6.hpp"
#include "wire/frame.hpp"
#include "wire/tcp_frame.hpp"
#include "wire/tcp_template.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_eth_ring.h>
#include <rte_ip.h>
#include <rte_ring.h>
#pragma GCC diagnostic pop

using namespace synmill;
using namespace synmill::dp;
namespace t = synmill::dp::test;

namespace {

constexpr wire::MacAddr kMacA{0x02, 0, 0, 0, 0, 0x0a};
constexpr wire::MacAddr kMacB{0x02, 0, 0, 0, 0, 0x0b};
const wire::Ipv6Addr kIp6A = wire::Ipv6Addr{{0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};  // 2001:2::1
const wire::Ipv6Addr kIp6B = wire::Ipv6Addr{{0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};  // 2001:2::2
constexpr uint32_t kIpA = 0xc6120001;  // 198.18.0.1
constexpr uint32_t kIpB = 0xc6120002;  // 198.18.0.2

wire::TcpHeaderFields fields(uint8_t flags) {
  wire::TcpHeaderFields h;
  h.src_ip = kIpB;
  h.dst_ip = kIpA;
  h.src_port = 40000;
  h.dst_port = 7;
  h.seq = 0x01020304;
  h.ack = 0x0a0b0c0d;
  h.flags = flags;
  h.window = 8192;
  return h;
}

// What a NIC does with RTE_MBUF_F_TX_TCP_CKSUM: sums the TCP bytes as they
// are (the pseudo-header sum in the checksum field) and stores the complement.
void complete_like_a_nic(uint8_t* tcp, size_t tcp_len) {
  uint16_t c = static_cast<uint16_t>(~rte_raw_cksum(tcp, tcp_len));
  if (c == 0) c = 0xffff;
  std::memcpy(tcp + 16, &c, 2);
}

rte_mempool* pool() {
  static rte_mempool* p = [] {
    MbufPoolSpec spec;
    spec.name = "txck_pool_" + std::to_string(::getpid());
    spec.rx_desc = 64;
    spec.tx_desc = 64;
    auto r = create_mbuf_pool(spec);
    INFO((r.ok() ? std::string() : r.error()));
    REQUIRE(r.ok());
    return *r;
  }();
  return p;
}

struct Built {
  rte_mbuf* m = nullptr;
  uint8_t* p = nullptr;
  size_t len = 0;
};

// An IPv6 TCP frame with `payload` bytes, optionally behind an 8-byte
// destination options header (RFC 8200 §4.6: one PadN option), with a
// zero checksum.
Built frame6(size_t payload, bool dest_opts) {
  Built b;
  b.m = rte_pktmbuf_alloc(pool());
  REQUIRE(b.m != nullptr);
  const size_t ext = dest_opts ? 8 : 0;
  b.len = 14 + 40 + ext + 20 + payload;
  b.p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(b.m, static_cast<uint16_t>(b.len)));
  REQUIRE(b.p != nullptr);
  std::vector<uint8_t> tmp(14 + 40 + 20 + payload);
  const wire::TcpFrameTemplate tpl(kMacB);
  tpl.write_headers6(tmp.data(), kMacA, kIp6B, kIp6A, fields(0x18), wire::TcpOptions{}, 0, payload);
  for (size_t i = 0; i < payload; ++i) tmp[74 + i] = static_cast<uint8_t>(i * 7 + 3);
  std::memcpy(b.p, tmp.data(), 54);
  if (dest_opts) {
    b.p[14 + 6] = 60;  // next header: destination options
    const uint16_t plen = static_cast<uint16_t>(8 + 20 + payload);
    b.p[14 + 4] = static_cast<uint8_t>(plen >> 8);
    b.p[14 + 5] = static_cast<uint8_t>(plen);
    const std::array<uint8_t, 8> opts{6, 0, 1, 4, 0, 0, 0, 0};  // TCP next; PadN of 4
    std::memcpy(b.p + 54, opts.data(), opts.size());
  }
  std::memcpy(b.p + 54 + ext, tmp.data() + 54, 20 + payload);
  return b;
}

wire::ParseFlags v6_flags() {
  wire::ParseFlags f = wire::kVerifyChecksums;
  f.accept_ipv6 = true;
  return f;
}

}  // namespace

TEST_CASE("TX checksum offload marks IPv6 TCP frames for the NIC", "[dp][eal][txcksum]") {
  t::eal();
  for (const size_t payload : {size_t{0}, size_t{1}, size_t{333}}) {
    for (const bool dest_opts : {false, true}) {
      INFO("payload " << payload << (dest_opts ? ", destination options" : ""));
      Built b = frame6(payload, dest_opts);
      const size_t l3 = dest_opts ? 48 : 40;
      const size_t tcp_len = 20 + payload;
      REQUIRE(mark_tcp_tx_offload(b.m, b.p, b.len, false, true));
      CHECK(b.m->ol_flags == (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM));
      CHECK((b.m->ol_flags & RTE_MBUF_F_TX_IPV4) == 0);
      CHECK(b.m->l2_len == 14);
      CHECK(b.m->l3_len == l3);
      CHECK(b.m->l4_len == 20);
      uint8_t* tcp = b.p + 14 + l3;
      // RFC 8200 §8.1: the upper-layer length (TCP), not the payload length
      // (which counts the extension header). Without one, exactly DPDK's value.
      const uint16_t ph = wire::tcp6_pseudo_header_checksum(kIp6B.b.data(), kIp6A.b.data(), static_cast<uint32_t>(tcp_len));
      CHECK(tcp[16] == static_cast<uint8_t>(ph >> 8));
      CHECK(tcp[17] == static_cast<uint8_t>(ph));
      if (!dest_opts) {
        const uint16_t dpdk = rte_ipv6_phdr_cksum(reinterpret_cast<const rte_ipv6_hdr*>(b.p + 14), 0);
        CHECK(std::memcmp(tcp + 16, &dpdk, 2) == 0);
      }
      // Before the NIC: the frame's TCP checksum is wrong (not yet complete).
      CHECK_FALSE(wire::parse_frame(std::span<const uint8_t>(b.p, b.len), v6_flags()).ok());
      complete_like_a_nic(tcp, tcp_len);
      const auto f = wire::parse_frame(std::span<const uint8_t>(b.p, b.len), v6_flags());
      INFO((f.ok() ? "" : "parse error"));
      CHECK(f.ok());
      if (!dest_opts) {  // DPDK's own software checksum of the same frame agrees
        uint16_t ours = 0;
        std::memcpy(&ours, tcp + 16, 2);
        tcp[16] = tcp[17] = 0;
        CHECK(rte_ipv6_udptcp_cksum(reinterpret_cast<const rte_ipv6_hdr*>(b.p + 14), tcp) == ours);
      }
      // IPv6 has no header checksum: ip_cksum never sets RTE_MBUF_F_TX_IP_CKSUM.
      b.m->ol_flags = 0;
      REQUIRE(mark_tcp_tx_offload(b.m, b.p, b.len, true, false));
      CHECK(b.m->ol_flags == RTE_MBUF_F_TX_IPV6);
      rte_pktmbuf_free(b.m);
    }
  }
}

TEST_CASE("TX checksum offload of IPv4 TCP frames is unchanged", "[dp][eal][txcksum]") {
  t::eal();
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  REQUIRE(m != nullptr);
  constexpr size_t payload = 101;
  constexpr size_t len = 14 + 20 + 20 + payload;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  REQUIRE(p != nullptr);
  const wire::TcpFrameTemplate tpl(kMacB);
  tpl.write_headers(p, kMacA, fields(0x18), wire::TcpOptions{}, 0, 7, payload, false);
  for (size_t i = 0; i < payload; ++i) p[54 + i] = static_cast<uint8_t>(i * 5 + 1);
  REQUIRE(mark_tcp_tx_offload(m, p, len, true, true));
  CHECK(m->ol_flags == (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM));
  CHECK(m->l2_len == 14);
  CHECK(m->l3_len == 20);
  CHECK(m->l4_len == 20);
  const uint16_t dpdk = rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(p + 14), 0);
  CHECK(std::memcmp(p + 34 + 16, &dpdk, 2) == 0);
  // Not IP: refused, nothing set.
  rte_mbuf* arp = rte_pktmbuf_alloc(pool());
  REQUIRE(arp != nullptr);
  auto* q = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(arp, 60));
  std::memset(q, 0, 60);
  q[12] = 0x08;
  q[13] = 0x06;
  CHECK_FALSE(mark_tcp_tx_offload(arp, q, 60, true, true));
  CHECK(arp->ol_flags == 0);
  rte_pktmbuf_free(arp);
  rte_pktmbuf_free(m);
}

namespace {

struct RingPort {
  PortInfo info;
  rte_mempool* pool = nullptr;
};

// A ring port from the net_ring profile with `offloads` asked for.
RingPort start_ring_port(const std::string& name, rte_ring* rx, rte_ring* tx, const std::string& offloads) {
  const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, 0);
  REQUIRE(id >= 0);
  const auto port = static_cast<uint16_t>(id);
  auto profile = find_profile(t::drivers_config_dir(), driver_name_of(port));
  REQUIRE(profile.ok());
  REQUIRE(apply_overrides(*profile, {{"offloads", offloads}}, "test").ok());
  auto plan = configure_port(*profile, PortRequest{port, 1, {}});
  REQUIRE(plan.ok());
  auto pool = create_mbuf_pool(mbuf_pool_spec_for(plan->info, 1, 64, 2));
  REQUIRE(pool.ok());
  auto info = start_port(*plan, *pool);
  REQUIRE(info.ok());
  return {*info, *pool};
}

// A small worker on `port` holding the one address `a` (no gratuitous ARP).
WorkerSettings ring_worker_settings(const RingPort& port, const Address& a) {
  WorkerSettings s;
  s.port_id = port.info.port_id;
  s.port = &port.info;
  s.pool = port.pool;
  s.addrs = {a};
  s.gratuitous_arp = false;
  s.tcp.max_conns = 16;
  s.tcp.send_chunks = 64;
  return s;
}

// Runs a worker holding 2001:2::1 (echo on 7) on `port` until it has sent
// one frame in answer to an IPv6 SYN from 2001:2::2 (its neighbour from the
// start), and returns that frame (the caller frees it).
rte_mbuf* syn_ack_from_worker(const RingPort& port, rte_ring* in, rte_ring* out) {
  Address a;
  a.v6 = true;
  a.ip6 = kIp6A;
  a.prefix = 64;
  const WorkerSettings s = ring_worker_settings(port, a);
  std::string error;
  auto echo = tcp::make_app("echo", error);
  REQUIRE(echo != nullptr);
  Worker w(s);
  REQUIRE(w.listen(7, *echo));
  w.set_neighbour6(kIp6B, kMacB);

  rte_mbuf* syn = rte_pktmbuf_alloc(port.pool);
  REQUIRE(syn != nullptr);
  wire::TcpOptions opts;
  opts.has_mss = true;
  opts.mss = 1440;
  const size_t opts_len = wire::tcp_options_len(opts);
  const size_t len = 74 + opts_len;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(syn, static_cast<uint16_t>(len)));
  REQUIRE(p != nullptr);
  wire::TcpFrameTemplate(kMacB).write_headers6(p, port.info.mac, kIp6B, kIp6A, fields(0x02), opts, opts_len, 0);
  wire::fill_tcp6_checksum(p, 20 + opts_len);
  REQUIRE(rte_ring_enqueue(in, syn) == 0);

  std::atomic<int> state{static_cast<int>(RunState::kRunning)};
  std::thread run([&] { w.run(state); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (rte_ring_count(out) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rte_mbuf* reply = nullptr;
  const bool got = rte_ring_dequeue(out, reinterpret_cast<void**>(&reply)) == 0;
  state.store(static_cast<int>(RunState::kStopping));
  run.join();
  // What the stop sent (an RST for the half-open connection) is not looked at.
  void* rest = nullptr;
  while (rte_ring_dequeue(out, &rest) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(rest));
  REQUIRE(got);
  CHECK(w.stack().counters().syn_in == 1);
  return reply;
}

}  // namespace

TEST_CASE("the worker's IPv6 SYN-ACK with TX checksum offload on, and on a port that lacks it",
          "[dp][eal][txcksum]") {
  t::eal();
  static int run = 0;  // each SECTION runs the case again: new names
  const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(run++);
  rte_ring* in = rte_ring_create(("txck-in-" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* out = rte_ring_create(("txck-out-" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(in != nullptr);
  REQUIRE(out != nullptr);
  // net_ring advertises no TX offload: the profile's request is refused.
  RingPort port = start_ring_port("txck_" + tag, in, out, "tx_tcp_cksum");
  CHECK(port.info.offloads_refused == offload::kTxTcpCksum);
  CHECK_FALSE(port.info.tx_tcp_cksum_offloaded());

  SECTION("a port that lacks the offload: full software checksum, no flag") {
    rte_mbuf* m = syn_ack_from_worker(port, in, out);
    CHECK((m->ol_flags & (RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IPV4)) == 0);
    const std::span<const uint8_t> f(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
    const auto parsed = wire::parse_frame(f, v6_flags());
    REQUIRE(parsed.ok());
    CHECK(parsed->kind == wire::FrameKind::kIpv6Tcp);
    CHECK(parsed->tcp.flags() == 0x12);  // SYN-ACK
    rte_pktmbuf_free(m);
  }
  SECTION("a port with the offload: flags, lengths and the pseudo-header sum") {
    port.info.offloads |= offload::kTxTcpCksum | offload::kTxIpCksum;  // as a NIC that has them
    rte_mbuf* m = syn_ack_from_worker(port, in, out);
    CHECK(m->ol_flags == (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM));
    CHECK(m->l2_len == 14);
    CHECK(m->l3_len == 40);
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    CHECK(p[14 + 6] == 6);  // no extension header
    const size_t tcp_len = size_t{p[14 + 4]} << 8 | p[14 + 5];  // the IPv6 payload length
    CHECK(m->l4_len == (p[54 + 12] >> 4) * 4u);
    const uint16_t dpdk = rte_ipv6_phdr_cksum(reinterpret_cast<const rte_ipv6_hdr*>(p + 14), 0);
    CHECK(std::memcmp(p + 54 + 16, &dpdk, 2) == 0);
    complete_like_a_nic(p + 54, tcp_len);
    const std::span<const uint8_t> f(p, 54 + tcp_len);
    const auto parsed = wire::parse_frame(f, v6_flags());
    REQUIRE(parsed.ok());
    CHECK(parsed->tcp.flags() == 0x12);
    rte_pktmbuf_free(m);
  }
  REQUIRE(close_port(port.info.port_id).ok());
  rte_mempool_free(port.pool);
  rte_ring_free(in);
  rte_ring_free(out);
}

namespace {

// An IPv4 SYN from `ip`:`port` with source MAC `mac` to `to` (198.18.0.2:7).
rte_mbuf* syn4(rte_mempool* mp, const wire::MacAddr& to, const wire::MacAddr& mac, uint32_t ip, uint16_t port) {
  wire::TcpFrameSpec spec;
  spec.src_mac = mac;
  spec.dst_mac = to;
  spec.src_ip = ip;
  spec.dst_ip = kIpB;
  spec.src_port = port;
  spec.dst_port = 7;
  spec.seq = 1000u * port;
  spec.flags = 0x02;
  spec.window = 8192;
  spec.opts.has_mss = true;
  spec.opts.mss = 1400;
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  REQUIRE(m != nullptr);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  REQUIRE(p != nullptr);
  std::memset(p, 0, 60);
  const size_t n = wire::build_tcp_frame(std::span<uint8_t>(p, 60), spec, {});
  REQUIRE(n > 0);
  REQUIRE(n <= 60);
  return m;
}

}  // namespace

// handle() skips bad_source() and learn() while frames come from the last
// accepted source (address + MAC): a new MAC for the same address, another
// address, a bad address behind the same MAC and a return to the first
// address are each checked and learnt again; every reply goes to the MAC
// the SYN came from.
TEST_CASE("the worker's IPv4 source check and neighbour learning across repeated and changing sources",
          "[dp][eal]") {
  t::eal();
  const std::string tag = std::to_string(::getpid()) + "_src";
  rte_ring* in = rte_ring_create(("srck-in-" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* out = rte_ring_create(("srck-out-" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(in != nullptr);
  REQUIRE(out != nullptr);
  RingPort port = start_ring_port("srck_" + tag, in, out, "tx_tcp_cksum");  // refused by net_ring
  {
    Address a;
    a.ip = kIpB;
    a.prefix = 24;
    const WorkerSettings s = ring_worker_settings(port, a);
    std::string error;
    auto echo = tcp::make_app("echo", error);
    REQUIRE(echo != nullptr);
    Worker w(s);
    REQUIRE(w.listen(7, *echo));
    w.start(1'000'000'000, 0);
    constexpr wire::MacAddr kMacC{0x02, 0, 0, 0, 0, 0x0c};
    constexpr uint32_t kIpC = 0xc6120003;  // 198.18.0.3
    struct Step {
      wire::MacAddr mac;
      uint32_t ip;
      bool answered;
    };
    const std::array<Step, 7> steps{{
        {kMacA, kIpA, true},
        {kMacA, kIpA, true},         // the same source: neither checked nor learnt again
        {kMacC, kIpA, true},         // a new MAC for 198.18.0.1
        {kMacC, 0x7f000001, false},  // loopback behind the same MAC: a bad source
        {kMacC, kIpC, true},         // 198.18.0.3 behind it
        {kMacA, kIpA, true},         // 198.18.0.1 back at its first MAC
        {kMacA, kIpA, true},
    }};
    uint64_t tsc = 1000;
    for (size_t i = 0; i < steps.size(); ++i) {
      INFO("step " << i);
      REQUIRE(rte_ring_enqueue(in, syn4(port.pool, port.info.mac, steps[i].mac, steps[i].ip,
                                        static_cast<uint16_t>(40000 + i))) == 0);
      tsc += 1000;
      REQUIRE(w.pass(tsc) == 1);
      void* r = nullptr;
      const bool got = rte_ring_dequeue(out, &r) == 0;
      CHECK(got == steps[i].answered);
      if (got) {
        auto* m = static_cast<rte_mbuf*>(r);
        const std::span<const uint8_t> f(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
        const auto parsed = wire::parse_frame(f);
        REQUIRE(parsed.ok());
        CHECK(parsed->tcp.flags() == 0x12);  // SYN-ACK
        CHECK(parsed->ip.dst() == steps[i].ip);
        CHECK(std::memcmp(f.data(), steps[i].mac.data(), 6) == 0);
        rte_pktmbuf_free(m);
      }
    }
    CHECK(w.counters().drop_bad_source == 1);
    CHECK(w.counters().arp_learned == 4);  // A at A's MAC, A at C's, C, A at A's again
    CHECK(w.stack().counters().syn_in == 6);
    w.pass(tsc + 1000, RunState::kStopping);
    void* rest = nullptr;
    while (rte_ring_dequeue(out, &rest) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(rest));
  }
  REQUIRE(close_port(port.info.port_id).ok());
  rte_mempool_free(port.pool);
  rte_ring_free(in);
  rte_ring_free(out);
}
