// The EAL-free half of the telemetry: sums over workers, counter names, rows.
#include <catch2/catch.hpp>

#include <set>

#include "dp/telemetry.hpp"

using namespace synmill;
using namespace synmill::dp;

TEST_CASE("telemetry: counters add up member by member", "[dp][app]") {
  tcp::Counters a;
  a.syn_in = 3;
  a.drop.paws = 2;
  tcp::Counters b;
  b.syn_in = 4;
  b.drop.no_listener = 1;
  tcp::Counters t;
  add_to(t, a);
  add_to(t, b);
  CHECK(t.syn_in == 7);
  CHECK(t.drop.paws == 2);
  CHECK(t.total_drops() == 3);

  WorkerCounters w;
  w.rx_packets = 5;
  w.drop_tx_full = 1;
  WorkerCounters wt;
  add_to(wt, w);
  add_to(wt, w);
  CHECK(wt.rx_packets == 10);
  CHECK(wt.drop_tx_full == 2);

  tcp::StateGauges g;
  g.count[static_cast<int>(tcp::State::kEstablished)] = 4;
  tcp::StateGauges gt;
  add_to(gt, g);
  add_to(gt, g);
  CHECK(gt[tcp::State::kEstablished] == 8);
}

TEST_CASE("telemetry: /synmill/stats names are unique and complete", "[dp][app]") {
  Totals t;
  t.tcp.rx_bytes = 100;
  t.dp.rx_bytes = 150;
  t.dp.rx_packets = 4;
  t.dp.busy_cycles = 1000;
  t.tcp.drop.out_of_window = 2;
  t.dp.drop_no_mbuf = 1;
  t.tcp.reclaim_orphan_table = 3;
  t.orphans = 7;
  t.squatters = 2;
  const auto e = stats_entries(t);
  std::set<std::string> names;
  for (const auto& [name, v] : e) {
    CHECK(names.insert(name).second);  // no duplicate keys in the JSON object
    for (char c : name) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
  }
  const auto value = [&](std::string_view name) -> int64_t {
    for (const auto& [k, v] : e) {
      if (k == name) return static_cast<int64_t>(v);
    }
    return -1;
  };
  CHECK(value("rx_bytes") == 100);
  CHECK(value("port_rx_bytes") == 150);
  CHECK(value("drop_out_of_window") == 2);
  CHECK(value("drop_no_mbuf") == 1);
  CHECK(value("busy_cycles_per_packet") == 250);
  CHECK(value("reclaim_orphan_table") == 3);  // issue 10: every reclaim has its counter
  CHECK(value("orphans") == 7);
  CHECK(value("squatters") == 2);
  CHECK(value("syn_in") == 0);
  CHECK(value("loops") == 0);
  CHECK(e.size() <= 256);  // RTE_TEL_MAX_DICT_ENTRIES
  CHECK(total_drops(t) == 3);
}

TEST_CASE("telemetry: /synmill/states lists LISTEN..TIME_WAIT and a total", "[dp][app]") {
  tcp::StateGauges g;
  g.count[static_cast<int>(tcp::State::kClosed)] = 1000;  // free slots: not shown
  g.count[static_cast<int>(tcp::State::kListen)] = 2;
  g.count[static_cast<int>(tcp::State::kEstablished)] = 5;
  g.count[static_cast<int>(tcp::State::kTimeWait)] = 7;
  const auto e = state_entries(g);
  REQUIRE(e.size() == 11);
  CHECK(e.front() == NamedValue{"LISTEN", 2});
  CHECK(e[9] == NamedValue{"TIME_WAIT", 7});
  CHECK(e.back() == NamedValue{"total", 12});
}

TEST_CASE("telemetry: a connection row", "[dp][app]") {
  tcp::ConnInfo ci;
  ci.tuple = tcp::FourTuple{0xC6120001u, 0xC6120002u, 80, 40000};
  ci.state = tcp::State::kFinWait1;
  ci.snd_una = tcp::Seq(10);
  ci.snd_nxt = tcp::Seq(20);
  ci.rcv_nxt = tcp::Seq(30);
  ci.send_queued = 10;
  ci.rto_ms = 400;
  ci.retries = 2;
  ci.rtx_at = tcp::Instant(1500000000);
  const ConnRow r = conn_row(ci, 3, tcp::Instant(1000000000));
  CHECK(r.local == "198.18.0.1:80");
  CHECK(r.remote == "198.18.0.2:40000");
  CHECK(r.state == "FIN_WAIT_1");
  CHECK(r.core == 3);
  CHECK(r.snd_una == 10);
  CHECK(r.snd_nxt == 20);
  CHECK(r.rcv_nxt == 30);
  CHECK(r.send_queued == 10);
  CHECK(r.rto_ms == 400);
  CHECK(r.retries == 2);
  CHECK(r.rtx_in_ms == 500);
  CHECK(r.timer_in_ms == -1);  // not armed
  // a deadline already passed reads 0, not negative
  ci.state_at = tcp::Instant(1);
  CHECK(conn_row(ci, 0, tcp::Instant(1000000000)).timer_in_ms == 0);
}

TEST_CASE("conn_row: IPv6 tuples in [address]:port form", "[dp][telemetry]") {
  tcp::ConnInfo ci;
  ci.tuple = tcp::FourTuple{tcp::kLocal6Tag | 0, 5, 80, 40000};  // table indexes, not addresses
  ci.state = tcp::State::kEstablished;
  TableQuery::Addrs6 a;
  a.local = wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0, 1});
  a.remote = wire::Ipv6Addr::from_groups({0x2001, 2, 0, 0, 0, 0, 0xab, 2});
  const ConnRow r = conn_row(ci, 0, tcp::Instant(0), &a);
  CHECK(r.local == "[2001:2::1]:80");
  CHECK(r.remote == "[2001:2::ab:2]:40000");
  // IPv4 rows ignore the addresses given
  ci.tuple = tcp::FourTuple{0xC6120001u, 0xC6120002u, 80, 40000};
  CHECK(conn_row(ci, 0, tcp::Instant(0), &a).local == "198.18.0.1:80");
}
