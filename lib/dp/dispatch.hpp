#pragma once
// Software dispatch for ports without RSS (tap, memif, af_packet, ring, virtio
// without RSS): worker 0 polls the port's single RX queue and hands each TCP
// segment to the worker that owns its flow, owner_for(hash, workers) - the
// mapping active opens use to pick source ports - through a
// boost::lockfree::spsc_queue (one producer: worker 0; one consumer: the
// owner). Owners run segments through their own stack and transmit on their
// own TX queue when the port has one per worker; otherwise they hand frames
// back to worker 0 through a second SPSC ring and worker 0 transmits. ARP and
// ICMP stay on worker 0; the neighbours it learns from ARP reach the owners
// through a third ring, so an active open on any core knows the next hop.
//
// Lanes are set up before the workers start and freed after they stop; the
// destructor frees the mbufs still parked in them.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

struct rte_mbuf;

#include "wire/ipv6_addr.hpp"

namespace synmill::dp {

struct NeighbourNote {
  uint32_t ip = 0;
  std::array<uint8_t, 6> mac{};
  bool v6 = false;  // an IPv6 neighbour: ip6 (ip unused)
  wire::Ipv6Addr ip6{};
};

class Dispatch {
 public:
  // `ring_size`: mbufs each ring holds (RX and, if owners do not transmit, TX).
  Dispatch(uint16_t workers, uint32_t ring_size, bool owners_transmit);
  ~Dispatch();
  Dispatch(const Dispatch&) = delete;
  Dispatch& operator=(const Dispatch&) = delete;

  uint16_t workers() const { return static_cast<uint16_t>(lanes_.size()); }
  bool owners_transmit() const { return owners_transmit_; }
  uint32_t ring_size() const { return ring_size_; }
  // Mbufs the rings can park at once (for the pool budget).
  uint32_t slots() const;

  // Worker 0 -> owner: false if the owner's ring is full (caller drops).
  bool to_owner(uint16_t owner, rte_mbuf* m) { return lanes_[owner]->rx.push(m); }
  // On the owner: up to `max` segments worker 0 handed over.
  uint16_t from_dispatcher(uint16_t owner, rte_mbuf** out, uint16_t max) {
    return static_cast<uint16_t>(lanes_[owner]->rx.pop(out, max));
  }
  // Owner -> worker 0 for transmission (owners_transmit() false): how many of
  // `n` were taken.
  uint16_t to_transmitter(uint16_t owner, rte_mbuf* const* ms, uint16_t n) {
    return static_cast<uint16_t>(lanes_[owner]->tx.push(ms, n));
  }
  uint16_t from_owner(uint16_t owner, rte_mbuf** out, uint16_t max) {
    return static_cast<uint16_t>(lanes_[owner]->tx.pop(out, max));
  }
  // Worker 0 -> every owner: a neighbour learned from ARP (dropped if a ring
  // is full: the owner learns it from the next segment instead).
  void announce(const NeighbourNote& n);
  bool next_neighbour(uint16_t owner, NeighbourNote& out) { return lanes_[owner]->neigh.pop(out); }

  // Shutdown: owners report their final flush; worker 0 forwards what they
  // handed over until all have, or until its grace runs out.
  void owner_done() { done_.fetch_add(1, std::memory_order_release); }
  bool owners_done() const { return done_.load(std::memory_order_acquire) + 1u >= lanes_.size(); }

 private:
  static constexpr uint32_t kNeighbourRing = 64;
  struct alignas(64) Lane {
    explicit Lane(uint32_t ring, uint32_t tx_ring)
        : rx(ring), tx(tx_ring), neigh(kNeighbourRing) {}
    boost::lockfree::spsc_queue<rte_mbuf*> rx;
    boost::lockfree::spsc_queue<rte_mbuf*> tx;
    boost::lockfree::spsc_queue<NeighbourNote> neigh;
  };

  std::vector<std::unique_ptr<Lane>> lanes_;
  uint32_t ring_size_;
  bool owners_transmit_;
  std::atomic<uint32_t> done_{0};
};

}  // namespace synmill::dp
