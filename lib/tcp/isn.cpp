#include "tcp/isn.hpp"

#include <cstring>

namespace synmill::tcp {

uint32_t IsnGenerator::timer_m(Instant now) {
  // 64 ns ticks (isn.hpp: a deliberate deviation from RFC 6528's 4 µs, as
  // Linux's seq_scale). Conversion through uint64_t makes the truncation
  // well defined for any `now`.
  return static_cast<uint32_t>(static_cast<uint64_t>(now.ns()) >> kTickShift);
}

uint32_t IsnGenerator::offset_f(const FourTuple& t) const {
  // F(localip, localport, remoteip, remoteport, secretkey), RFC 6528 §3:
  // the 12 bytes of the tuple packed into two words: the 16-byte PRF (one AES
  // block, or one 16-byte SipHash).
  const uint64_t ips = (uint64_t{t.local_ip} << 32) | t.remote_ip;
  const uint64_t ports = (uint64_t{t.local_port} << 16) | t.remote_port;
  const uint64_t h = f_.words(ips, ports);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

uint32_t IsnGenerator::offset_f(const FourTuple& t, const Addrs6& a) const {
  uint8_t bytes[36];
  a.local->store(bytes);
  a.remote->store(bytes + 16);
  const uint32_t ports = (uint32_t{t.local_port} << 16) | t.remote_port;
  std::memcpy(bytes + 32, &ports, 4);
  const uint64_t h = f_.bytes(bytes, sizeof bytes);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

Seq IsnGenerator::isn(const FourTuple& t, const Addrs6& a, Instant now) const {
  return Seq(timer_m(now) + offset_f(t, a));
}

Seq IsnGenerator::isn(const FourTuple& t, Instant now) const {
  return Seq(timer_m(now) + offset_f(t));
}

}  // namespace synmill::tcp
