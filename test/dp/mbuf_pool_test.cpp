// Sizing the mbuf pool from queues, cores and connections.
#include <catch2/catch.hpp>

#include "dp/mbuf_pool.hpp"

using namespace synmill::dp;

TEST_CASE("mbuf budget adds up queues, caches, bursts and connections", "[dp][mbuf]") {
  MbufPoolSpec s;
  s.name = "t";
  s.rx_queues = 2;
  s.rx_desc = 1024;
  s.tx_queues = 2;
  s.tx_desc = 512;
  s.lcores = 2;
  s.burst = 32;
  s.connections = 1000;
  s.mbufs_per_connection = 2;
  s.dispatch_slots = 100;
  auto b = plan_mbuf_pool(s);
  REQUIRE(b.ok());
  CHECK(b->descriptors == 2 * 1024 + 2 * 512);
  CHECK(b->bursts == 2 * 64);
  CHECK(b->connections == 2000);
  CHECK(b->dispatch == 100);
  CHECK(b->cache_size == 256);
  CHECK(b->caches == 2 * 384);
  CHECK(b->needed == 3072 + 128 + 2000 + 100 + 768);
  CHECK(b->count == b->needed);
  CHECK(b->cache_size * 3 / 2 <= b->count);
}

TEST_CASE("too few mbufs for the connections is an error", "[dp][mbuf]") {
  MbufPoolSpec s;
  s.name = "pool0";
  s.rx_queues = 1;
  s.rx_desc = 1024;
  s.tx_queues = 1;
  s.tx_desc = 1024;
  s.lcores = 1;
  s.connections = 10000;
  s.mbufs_per_connection = 2;
  s.count = 8192;
  auto b = plan_mbuf_pool(s);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().find('\n') == std::string::npos);
  CHECK(b.error().rfind("mbuf pool 'pool0': 8192 mbufs configured but 22496 needed", 0) == 0);
  CHECK(b.error().find("10000 connections x 2 = 20000") != std::string::npos);
  CHECK(b.error().find("raise the pool to at least 22496 mbufs or lower the connection count") !=
        std::string::npos);
  s.count = 22496;
  CHECK(plan_mbuf_pool(s).ok());
}

TEST_CASE("small pools get small caches", "[dp][mbuf]") {
  MbufPoolSpec s;
  s.rx_queues = 1;
  s.rx_desc = 64;
  s.tx_queues = 1;
  s.tx_desc = 64;
  s.lcores = 4;
  auto b = plan_mbuf_pool(s);
  REQUIRE(b.ok());
  CHECK(b->cache_size <= 128);
  CHECK(b->cache_size * 3 / 2 <= b->count);
}

TEST_CASE("data room holds a frame of the MTU", "[dp][mbuf]") {
  CHECK(data_room_for_mtu(1500) == 2176);  // RTE_MBUF_DEFAULT_BUF_SIZE
  CHECK(data_room_for_mtu(9000) >= 128 + 9000 + 22);
}
