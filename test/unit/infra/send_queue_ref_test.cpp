// SendQueue::append_ref: zero-copy send. Whole chunks point into the
// application's buffer; the queue reads the same bytes as if copied.
#include <catch2/catch.hpp>

#include <deque>
#include <random>
#include <vector>

#include "tcp/chunk_pool.hpp"
#include "tcp/send_queue.hpp"

using synmill::tcp::ChunkPool;
using synmill::tcp::SendQueue;

namespace {

std::vector<uint8_t> read(const SendQueue& q, uint32_t off, uint32_t len) {
  std::vector<uint8_t> v(len);
  q.copy_to(off, len, v.data());
  return v;
}

}  // namespace

TEST_CASE("SendQueue append_ref: whole chunks by reference, the rest copied", "[infra]") {
  ChunkPool pool(16, 16);
  SendQueue q;
  std::vector<uint8_t> buf(70);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i);

  REQUIRE(q.append(pool, std::vector<uint8_t>{200, 201, 202}, 1000) == 3);  // tail holds 3 of 16
  REQUIRE(q.append_ref(pool, buf, 1000) == 70);
  // 13 bytes top up the copied tail, 3 chunks (48 bytes) are external, 9 copied.
  REQUIRE(q.size() == 73);
  REQUIRE(pool.in_use() == 5);
  uint32_t external = 0;
  for (uint32_t c = 0; c < pool.capacity(); ++c) external += pool.external(c) ? 1 : 0;
  REQUIRE(external == 3);
  std::vector<uint8_t> want(73);
  want[0] = 200;
  want[1] = 201;
  want[2] = 202;
  for (size_t i = 0; i < buf.size(); ++i) want[3 + i] = buf[i];
  REQUIRE(read(q, 0, 73) == want);

  // By reference: a byte of the middle chunks read from the buffer itself.
  buf[13 + 20] = 0xEE;  // inside the external chunk [13, 29) + 16
  REQUIRE(read(q, 3 + 33, 1) == std::vector<uint8_t>{0xEE});
  buf[69] = 0xEE;       // in the copied rest: not seen
  REQUIRE(read(q, 72, 1) == std::vector<uint8_t>{69});

  // A plain append after an external tail starts a new chunk.
  REQUIRE(q.append(pool, std::vector<uint8_t>{1, 2}, 1000) == 2);
  REQUIRE(read(q, 73, 2) == std::vector<uint8_t>{1, 2});

  q.clear(pool);
  REQUIRE(pool.in_use() == 0);
  for (uint32_t c = 0; c < pool.capacity(); ++c) REQUIRE_FALSE(pool.external(c));
}

TEST_CASE("SendQueue append_ref: caps, pool exhaustion, and a random mix against a model", "[infra]") {
  ChunkPool pool(64, 32);
  SendQueue q;
  std::mt19937 rng(12345);
  std::deque<std::vector<uint8_t>> buffers;  // referenced bytes stay alive and unchanged
  std::deque<uint8_t> model;
  for (int step = 0; step < 4000; ++step) {
    const uint32_t op = rng() % 3;
    if (op < 2) {
      buffers.emplace_back(rng() % 200);
      for (uint8_t& b : buffers.back()) b = static_cast<uint8_t>(rng());
      const auto& b = buffers.back();
      const uint32_t cap = 1200;
      const uint32_t took = op == 0 ? q.append(pool, b, cap) : q.append_ref(pool, b, cap);
      REQUIRE(took <= b.size());
      REQUIRE(model.size() + took <= cap);
      model.insert(model.end(), b.begin(), b.begin() + took);
      if (took < b.size()) REQUIRE((model.size() == cap || pool.available() <= 1));
    } else if (!model.empty()) {
      const uint32_t n = rng() % (static_cast<uint32_t>(model.size()) + 1);
      q.consume(pool, n);
      model.erase(model.begin(), model.begin() + n);
    }
    REQUIRE(q.size() == model.size());
    if (!model.empty()) {
      const uint32_t off = rng() % static_cast<uint32_t>(model.size());
      const uint32_t len = 1 + rng() % static_cast<uint32_t>(model.size() - off);
      REQUIRE(read(q, off, len) == std::vector<uint8_t>(model.begin() + off, model.begin() + off + len));
    }
    // Chunks cover the bytes: no more than one partial chunk at each end.
    REQUIRE(uint64_t{pool.in_use()} * 32 >= model.size());
    REQUIRE(uint64_t{pool.in_use()} <= model.size() / 32 + 2);
  }
  q.clear(pool);
  REQUIRE(pool.in_use() == 0);
}
