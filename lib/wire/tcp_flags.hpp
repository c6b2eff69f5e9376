#pragma once
// TCP header flags (RFC 9293 §3.1): the one definition, used by lib/wire and
// (as synmill::tcp::flag) by lib/tcp.
#include <cstdint>

namespace synmill::wire::tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace synmill::wire::tcp_flag
