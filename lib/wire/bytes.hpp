#pragma once
// Big-endian (network order, RFC 1700 "Data Notations") loads and stores over
// byte pointers. Packet bytes are only ever read through these byte-wise
// accessors, never through a cast to a wider type: frames sit at arbitrary
// alignment inside NIC buffers. Callers check bounds before calling.
#include <cstddef>
#include <cstdint>
#include <span>

namespace synmill::wire {

constexpr uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | p[1]);
}

constexpr uint32_t load_be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

constexpr void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Span overloads: `off` is a byte offset; the caller guarantees off + width <= size.
constexpr uint16_t load_be16(std::span<const uint8_t> s, size_t off) { return load_be16(s.data() + off); }
constexpr uint32_t load_be32(std::span<const uint8_t> s, size_t off) { return load_be32(s.data() + off); }
constexpr void store_be16(std::span<uint8_t> s, size_t off, uint16_t v) { store_be16(s.data() + off, v); }
constexpr void store_be32(std::span<uint8_t> s, size_t off, uint32_t v) { store_be32(s.data() + off, v); }

}  // namespace synmill::wire
