#include "tcp/chunk_pool.hpp"

namespace synmill::tcp {

// Nothing is written here: every array starts as zero pages (ext_ nullptr:
// the chunk's own memory; next_ and begin_ are set by SendQueue and
// RecvBuffer before they are read).
ChunkPool::ChunkPool(uint32_t num_chunks, uint32_t chunk_size)
    : chunk_size_(chunk_size),
      mem_(static_cast<size_t>(num_chunks) * chunk_size + 1, ZeroPages::Paging::kSmall),
      next_(num_chunks),
      begin_(num_chunks),
      ext_(num_chunks),
      free_(num_chunks) {
  assert(chunk_size > 0);
}

}  // namespace synmill::tcp
