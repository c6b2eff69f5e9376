#pragma once
// A question about a worker's tables from another thread (telemetry), answered
// by the worker itself between two bursts, so the reply is one consistent
// view: the asking thread never reads the tables the worker writes.
//
// The asker fills a TableQuery (rows reserved up to `want`), posts it with
// Worker::ask() and waits; the worker sees it at its next loop (one relaxed
// load per loop), fills rows or state without allocating, and sets `done`.
#include <atomic>
#include <cstdint>
#include <vector>

#include "tcp/stack.hpp"
#include "wire/ipv6_addr.hpp"

namespace synmill::dp {

struct TableQuery {
  enum class Kind : uint8_t { kConns, kState };
  Kind kind = Kind::kConns;
  // kConns: connections then TIME_WAIT entries, skipping `skip`, at most
  // `want` rows (rows.capacity() must be >= want: the worker never allocates).
  uint32_t skip = 0;
  uint32_t want = 0;
  std::vector<tcp::ConnInfo> rows;
  // The addresses of each row's tuple when it is IPv6 (tcp::is_ipv6), copied
  // by the worker (its address table is its own); zero for IPv4 rows.
  // Reserve as rows.
  struct Addrs6 {
    wire::Ipv6Addr local, remote;
  };
  std::vector<Addrs6> addrs6;
  uint32_t seen = 0;  // entries visited, skipped ones included (to carry `skip` to the next worker)
  tcp::Instant now;  // the worker's clock when it answered
  // kState: the state a segment for `tuple` would meet (Stack::state_of).
  tcp::FourTuple tuple;
  // IPv6 (v6 set): the addresses; the worker maps them to its tuple (only
  // the ports of `tuple` are read).
  bool v6 = false;
  wire::Ipv6Addr local6, remote6;
  tcp::State state = tcp::State::kClosed;

  std::atomic<bool> done{false};
};

// Fills `q` from `stack` (on the thread that owns the stack).
void answer(const tcp::Stack& stack, TableQuery& q, tcp::Instant now);

}  // namespace synmill::dp
