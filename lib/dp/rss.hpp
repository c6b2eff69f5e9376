#pragma once
// Software model of the NIC's RSS: the Toeplitz hash of an IPv4 or IPv6 TCP
// 4-tuple (rte_softrss_be, rte_thash.h), the redirection table (RETA) lookup, and the
// mTCP-style choice of a source port whose replies land on a given queue.
//
// Ports with RSS: a received segment lands on queue reta[hash % reta.size()],
// and queue i is polled by worker i. Ports without RSS (software dispatch) use
// the same hash and a round-robin table over the workers, so "which core owns
// this flow" has one answer everywhere: queue_for(hash, reta).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tcp/types.hpp"

namespace synmill::dp {

// The symmetric key pattern: 0x6d5a repeated gives hash(a->b) == hash(b->a)
// for the IPv4 4-tuple (Woo & Park, "Scalable TCP Session Monitoring with
// Symmetric Receive-side Scaling", 2012).
inline constexpr std::array<uint8_t, 2> kSymmetricKeyPattern{0x6d, 0x5a};

// Microsoft's default RSS key (40 bytes), used by many PMDs when none is set.
// It is not symmetric.
extern const std::array<uint8_t, 40> kDefaultRssKey;

// Table sizes and key lengths.
inline constexpr size_t kRssKeyLenDefault = 40;
inline constexpr size_t kRssKeyLenMax = 52;
inline constexpr size_t kSoftwareRetaSize = 128;

// `pattern` repeated to `len` bytes.
std::vector<uint8_t> repeat_key(std::span<const uint8_t> pattern, size_t len);

// What the hardware hashes.
enum class RssFunction : uint8_t {
  kToeplitz,           // Toeplitz over (src ip, dst ip, src port, dst port)
  kSymmetricToeplitz,  // Intel's symmetric function (i40e/ice via rte_flow,
                       // Linux "symmetric-xor"): Toeplitz over
                       // (src^dst, src^dst, sport^dport, sport^dport)
};

// Computes the RSS hash a NIC with this key and function gives a packet.
class RssHasher {
 public:
  // Precondition: key.size() >= 16 (the IPv4 4-tuple needs 12 + 4 bytes).
  explicit RssHasher(std::span<const uint8_t> key, RssFunction fn = RssFunction::kToeplitz);

  // Hash of a packet with these header fields (host byte order).
  uint32_t hash(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port) const;

  // The same for IPv6 TCP (RTE_ETH_RSS_NONFRAG_IPV6_TCP): Toeplitz over the
  // 36 bytes src, dst, sport, dport (rte_ipv6_tuple). Addresses in network
  // byte order. Needs a key of at least 40 bytes (36 + 4); shorter keys hash
  // as if padded with zeros.
  uint32_t hash6(std::span<const uint8_t, 16> src_ip, std::span<const uint8_t, 16> dst_ip,
                 uint16_t src_port, uint16_t dst_port) const;

  // Hash of the segments this endpoint receives on `t` (src = remote).
  uint32_t hash_inbound(const tcp::FourTuple& t) const {
    return hash(t.remote_ip, t.local_ip, t.remote_port, t.local_port);
  }

  // True if hash(a->b) == hash(b->a) for every IPv4 4-tuple. Toeplitz is
  // linear over GF(2), so checking each of the 96 input bits against its
  // mirror (src<->dst) is exact.
  bool symmetric() const;
  // The same for every IPv6 4-tuple (288 input bits).
  bool symmetric6() const;

  RssFunction function() const { return fn_; }

  // Toeplitz over three CPU-order words (rte_ipv4_tuple as rte_softrss_be()
  // reads it), without the function's input transform: what hash() applies.
  uint32_t toeplitz3(const std::array<uint32_t, 3>& tuple) const;
  // hash()'s input: the three words, after the function's transform.
  std::array<uint32_t, 3> tuple4(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port) const {
    if (fn_ == RssFunction::kSymmetricToeplitz) {
      const uint32_t ips = src_ip ^ dst_ip;
      const uint32_t ports = static_cast<uint32_t>(src_port ^ dst_port);
      return {ips, ips, (ports << 16) | ports};
    }
    return {src_ip, dst_ip, (uint32_t{src_port} << 16) | dst_port};
  }

