// RecvBuffer (receive buffer + out-of-order blocks) and SackBoard (the
// sender's RFC 6675 scoreboard) on their own, including a randomized run of
// segments arriving in any order across sequence-number wrap.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "infra_check.hpp"
#include "tcp/chunk_pool.hpp"
#include "tcp/recv_buffer.hpp"
#include "tcp/sack_board.hpp"

using synmill::tcp::ChunkPool;
using synmill::tcp::RecvBuffer;
using synmill::tcp::SackBoard;
using synmill::tcp::Seq;

namespace {

struct Buf {
  Buf(uint32_t cap, uint32_t cs, uint32_t chunks)
      : pool(chunks, cs), slots((cap + cs - 1) / cs + 2, RecvBuffer::kNoChunk), cap_(cap) {}
  ChunkPool pool;
  std::vector<uint32_t> slots;
  uint32_t cap_;
  RecvBuffer q;
  RecvBuffer::Slots s() { return RecvBuffer::Slots{slots.data(), static_cast<uint32_t>(slots.size())}; }
};

}  // namespace

TEST_CASE("RecvBuffer: out-of-order ranges merge, RCV.NXT jumps over them, chunks come back", "[infra][rcvbuf]") {
  Buf b(8192, 512, 64);
  const Seq base{0xFFFFF000u};  // wraps inside the test
  b.q.reset(base);
  std::vector<uint8_t> d(4096);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7);
  const auto part = [&](uint32_t off, uint32_t len) { return std::span<const uint8_t>(d.data() + off, len); };
  REQUIRE(b.q.store(b.pool, b.s(), b.cap_, base + 3000, part(3000, 1000)));
  REQUIRE(b.q.add_block(base + 3000, 1000));
  REQUIRE(b.q.store(b.pool, b.s(), b.cap_, base + 1000, part(1000, 1000)));
  REQUIRE(b.q.add_block(base + 1000, 1000));
  CHECK(b.q.blocks() == 2);
  // RFC 2018 §4: the most recent block first.
  synmill::wire::TcpOptions o;
  b.q.fill_sack(o, true);
  REQUIRE(o.sack_count == 2);
  CHECK(o.sack[0].left == (base + 1000).raw());
  CHECK(o.sack[1].left == (base + 3000).raw());
  // The in-order part arrives; RCV.NXT runs to the next hole.
  Seq nxt = base;
  REQUIRE(b.q.store(b.pool, b.s(), b.cap_, nxt, part(0, 1000)));
  nxt = b.q.merge(nxt + 1000);
  CHECK(nxt == base + 2000);
  CHECK(b.q.blocks() == 1);
  std::vector<uint8_t> got;
  while (b.q.read_seq() < nxt) {
    const auto sp = b.q.peek(b.pool, b.s(), nxt);
    got.insert(got.end(), sp.begin(), sp.end());
    b.q.consume(b.pool, b.s(), static_cast<uint32_t>(sp.size()));
  }
  CHECK(std::equal(got.begin(), got.end(), d.begin()));
  // Nothing outside [read, read + cap) is taken.
  CHECK_FALSE(b.q.store(b.pool, b.s(), b.cap_, base + 2000 + 8192, part(0, 1)));
  b.q.clear(b.pool, b.s());
  CHECK(b.pool.in_use() == 0);
}

TEST_CASE("RecvBuffer: a store the pool cannot hold is refused whole", "[infra][rcvbuf]") {
  Buf b(8192, 512, 2);
  b.q.reset(Seq{100});
  std::vector<uint8_t> d(1500, 1);
  CHECK_FALSE(b.q.store(b.pool, b.s(), b.cap_, Seq{100}, d));  // needs 3 chunks
  CHECK(b.pool.in_use() == 0);
  CHECK(b.q.store(b.pool, b.s(), b.cap_, Seq{100}, std::span<const uint8_t>(d.data(), 1000)));
  CHECK(b.pool.in_use() == 2);
  b.q.clear(b.pool, b.s());
}

