#include "dp/dispatch.hpp"

#include "dp/rte.hpp"

namespace synmill::dp {

Dispatch::Dispatch(uint16_t workers, uint32_t ring_size, bool owners_transmit)
    : ring_size_(ring_size), owners_transmit_(owners_transmit) {
  lanes_.reserve(workers);
  for (uint16_t i = 0; i < workers; ++i) {
    // Lane 0 is worker 0's own: nothing is handed to it, so its rings stay minimal.
    const uint32_t rx = i == 0 ? 1 : ring_size;
    const uint32_t tx = i == 0 || owners_transmit ? 1 : ring_size;
    lanes_.push_back(std::make_unique<Lane>(rx, tx));
  }
}

Dispatch::~Dispatch() {
  std::array<rte_mbuf*, 32> batch{};
  for (auto& lane : lanes_) {
    for (size_t n; (n = lane->rx.pop(batch.data(), batch.size())) > 0;) {
      for (size_t i = 0; i < n; ++i) rte_pktmbuf_free(batch[i]);
    }
    for (size_t n; (n = lane->tx.pop(batch.data(), batch.size())) > 0;) {
      for (size_t i = 0; i < n; ++i) rte_pktmbuf_free(batch[i]);
    }
  }
}

uint32_t Dispatch::slots() const {
  const uint32_t owners = lanes_.empty() ? 0 : static_cast<uint32_t>(lanes_.size() - 1);
  return owners * ring_size_ * (owners_transmit_ ? 1u : 2u);
}

void Dispatch::announce(const NeighbourNote& n) {
  for (size_t i = 1; i < lanes_.size(); ++i) (void)lanes_[i]->neigh.push(n);
}

}  // namespace synmill::dp
