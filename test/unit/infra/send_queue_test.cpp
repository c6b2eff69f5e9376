#include <catch2/catch.hpp>

#include <deque>
#include <random>
#include <vector>

#include "infra_check.hpp"
#include "tcp/chunk_pool.hpp"
#include "tcp/send_queue.hpp"

using synmill::tcp::ChunkPool;
using synmill::tcp::PayloadSource;
using synmill::tcp::SendQueue;

namespace {

std::vector<uint8_t> bytes(uint32_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

std::vector<uint8_t> read(const PayloadSource& src, uint32_t off, uint32_t len) {
  std::vector<uint8_t> v(len);
  src.copy_to(off, len, v.data());
  return v;
}

}  // namespace

TEST_CASE("SendQueue is small", "[infra]") { STATIC_REQUIRE(sizeof(SendQueue) <= 24); }

TEST_CASE("ChunkPool counts", "[infra]") {
  ChunkPool pool(4, 2048);
  REQUIRE(pool.capacity() == 4);
  REQUIRE(pool.chunk_size() == 2048);
  REQUIRE(pool.available() == 4);
  const uint32_t c = pool.acquire();
  REQUIRE(c != ChunkPool::kNone);
  REQUIRE(pool.in_use() == 1);
  REQUIRE(reinterpret_cast<uintptr_t>(pool.data(0)) % 64 == 0);
  pool.release(c);
  REQUIRE(pool.in_use() == 0);
}

TEST_CASE("SendQueue append, copy_to across chunks, consume", "[infra]") {
  ChunkPool pool(8, 16);
  SendQueue q;
  REQUIRE(q.size() == 0);
  const auto data = bytes(40, 0);
  REQUIRE(q.append(pool, data, 1000) == 40);  // 16 + 16 + 8
  REQUIRE(q.size() == 40);
  REQUIRE(pool.in_use() == 3);
  REQUIRE(read(q, 0, 40) == data);
  REQUIRE(read(q, 15, 2) == bytes(2, 15));   // straddles a boundary
  REQUIRE(read(q, 16, 16) == bytes(16, 16));  // exactly one chunk
  REQUIRE(read(q, 40, 0).empty());
  q.consume(pool, 10);
  REQUIRE(q.size() == 30);
  REQUIRE(pool.in_use() == 3);
  REQUIRE(read(q, 0, 30) == bytes(30, 10));
  q.consume(pool, 6);  // head chunk exactly emptied
  REQUIRE(pool.in_use() == 2);
  REQUIRE(read(q, 0, 24) == bytes(24, 16));
  REQUIRE(q.append(pool, bytes(8, 40), 1000) == 8);  // fills the tail exactly
  REQUIRE(pool.in_use() == 2);
  REQUIRE(q.append(pool, bytes(1, 48), 1000) == 1);
  REQUIRE(pool.in_use() == 3);
  REQUIRE(read(q, 0, 33) == bytes(33, 16));
  q.consume(pool, 33);  // everything: no chunk left
  REQUIRE(q.size() == 0);
  REQUIRE(pool.in_use() == 0);
  REQUIRE(q.append(pool, bytes(3, 7), 1000) == 3);
  REQUIRE(read(q, 0, 3) == bytes(3, 7));
  q.clear(pool);
  REQUIRE(pool.in_use() == 0);
  REQUIRE(q.size() == 0);
}

TEST_CASE("SendQueue honours max_size and pool exhaustion", "[infra]") {
  ChunkPool pool(3, 10);
  SendQueue a, b;
  REQUIRE(a.append(pool, bytes(25, 0), 12) == 12);  // capped by max_size
  REQUIRE(a.append(pool, bytes(5, 12), 12) == 0);
  REQUIRE(a.append(pool, bytes(5, 12), 11) == 0);    // already above a lower cap
  REQUIRE(pool.in_use() == 2);
  REQUIRE(b.append(pool, bytes(25, 100), 1000) == 10);  // one chunk left
  REQUIRE(pool.available() == 0);
  REQUIRE(a.append(pool, bytes(20, 12), 1000) == 8);  // only the tail's room
  REQUIRE(read(a, 0, 20) == bytes(20, 0));
  REQUIRE(read(b, 0, 10) == bytes(10, 100));
  REQUIRE(a.append(pool, {}, 1000) == 0);
  a.consume(pool, 10);
  REQUIRE(pool.available() == 1);
  REQUIRE(b.append(pool, bytes(5, 110), 1000) == 5);
  REQUIRE(read(b, 0, 15) == bytes(15, 100));
  a.clear(pool);
  b.clear(pool);
  REQUIRE(pool.in_use() == 0);
}

TEST_CASE("SendQueue randomized against std::deque", "[infra]") {
  for (uint32_t chunk_size : {1u, 7u, 64u, 2048u}) {
    constexpr uint32_t kQueues = 8;
    const uint32_t num_chunks = chunk_size >= 2048 ? 16 : 2000 / chunk_size + 8;
    ChunkPool pool(num_chunks, chunk_size);
    std::vector<SendQueue> qs(kQueues);
    struct Model {
      std::deque<uint8_t> bytes;
      uint32_t begin = 0;  // offset of the first byte in the head chunk
    };
    std::vector<Model> model(kQueues);
    std::mt19937_64 rng(chunk_size);
    uint8_t next_byte = 0;
    std::vector<uint8_t> buf;
    auto chunks_of = [&](const Model& m) -> uint64_t {
      return m.bytes.empty() ? 0 : (m.begin + m.bytes.size() + chunk_size - 1) / chunk_size;
    };
    const int ops = chunk_size == 1 ? 100'000 : 250'000;
    uint64_t partial_appends = 0;
    for (int op = 0; op < ops; ++op) {
      const uint32_t qi = static_cast<uint32_t>(rng() % kQueues);
      SendQueue& q = qs[qi];
      Model& m = model[qi];
      const uint32_t r = static_cast<uint32_t>(rng() % 100);
      if (r < 40) {
        const auto len = static_cast<uint32_t>(rng() % 700);
        const auto max_size = static_cast<uint32_t>(rng() % 3000);
        buf.resize(len);
        for (auto& b : buf) b = next_byte++;
        const uint64_t room = chunks_of(m) * chunk_size - (m.bytes.empty() ? 0 : m.begin + m.bytes.size()) +
                              uint64_t{pool.available()} * chunk_size;
        const uint64_t cap = max_size > m.bytes.size() ? max_size - m.bytes.size() : 0;
        const uint64_t expect = std::min<uint64_t>({len, cap, room});
        if (m.bytes.empty()) m.begin = 0;
        const uint32_t got = q.append(pool, buf, max_size);
        INFRA_CHECK(got == expect);
        if (got < len) ++partial_appends;
        m.bytes.insert(m.bytes.end(), buf.begin(), buf.begin() + got);
      } else if (r < 70) {
        const auto n = static_cast<uint32_t>(m.bytes.empty() ? 0 : rng() % (m.bytes.size() + 1));
        q.consume(pool, n);
        m.bytes.erase(m.bytes.begin(), m.bytes.begin() + n);
        m.begin = m.bytes.empty() ? 0 : static_cast<uint32_t>((m.begin + n) % chunk_size);
      } else if (r < 97) {
        if (!m.bytes.empty()) {
          const auto off = static_cast<uint32_t>(rng() % (m.bytes.size() + 1));
          const auto len = static_cast<uint32_t>(rng() % (m.bytes.size() - off + 1));
          const auto got = read(q, off, len);
          INFRA_CHECK(std::equal(got.begin(), got.end(), m.bytes.begin() + off));
        }
      } else {
        q.clear(pool);
        m.bytes.clear();
        m.begin = 0;
      }
      INFRA_CHECK(q.size() == m.bytes.size());
      uint64_t chunks = 0;
      for (const auto& mm : model) chunks += chunks_of(mm);
      INFRA_CHECK(pool.in_use() == chunks);
    }
    REQUIRE(partial_appends > 0);
    for (uint32_t i = 0; i < kQueues; ++i) {
      const auto all = read(qs[i], 0, qs[i].size());
      REQUIRE(std::equal(all.begin(), all.end(), model[i].bytes.begin(), model[i].bytes.end()));
      qs[i].clear(pool);
    }
    REQUIRE(pool.in_use() == 0);
    REQUIRE(pool.available() == num_chunks);
  }
}
