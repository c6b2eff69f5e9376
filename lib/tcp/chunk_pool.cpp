#include "tcp/chunk_pool.hpp"

#include <cstring>

namespace synmill::tcp {

ChunkPool::ChunkPool(uint32_t num_chunks, uint32_t chunk_size)
    : chunk_size_(chunk_size),
      mem_(static_cast<uint8_t*>(
          ::operator new[](static_cast<size_t>(num_chunks) * chunk_size + 1, kAlign))),
      next_(std::make_unique<uint32_t[]>(num_chunks)),
      begin_(std::make_unique<uint32_t[]>(num_chunks)),
      ext_(std::make_unique<const uint8_t*[]>(num_chunks)),
      free_(num_chunks) {
  assert(chunk_size > 0);
  // Touch every page now so the hot path never takes a first-use page fault.
  std::memset(mem_.get(), 0, static_cast<size_t>(num_chunks) * chunk_size + 1);
  for (uint32_t c = 0; c < num_chunks; ++c) next_[c] = kNone;
}

}  // namespace synmill::tcp
