#include "wire/tcp_options.hpp"

#include "wire/bytes.hpp"

namespace synmill::wire {

namespace {

using detail::option_word;
using tcp_opt::kMssLen;
using tcp_opt::kSackPermLen;
using tcp_opt::kTimestampsLen;
using tcp_opt::kWscaleLen;
constexpr size_t kSackBlockLen = 8;
constexpr ParseError kNoError = ParseError::kCount;  // apply_option's "accepted"

// Applies one option of a known kind whose length already fits the area.
// `body` excludes kind and length bytes. Returns kNoError or the error.
ParseError apply_option(uint8_t kind, std::span<const uint8_t> body, TcpOptions& out) {
  const size_t len = body.size() + 2;
  switch (kind) {
    case tcp_opt::kMss:
      if (len != kMssLen) return ParseError::kOptBadMssLength;
      out.has_mss = true;
      out.mss = load_be16(body, 0);
      break;
    case tcp_opt::kWscale:
      if (len != kWscaleLen) return ParseError::kOptBadWscaleLength;
      out.has_wscale = true;
      out.wscale = body[0];  // > 14 kept as received (RFC 7323 §2.3)
      break;
    case tcp_opt::kSackPermitted:
      if (len != kSackPermLen) return ParseError::kOptBadSackPermLength;
      out.sack_permitted = true;
      break;
    case tcp_opt::kTimestamps:
      if (len != kTimestampsLen) return ParseError::kOptBadTimestampLength;
      out.has_timestamps = true;
      out.ts_val = load_be32(body, 0);
      out.ts_ecr = load_be32(body, 4);
      break;
    case tcp_opt::kSack: {
      // RFC 2018 §3: length 8n + 2. The 40-byte area bounds n to 4.
      const size_t n = body.size() / kSackBlockLen;
      if (body.size() % kSackBlockLen != 0 || n < 1 || n > static_cast<size_t>(kMaxSackBlocks)) {
        return ParseError::kOptBadSackLength;
      }
      out.sack_count = static_cast<uint8_t>(n);  // last SACK option wins
      for (size_t b = 0; b < n; ++b) {
        out.sack[b].left = load_be32(body, b * kSackBlockLen);
        out.sack[b].right = load_be32(body, b * kSackBlockLen + 4);
      }
      for (size_t b = n; b < static_cast<size_t>(kMaxSackBlocks); ++b) out.sack[b] = SackBlock{};
      break;
    }
    default:
      break;  // unknown kind: skipped (RFC 9293 §3.2, RFC 1122 §4.2.2.5)
  }
  return kNoError;
}

}  // namespace

ParseError detail::parse_tcp_options_rest(std::span<const uint8_t> opts, TcpOptions& out) {
  const size_t n = opts.size();
  const uint8_t* p = opts.data();
  size_t i = 0;
  while (i < n) {
    const uint8_t kind = p[i];
    if (kind == tcp_opt::kEol) break;
    if (kind == tcp_opt::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= n) return ParseError::kOptOverrun;
    const size_t len = p[i + 1];
    if (len < 2) return ParseError::kOptBadLength;
    if (len > n - i) return ParseError::kOptOverrun;
    const ParseError e = apply_option(kind, opts.subspan(i + 2, len - 2), out);
    if (e != kNoError) return e;
    i += len;
  }
  return kNoError;
}

Result<TcpOptions> parse_tcp_options(std::span<const uint8_t> opts) {
  TcpOptions out;
  const ParseError e = parse_tcp_options_into(opts, out);
  if (e != kNoError) return e;
  return out;
}

size_t write_tcp_options(std::span<uint8_t> out, const TcpOptions& opts) {
  const size_t total = tcp_options_len(opts);
  if (out.size() < total) return 0;
  return write_tcp_options_unchecked(out.data(), opts, total);
}

void detail::write_sack_option(uint8_t* p, const TcpOptions& opts) {
  const size_t blocks = tcp_sack_blocks_that_fit(opts);
  if (blocks == 0) return;
  store_be32(p, option_word(tcp_opt::kNop, tcp_opt::kNop, tcp_opt::kSack, static_cast<uint8_t>(2 + blocks * kSackBlockLen)));
  p += 4;
  for (size_t b = 0; b < blocks; ++b) {
    store_be32(p, opts.sack[b].left);
    store_be32(p + 4, opts.sack[b].right);
    p += kSackBlockLen;
  }
}

}  // namespace synmill::wire
