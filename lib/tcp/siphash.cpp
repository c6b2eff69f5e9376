#include "tcp/siphash.hpp"

namespace synmill::tcp {

namespace {

// Little-endian load of n <= 8 bytes, independent of the host's byte order.
uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

SipKey sip_key_from_bytes(std::span<const uint8_t, 16> bytes) {
  return SipKey{load_le(bytes.data(), 8), load_le(bytes.data() + 8, 8)};
}

uint64_t siphash24(const SipKey& key, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  detail::SipState s(key);
  const size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) s.compress(load_le(p + i, 8));
  // Last block: the 0..7 tail bytes, and len mod 256 in the top byte.
  s.compress(load_le(p + full, len - full) | (uint64_t{len & 0xff} << 56));
  return s.finish();
}

}  // namespace synmill::tcp