 private:
  // The key as big-endian 32-bit words, as rte_softrss_be() wants it.
  std::array<uint32_t, kRssKeyLenMax / 4> words_{};
  RssFunction fn_;
};

// RssHasher::hash() by table: Toeplitz is linear over GF(2), so the hash of
// the 12-byte IPv4 tuple is the XOR of one precomputed word per byte (12
// KiB: a table per byte position, 256 entries each), 12 loads instead of
// rte_softrss_be()'s loop over 96 bits (about 340 instructions a packet on
// software dispatch's worker 0: bench/worker_instr.py cps_dispatch). Built
// once (3072 entries from 96 calls of the hasher); for the per-packet path.
class RssTable4 {
 public:
  explicit RssTable4(const RssHasher& h);
  uint32_t hash(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port) const {
    const std::array<uint32_t, 3> w = hasher_fn_ == RssFunction::kSymmetricToeplitz
        ? std::array<uint32_t, 3>{src_ip ^ dst_ip, src_ip ^ dst_ip,
                                  static_cast<uint32_t>(src_port ^ dst_port) * 0x10001u}
        : std::array<uint32_t, 3>{src_ip, dst_ip, (uint32_t{src_port} << 16) | dst_port};
    uint32_t h = 0;
    for (size_t i = 0; i < 3; ++i) {
      h ^= t_[4 * i][w[i] >> 24] ^ t_[4 * i + 1][(w[i] >> 16) & 0xFF] ^ t_[4 * i + 2][(w[i] >> 8) & 0xFF] ^
           t_[4 * i + 3][w[i] & 0xFF];
    }
    return h;
  }

  // hash(), the addresses' share (8 of the 12 loads) kept from the last call
  // (Toeplitz is linear: the XOR of each word's share): the frames of a
  // burst mostly come from one client to one of our addresses, so only the
  // ports' share is looked up (software dispatch's worker 0, every frame).
  uint32_t hash_memo(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port) {
    if (src_ip != memo_src_ || dst_ip != memo_dst_) [[unlikely]] {
      memo_src_ = src_ip;
      memo_dst_ = dst_ip;
      memo_ips_ = hash(src_ip, dst_ip, 0, 0);
    }
    const uint32_t w = hasher_fn_ == RssFunction::kSymmetricToeplitz
        ? static_cast<uint32_t>(src_port ^ dst_port) * 0x10001u
        : (uint32_t{src_port} << 16) | dst_port;
    return memo_ips_ ^ t_[8][w >> 24] ^ t_[9][(w >> 16) & 0xFF] ^ t_[10][(w >> 8) & 0xFF] ^ t_[11][w & 0xFF];
  }

 private:
  RssFunction hasher_fn_;
  std::array<std::array<uint32_t, 256>, 12> t_{};
  uint32_t memo_src_ = 0;  // hash_memo()'s last addresses and their share (of 0, 0: 0)
  uint32_t memo_dst_ = 0;
  uint32_t memo_ips_ = 0;
};

// The queue (RSS) or worker (software dispatch) a hash maps to.
// Precondition: !reta.empty().
inline uint16_t queue_for(uint32_t hash, std::span<const uint16_t> reta) {
  return reta[hash % reta.size()];
}

// A table of `size` entries spreading hashes round-robin over `queues` (the
// layout PMDs install by default).
std::vector<uint16_t> round_robin_reta(size_t size, uint16_t queues);

// Owner worker of a flow on a port without RSS: the same mapping as
// queue_for(hash, round_robin_reta(kSoftwareRetaSize, workers)).
inline uint16_t owner_for(uint32_t hash, uint16_t workers) {
  return static_cast<uint16_t>((hash % kSoftwareRetaSize) % workers);
}

// Inclusive range of local ports an active open may use.
struct PortRange {
  uint16_t first = 1024;
  uint16_t last = 65535;
};

// First local port at or after `start` (wrapping within `range`) such that the
// replies of the connection local_ip:port -> remote_ip:remote_port land on
// `queue`. mTCP's rss.c does the same for its per-core port pools. Callers that
// find the port busy retry with start = port + 1. Returns nothing if no port
// in the range maps to `queue`.
std::optional<uint16_t> pick_source_port(const RssHasher& hasher, std::span<const uint16_t> reta,
                                         uint16_t queue, uint32_t local_ip, uint32_t remote_ip,
                                         uint16_t remote_port, PortRange range, uint16_t start);

// The same for IPv6 (addresses in network byte order).
std::optional<uint16_t> pick_source_port6(const RssHasher& hasher, std::span<const uint16_t> reta, uint16_t queue,
                                          std::span<const uint8_t, 16> local_ip, std::span<const uint8_t, 16> remote_ip,
                                          uint16_t remote_port, PortRange range, uint16_t start);

}  // namespace synmill::dp