TEST_CASE("RecvBuffer: random arrival order reassembles every byte once", "[infra][rcvbuf]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    Buf b(16384, 256, 256);
    const Seq base{static_cast<uint32_t>(rng())};
    b.q.reset(base);
    const uint32_t total = 16384;
    std::vector<uint8_t> d(total);
    for (auto& x : d) x = static_cast<uint8_t>(rng());
    Seq nxt = base;
    std::vector<uint8_t> got;
    for (int k = 0; k < 4000 && got.size() < total; ++k) {
      const uint32_t off = static_cast<uint32_t>(rng() % total);
      const uint32_t len = std::min<uint32_t>(1 + static_cast<uint32_t>(rng() % 700), total - off);
      const Seq s = base + off;
      if (s + len <= nxt) continue;  // old duplicate
      Seq from = s;
      uint32_t n = len, skip = 0;
      if (from < nxt) {
        skip = static_cast<uint32_t>(nxt - from);
        from = nxt;
        n -= skip;
      }
      const std::span<const uint8_t> part(d.data() + off + skip, n);
      if (from != nxt && !b.q.can_add_block(from, n)) continue;  // (counted as ooo_dropped)
      INFRA_CHECK(b.q.store(b.pool, b.s(), b.cap_, from, part));
      if (from == nxt)
        nxt = b.q.merge(nxt + n);
      else
        INFRA_CHECK(b.q.add_block(from, n));
      // Take a random amount of what is in order.
      while (b.q.read_seq() < nxt && rng() % 4 != 0) {
        const auto sp = b.q.peek(b.pool, b.s(), nxt);
        const uint32_t t = 1 + static_cast<uint32_t>(rng() % sp.size());
        got.insert(got.end(), sp.begin(), sp.begin() + t);
        b.q.consume(b.pool, b.s(), t);
      }
    }
    while (b.q.read_seq() < nxt) {
      const auto sp = b.q.peek(b.pool, b.s(), nxt);
      got.insert(got.end(), sp.begin(), sp.end());
      b.q.consume(b.pool, b.s(), static_cast<uint32_t>(sp.size()));
    }
    INFRA_CHECK(got.size() <= total);
    INFRA_CHECK(std::equal(got.begin(), got.end(), d.begin()));
    b.q.clear(b.pool, b.s());
    INFRA_CHECK(b.pool.in_use() == 0);
  }
}

TEST_CASE("SackBoard: blocks merge, clamp to (SND.UNA, SND.MAX], and feed IsLost / NextSeg / pipe",
          "[infra][sack]") {
  SackBoard sb;
  const Seq una{0xFFFFFF00u};
  const Seq max = una + 10 * 1000;
  const auto blocks = [&](std::initializer_list<std::pair<uint32_t, uint32_t>> l) {
    synmill::wire::TcpOptions o;
    for (const auto& [a, z] : l) o.sack[o.sack_count++] = {(una + a).raw(), (una + z).raw()};
    return o;
  };
  CHECK(sb.update(blocks({{2000, 3000}}), una, max));
  CHECK_FALSE(sb.update(blocks({{2000, 3000}}), una, max));  // nothing new
  CHECK(sb.update(blocks({{3000, 4000}, {6000, 7000}}), una, max));
  CHECK(sb.blocks() == 2);
  CHECK(sb.sacked_bytes() == 3000);
  CHECK_FALSE(sb.update(blocks({{0, 500}}), una + 1000, max));  // D-SACK below SND.UNA: ignored
  // IsLost: more than 2 segments SACKed above.
  CHECK(sb.lost_below(una + 1, 1000));
  CHECK_FALSE(sb.lost_below(una + 5000, 1000));
  Seq l, r;
  REQUIRE(sb.next_lost(una, una, 1000, &l, &r));
  CHECK(l == una);
  CHECK(r == una + 2000);
  // The hole [4000, 6000) has only 1000 SACKed above it: not lost yet.
  CHECK_FALSE(sb.next_lost(una, una + 2000, 1000, &l, &r));
  // pipe: [0,2000) lost (0), [4000,6000) not lost (2000), [7000,10000) (3000).
  CHECK(sb.pipe(una, max, una, 1000) == 5000);
  // ... plus what was retransmitted.
  CHECK(sb.pipe(una, max, una + 1000, 1000) == 6000);
  CHECK(sb.skip(una + 2500) == una + 4000);
  CHECK(sb.skip(una + 4500) == una + 4500);
  sb.advance(una + 3500);
  CHECK(sb.blocks() == 2);
  CHECK(sb.sacked_bytes() == 1500);
  sb.advance(max);
  CHECK(sb.empty());
}
