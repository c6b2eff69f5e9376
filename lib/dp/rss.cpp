#include "dp/rss.hpp"

#include <algorithm>
#include <cassert>

#include "dp/rte.hpp"

namespace synmill::dp {

const std::array<uint8_t, 40> kDefaultRssKey{
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

std::vector<uint8_t> repeat_key(std::span<const uint8_t> pattern, size_t len) {
  std::vector<uint8_t> key(len);
  if (pattern.empty()) return key;
  for (size_t i = 0; i < len; ++i) key[i] = pattern[i % pattern.size()];
  return key;
}

RssHasher::RssHasher(std::span<const uint8_t> key, RssFunction fn) : fn_(fn) {
  assert(key.size() >= 16);
  const size_t n = std::min(key.size(), kRssKeyLenMax) / 4;
  for (size_t i = 0; i < n; ++i) {
    // rte_convert_rss_key(): big-endian bytes -> CPU-order words.
    words_[i] = (uint32_t{key[4 * i]} << 24) | (uint32_t{key[4 * i + 1]} << 16) |
                (uint32_t{key[4 * i + 2]} << 8) | uint32_t{key[4 * i + 3]};
  }
}

uint32_t RssHasher::toeplitz3(const std::array<uint32_t, 3>& tuple) const {
  std::array<uint32_t, 3> t = tuple;
  return rte_softrss_be(t.data(), static_cast<uint32_t>(t.size()), reinterpret_cast<const uint8_t*>(words_.data()));
}

uint32_t RssHasher::hash(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                         uint16_t dst_port) const {
  // rte_ipv4_tuple layout: src, dst, then sport in the high and dport in the
  // low half of the third word (the wire order sport, dport, MSB first).
  return toeplitz3(tuple4(src_ip, dst_ip, src_port, dst_port));
}

RssTable4::RssTable4(const RssHasher& h) : hasher_fn_(h.function()) {
  for (size_t pos = 0; pos < 12; ++pos) {
    // The hash of each single bit of this byte (its MSB first), then every
    // byte value as the XOR of its bits' hashes.
    std::array<uint32_t, 8> bit{};
    for (size_t b = 0; b < 8; ++b) {
      std::array<uint32_t, 3> w{};
      w[pos / 4] = uint32_t{0x80u >> b} << (24 - 8 * (pos % 4));
      bit[b] = h.toeplitz3(w);
    }
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t x = 0;
      for (size_t b = 0; b < 8; ++b) {
        if ((v & (0x80u >> b)) != 0) x ^= bit[b];
      }
      t_[pos][v] = x;
    }
  }
}

uint32_t RssHasher::hash6(std::span<const uint8_t, 16> src_ip, std::span<const uint8_t, 16> dst_ip,
                          uint16_t src_port, uint16_t dst_port) const {
  // rte_ipv6_tuple as rte_softrss_be() reads it: each address as four
  // CPU-order words of its big-endian bytes, then the ports word as for IPv4.
  auto word = [](std::span<const uint8_t, 16> a, size_t i) {
    return (uint32_t{a[4 * i]} << 24) | (uint32_t{a[4 * i + 1]} << 16) | (uint32_t{a[4 * i + 2]} << 8) |
           uint32_t{a[4 * i + 3]};
  };
  std::array<uint32_t, 9> tuple{};
  for (size_t i = 0; i < 4; ++i) {
    const uint32_t s = word(src_ip, i), d = word(dst_ip, i);
    if (fn_ == RssFunction::kSymmetricToeplitz) {
      tuple[i] = tuple[4 + i] = s ^ d;  // Intel's symmetric function, as for IPv4
    } else {
      tuple[i] = s;
      tuple[4 + i] = d;
    }
  }
  if (fn_ == RssFunction::kSymmetricToeplitz) {
    const uint32_t ports = static_cast<uint32_t>(src_port ^ dst_port);
    tuple[8] = (ports << 16) | ports;
  } else {
    tuple[8] = (uint32_t{src_port} << 16) | dst_port;
  }
  return rte_softrss_be(tuple.data(), static_cast<uint32_t>(tuple.size()),
                        reinterpret_cast<const uint8_t*>(words_.data()));
}

bool RssHasher::symmetric6() const {
  std::array<uint8_t, 16> zero{};
  for (int bit = 0; bit < 128; ++bit) {
    std::array<uint8_t, 16> ip{};
    ip[static_cast<size_t>(bit / 8)] = static_cast<uint8_t>(1u << (bit % 8));
    if (hash6(ip, zero, 0, 0) != hash6(zero, ip, 0, 0)) return false;
  }
  for (int bit = 0; bit < 16; ++bit) {
    const auto port = static_cast<uint16_t>(1u << bit);
    if (hash6(zero, zero, port, 0) != hash6(zero, zero, 0, port)) return false;
  }
  return true;
}

bool RssHasher::symmetric() const {
  for (int bit = 0; bit < 32; ++bit) {
    const uint32_t ip = uint32_t{1} << bit;
    if (hash(ip, 0, 0, 0) != hash(0, ip, 0, 0)) return false;
  }
  for (int bit = 0; bit < 16; ++bit) {
    const auto port = static_cast<uint16_t>(1u << bit);
    if (hash(0, 0, port, 0) != hash(0, 0, 0, port)) return false;
  }
  return true;
}

std::vector<uint16_t> round_robin_reta(size_t size, uint16_t queues) {
  std::vector<uint16_t> reta(size);
  for (size_t i = 0; i < size; ++i) reta[i] = static_cast<uint16_t>(i % std::max<uint16_t>(queues, 1));
  return reta;
}

namespace {

// The first port at or after `start` (wrapping within `range`) whose reply
// hash `hash_of(port)` maps to `queue`.
template <class HashOf>
std::optional<uint16_t> first_port_on(std::span<const uint16_t> reta, uint16_t queue, PortRange range, uint16_t start,
                                      const HashOf& hash_of) {
  if (reta.empty() || range.first > range.last) return std::nullopt;
  const uint32_t span = uint32_t{range.last} - range.first + 1;
  const uint32_t offset = (start >= range.first && start <= range.last) ? start - range.first : 0;
  for (uint32_t i = 0; i < span; ++i) {
    const auto port = static_cast<uint16_t>(range.first + (offset + i) % span);
    if (queue_for(hash_of(port), reta) == queue) return port;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint16_t> pick_source_port(const RssHasher& hasher, std::span<const uint16_t> reta,
                                         uint16_t queue, uint32_t local_ip, uint32_t remote_ip,
                                         uint16_t remote_port, PortRange range, uint16_t start) {
  // Replies travel remote -> local: that is the hash the NIC computes.
  return first_port_on(reta, queue, range, start,
                       [&](uint16_t port) { return hasher.hash(remote_ip, local_ip, remote_port, port); });
}

std::optional<uint16_t> pick_source_port6(const RssHasher& hasher, std::span<const uint16_t> reta, uint16_t queue,
                                          std::span<const uint8_t, 16> local_ip, std::span<const uint8_t, 16> remote_ip,
                                          uint16_t remote_port, PortRange range, uint16_t start) {
  return first_port_on(reta, queue, range, start,
                       [&](uint16_t port) { return hasher.hash6(remote_ip, local_ip, remote_port, port); });
}

}  // namespace synmill::dp
