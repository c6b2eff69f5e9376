#pragma once
// Big-endian (network order, RFC 1700 "Data Notations") loads and stores over
// byte pointers. Packet bytes are only ever read through these byte-wise
// accessors, never through a cast to a wider type: frames sit at arbitrary
// alignment inside NIC buffers. Callers check bounds before calling.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace synmill::wire {

// At run time one unaligned load/store (memcpy) and a byte swap; in constant
// evaluation byte by byte.
namespace detail {
constexpr uint16_t to_be16(uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) return static_cast<uint16_t>((v << 8) | (v >> 8));
  return v;
}
constexpr uint32_t to_be32(uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(v);
  return v;
}
}  // namespace detail

constexpr uint16_t load_be16(const uint8_t* p) {
  if (std::is_constant_evaluated()) return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | p[1]);
  uint16_t v;
  std::memcpy(&v, p, 2);
  return detail::to_be16(v);
}

constexpr uint32_t load_be32(const uint8_t* p) {
  if (std::is_constant_evaluated()) {
    return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
           (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
  }
  uint32_t v;
  std::memcpy(&v, p, 4);
  return detail::to_be32(v);
}

constexpr void store_be16(uint8_t* p, uint16_t v) {
  if (std::is_constant_evaluated()) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
    return;
  }
  const uint16_t b = detail::to_be16(v);
  std::memcpy(p, &b, 2);
}

constexpr void store_be32(uint8_t* p, uint32_t v) {
  if (std::is_constant_evaluated()) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
    return;
  }
  const uint32_t b = detail::to_be32(v);
  std::memcpy(p, &b, 4);
}

// Span overloads: `off` is a byte offset; the caller guarantees off + width <= size.
constexpr uint16_t load_be16(std::span<const uint8_t> s, size_t off) { return load_be16(s.data() + off); }
constexpr uint32_t load_be32(std::span<const uint8_t> s, size_t off) { return load_be32(s.data() + off); }
constexpr void store_be16(std::span<uint8_t> s, size_t off, uint16_t v) { store_be16(s.data() + off, v); }
constexpr void store_be32(std::span<uint8_t> s, size_t off, uint32_t v) { store_be32(s.data() + off, v); }

}  // namespace synmill::wire
