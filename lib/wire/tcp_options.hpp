#pragma once
// Parsed TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). Plain data, no allocation.
#include <cstdint>

namespace synmill::wire {

struct SackBlock {
  uint32_t left = 0;   // first sequence number of the block
  uint32_t right = 0;  // sequence number just past the block
};

inline constexpr int kMaxSackBlocks = 4;

struct TcpOptions {
  bool has_mss = false;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint16_t mss = 0;
  uint8_t wscale = 0;  // as received; the TCP layer clamps to 14 (RFC 7323 §2.3)
  uint8_t sack_count = 0;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  SackBlock sack[kMaxSackBlocks] = {};
};

}  // namespace synmill::wire
