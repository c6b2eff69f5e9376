#pragma once
// Parsed TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). Plain data, no allocation.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <type_traits>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"

namespace synmill::wire {

// No default member initializers: a TcpOptions built for sending leaves the
// blocks beyond sack_count unwritten (zeroing 32 bytes per segment sent is
// measurable); SackBlock{} and the parser still zero them.
struct SackBlock {
  uint32_t left;   // first sequence number of the block
  uint32_t right;  // sequence number just past the block
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
  SackBlock sack[kMaxSackBlocks];  // the first sack_count are meaningful (see SackBlock)
};

// ---- option kinds (IANA "TCP Option Kind Numbers") ---------------------------
namespace tcp_opt {
inline constexpr uint8_t kEol = 0;            // RFC 9293 §3.2
inline constexpr uint8_t kNop = 1;            // RFC 9293 §3.2
inline constexpr uint8_t kMss = 2;            // RFC 9293 §3.2, length 4
inline constexpr uint8_t kWscale = 3;         // RFC 7323 §2.2, length 3
inline constexpr uint8_t kSackPermitted = 4;  // RFC 2018 §2, length 2
inline constexpr uint8_t kSack = 5;           // RFC 2018 §3, length 2 + 8n
inline constexpr uint8_t kTimestamps = 8;     // RFC 7323 §3.2, length 10
// Their fixed lengths (kind and length bytes included).
inline constexpr uint8_t kMssLen = 4;
inline constexpr uint8_t kWscaleLen = 3;
inline constexpr uint8_t kSackPermLen = 2;
inline constexpr uint8_t kTimestampsLen = 10;
}  // namespace tcp_opt

inline constexpr size_t kTcpMaxOptionsLen = 40;  // data offset 15 words minus the fixed 20 bytes

// Parses the options area of a TCP header (the bytes between the fixed
// header and the data offset).
//
// - NOP is skipped; EOL ends the list (whatever follows is padding).
// - Unknown kinds are skipped using their length byte.
// - Errors: a length byte that is missing or runs past the area ->
//   kOptOverrun; a length of 0 or 1 -> kOptBadLength; then, for known kinds,
//   kOptBadMssLength / kOptBadWscaleLength / kOptBadSackPermLength /
//   kOptBadTimestampLength for a length other than 4 / 3 / 2 / 10, and
//   kOptBadSackLength for a SACK length other than 2 + 8k, 1 <= k <= 4.
// - Window scale is stored as received, even above 14 (RFC 7323 §2.3: the
//   TCP layer clamps and may log).
// - Duplicate options: THE LAST ONE WINS, as in Linux tcp_parse_options():
//   a later MSS / window scale / timestamps option overwrites the earlier
//   value, and a later SACK option replaces (does not extend) the earlier
//   option's blocks. Every duplicate is still validated, so a malformed
//   duplicate rejects the segment.
Result<TcpOptions> parse_tcp_options(std::span<const uint8_t> opts);

// The same parse into `out` (every field of it written), without a copy of
// the result: returns ParseError::kCount when the options are accepted, else
// the error (`out` then unspecified). Fast paths first, for the layouts that
// dominate: no options, and timestamps alone behind two NOPs (Linux's
// tcp_parse_aligned_timestamp(): every segment of a Linux connection with
// timestamps on, SACK blocks aside).
// Inline: the two fast paths are a few compares in the caller (the receive
// path's parse_tcp_frame), the rest a call.
inline ParseError parse_tcp_options_into(std::span<const uint8_t> opts, TcpOptions& out);

namespace detail {
// parse_tcp_options_into() past its inline fast paths: `out` zeroed, the
// area neither empty, nor the aligned timestamps, nor a usual SYN's.
ParseError parse_tcp_options_rest(std::span<const uint8_t> opts, TcpOptions& out);
}  // namespace detail

inline ParseError parse_tcp_options_into(std::span<const uint8_t> opts, TcpOptions& out) {
  out = TcpOptions{};
  const size_t n = opts.size();
  if (n == 0) return ParseError::kCount;
  const uint8_t* p = opts.data();
  // NOP NOP TS(8) len 10: Linux's aligned timestamps, the whole area.
  if (n == 12 && load_be32(p) == 0x0101080Au) {
    out.has_timestamps = true;
    out.ts_val = load_be32(p + 4);
    out.ts_ecr = load_be32(p + 8);
    return ParseError::kCount;
  }
  // The SYNs Linux (tcp_options_write()) and synmill write: MSS, SACK-permitted
  // + timestamps, NOP window scale (20 bytes); without timestamps, MSS, NOP NOP
  // SACK-permitted, NOP window scale (12 bytes). Here rather than behind the
  // call: a SYN flood's every segment.
  if (n == 20 && load_be16(p) == 0x0204u && load_be32(p + 4) == 0x0402080Au &&
      (load_be32(p + 16) >> 8) == 0x010303u) {
    out.has_mss = true;
    out.mss = load_be16(p + 2);
    out.sack_permitted = true;
    out.has_timestamps = true;
    out.ts_val = load_be32(p + 8);
    out.ts_ecr = load_be32(p + 12);
    out.has_wscale = true;
    out.wscale = p[19];
    return ParseError::kCount;
  }
  if (n == 12 && load_be16(p) == 0x0204u && load_be32(p + 4) == 0x01010402u &&
      (load_be32(p + 8) >> 8) == 0x010303u) {
    out.has_mss = true;
    out.mss = load_be16(p + 2);
    out.sack_permitted = true;
    out.has_wscale = true;
    out.wscale = p[11];
    return ParseError::kCount;
  }
  return detail::parse_tcp_options_rest(opts, out);
}

namespace detail {
// Bytes of MSS, SACK-permitted / timestamps and window scale, as written.
constexpr size_t fixed_options_len(bool mss, bool wscale, bool sack_permitted, bool timestamps) {
  return (mss ? 4u : 0u) + (timestamps ? 12u : (sack_permitted ? 4u : 0u)) + (wscale ? 4u : 0u);
}
constexpr size_t fixed_options_len(const TcpOptions& o) {
  return fixed_options_len(o.has_mss, o.has_wscale, o.sack_permitted, o.has_timestamps);
}
// The same, by has_mss | has_wscale << 1 | sack_permitted << 2 | has_timestamps << 3.
inline constexpr std::array<uint8_t, 16> kFixedOptionsLen = [] {
  std::array<uint8_t, 16> t{};
  for (unsigned i = 0; i < t.size(); ++i) {
    t[i] = static_cast<uint8_t>(fixed_options_len((i & 1) != 0, (i & 2) != 0, (i & 4) != 0, (i & 8) != 0));
  }
  return t;
}();
}  // namespace detail

// Number of SACK blocks write_tcp_options emits: opts.sack_count (clamped to
// kMaxSackBlocks) reduced to what fits in 40 bytes beside the other options.
constexpr size_t tcp_sack_blocks_that_fit(const TcpOptions& opts) {
  if (opts.sack_count == 0) return 0;
  const size_t wanted = std::min<size_t>(opts.sack_count, kMaxSackBlocks);
  const size_t room = kTcpMaxOptionsLen - detail::fixed_options_len(opts);  // fixed part <= 20
  const size_t fit = room >= 4 ? (room - 4) / 8 : 0;                       // NOP NOP SACK len
  return std::min(wanted, fit);
}

// Bytes write_tcp_options writes: a multiple of 4, at most 40.
constexpr size_t tcp_options_len(const TcpOptions& opts) {
  if (!std::is_constant_evaluated() && opts.sack_count == 0) {
    // Every segment sent: the four flags (bytes 0-3, each 0 or 1) gathered
    // into a 4-bit index by one multiply (byte i lands in bit 24 + i, no
    // two partial products overlap) and the length looked up.
    static_assert(offsetof(TcpOptions, has_mss) == 0 && offsetof(TcpOptions, has_wscale) == 1 &&
                  offsetof(TcpOptions, sack_permitted) == 2 && offsetof(TcpOptions, has_timestamps) == 3);
    uint32_t f;
    std::memcpy(&f, &opts, 4);
    if constexpr (std::endian::native == std::endian::big) f = __builtin_bswap32(f);
    return detail::kFixedOptionsLen[((f * 0x01020408u) >> 24) & 0xF];
  }
  const size_t blocks = tcp_sack_blocks_that_fit(opts);
  return detail::fixed_options_len(opts) + (blocks > 0 ? 4 + blocks * 8 : 0);
}

// Writes the options in Linux's order and packing (tcp_options_write()), each
// group 32-bit aligned, so the result is a multiple of 4 with no trailing pad:
//   MSS                  [2,4,mss]
//   SACK-perm + TS       [4,2,8,10,tsval,tsecr]   or  TS alone [1,1,8,10,...]
//   SACK-perm alone      [1,1,4,2]
//   window scale         [1,3,3,ws]
//   SACK blocks          [1,1,5,2+8n, blocks...]  (those that fit in 40 bytes)
// Returns the bytes written (tcp_options_len(opts)); writes nothing and
// returns 0 when `out` is smaller than that.
size_t write_tcp_options(std::span<uint8_t> out, const TcpOptions& opts);

// The same write to `p`, which has room for `total` == tcp_options_len(opts)
// bytes (computed once by the caller). Returns `total`.
// Inline: every SYN-ACK and every timestamped segment the transmit path
// builds (wire/tcp_template.hpp) writes its options without a call; SACK
// blocks, the rare case, behind one.
[[gnu::always_inline]] inline size_t write_tcp_options_unchecked(uint8_t* p, const TcpOptions& opts, size_t total);

namespace detail {
// Each group is one 32-bit word of kinds and lengths (stored big-endian) and
// its values: a few word stores per segment, not a byte store per field.
constexpr uint32_t option_word(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
// The SACK option at `p` (after the fixed options), for opts.sack_count > 0.
void write_sack_option(uint8_t* p, const TcpOptions& opts);
}  // namespace detail

inline size_t write_tcp_options_unchecked(uint8_t* p, const TcpOptions& opts, size_t total) {
  using detail::option_word;
  if (opts.has_mss) {
    store_be32(p, option_word(tcp_opt::kMss, tcp_opt::kMssLen, 0, 0) | opts.mss);
    p += 4;
  }
  if (opts.has_timestamps) {
    store_be32(p, opts.sack_permitted ? option_word(tcp_opt::kSackPermitted, tcp_opt::kSackPermLen, tcp_opt::kTimestamps,
                                                                tcp_opt::kTimestampsLen)
                                      : option_word(tcp_opt::kNop, tcp_opt::kNop, tcp_opt::kTimestamps, tcp_opt::kTimestampsLen));
    store_be32(p + 4, opts.ts_val);
    store_be32(p + 8, opts.ts_ecr);
    p += 12;
  } else if (opts.sack_permitted) {
    store_be32(p, option_word(tcp_opt::kNop, tcp_opt::kNop, tcp_opt::kSackPermitted, tcp_opt::kSackPermLen));
    p += 4;
  }
  if (opts.has_wscale) {
    store_be32(p, option_word(tcp_opt::kNop, tcp_opt::kWscale, tcp_opt::kWscaleLen, opts.wscale));
    p += 4;
  }
  if (opts.sack_count != 0) [[unlikely]] detail::write_sack_option(p, opts);
  return total;
}

}  // namespace synmill::wire
