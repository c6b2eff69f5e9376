#include "tcp/apps/http.hpp"

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tcp/stack.hpp"

namespace synmill::tcp {

namespace {

// Per-connection parser state packed in the user word:
//   bits 0..7   position in the current line's "connection:" / value matcher
//   bits 8..15  matcher mode
//   bits 16..17 CR LF CR LF progress
//   bit 18      saw "Connection: close"
//   bit 19      saw "Connection: keep-alive"
//   bit 20      request line says HTTP/1.0
//   bit 21      at the start of a line
//   bits 24..31 position in the request line's "HTTP/1.0" matcher
//   bit 32      still in the request line
struct ParseState {
  uint64_t w;
  uint32_t get(int shift, int bits) const { return static_cast<uint32_t>((w >> shift) & ((1ull << bits) - 1)); }
  void set(int shift, int bits, uint64_t v) {
    const uint64_t m = ((1ull << bits) - 1) << shift;
    w = (w & ~m) | ((v << shift) & m);
  }
};

constexpr std::string_view kHeader = "connection:";
constexpr std::string_view kClose = "close";
constexpr std::string_view kKeep = "keep-alive";
constexpr std::string_view kHttp10 = "HTTP/1.0";
constexpr uint64_t kFresh = (1ull << 21) | (1ull << 32);

enum Mode : uint32_t { kName = 0, kSpace = 1, kValueClose = 2, kValueKeep = 3, kSkip = 4 };

// The first `ch` in [p, stop), or null: eight bytes a step (the classic
// "has a zero byte" test on the bytes XORed with `ch`, whose lowest flagged
// byte is always a true match) for the short spans of a request head, where
// a call to memchr costs more than the scan; memchr beyond.
const uint8_t* find_byte(const uint8_t* p, const uint8_t* stop, uint8_t ch) {
  if (stop - p > 128) return static_cast<const uint8_t*>(std::memchr(p, ch, static_cast<size_t>(stop - p)));
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t pattern = kOnes * ch;
  for (; stop - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= pattern;
    const uint64_t hit = (w - kOnes) & ~w & kHighs;
    if (hit != 0) return p + (__builtin_ctzll(hit) >> 3);  // little-endian: the lowest byte comes first
  }
  for (; p < stop; ++p)
    if (*p == ch) return p;
  return nullptr;
}

char lower(uint8_t b) { return (b >= 'A' && b <= 'Z') ? static_cast<char>(b + 32) : static_cast<char>(b); }

// Where the byte-wise matcher may resume after skipping, from `i`, bytes
// that can change nothing but the CR LF progress (which they leave at 0):
// the rest of a line being skipped, or of the request line once its
// "HTTP/1.0" matcher is idle (any match in the skipped part is found here,
// with memchr-based search, and noted in bit 20). Resumes at the line's
// closing CR LF (or LF), or at the last byte when no LF is there yet; the
// request line is skipped only when its LF is there. Returns i when nothing
// can be skipped.
uint32_t skip_to(ParseState& st, std::span<const uint8_t> data, uint32_t i) {
  if (st.get(16, 2) != 0 || st.get(21, 1)) return i;
  const bool request_line = st.get(32, 1) != 0;
  if (request_line ? st.get(24, 8) != 0 : st.get(8, 8) != kSkip) return i;
  const auto* base = data.data();
  const auto n = static_cast<uint32_t>(data.size());
  const auto* nl = static_cast<const uint8_t*>(std::memchr(base + i, '\n', n - i));
  uint32_t k;
  if (nl == nullptr) {
    if (request_line) return i;  // a partial match may straddle the segments
    k = n - 1;
  } else {
    k = static_cast<uint32_t>(nl - base);
    if (k > i && base[k - 1] == '\r') --k;
  }
  if (request_line && k > i &&
      std::string_view(reinterpret_cast<const char*>(base + i), k - i).find(kHttp10) != std::string_view::npos) {
    st.set(20, 1, 1);
  }
  return k > i ? k : i;
}

// One header line of a whole head, without its CR LF (n bytes at p, no CR
// among them, starting with 'c' or 'C'): "connection:", optional spaces
// and tabs, then a value starting "close" or "keep-alive" (any case) sets
// the flag, as the byte-wise matcher would.
void connection_line(const uint8_t* p, size_t n, bool& close, bool& keep_alive) {
  if (n < kHeader.size()) return;
  size_t k = 0;
  while (k < kHeader.size() && lower(p[k]) == kHeader[k]) ++k;
  if (k < kHeader.size()) return;
  while (k < n && (p[k] == ' ' || p[k] == '\t')) ++k;
  if (k == n) return;
  const char first = lower(p[k]);
  const std::string_view want = first == 'c' ? kClose : first == 'k' ? kKeep : std::string_view{};
  if (want.empty() || n - k < want.size()) return;
  size_t m = 1;
  while (m < want.size() && lower(p[k + m]) == want[m]) ++m;
  if (m == want.size()) (first == 'c' ? close : keep_alive) = true;
}

// A whole request head at `i` in one go, from a fresh state (nothing of it
// seen yet): lines found with memchr and each looked at once, not byte by
// byte. It decides exactly what the byte-wise matcher below would, for the
// heads it accepts: a request line that starts with neither CR nor LF, then
// header lines each ending in CR LF, then the empty line CR LF. A header
// line may hold "connection:" only where it starts with 'c' or 'C' (the
// matcher skips any other line at its first byte), and such a line must
// hold no CR but its last (the matcher ignores a stray CR inside a name or
// value, so a line like that is left to it). Anything else (an incomplete
// head, a bare LF, a stray CR where it matters) returns false and leaves the
// bytes to the byte-wise matcher, from the same fresh state.
// On true, `end` is the index of the empty line's LF and `keep` the RFC 9112
// §9.3 decision.
bool whole_head_scan(std::span<const uint8_t> data, uint32_t i, uint32_t& end, bool& keep) {
  const uint8_t* const base = data.data();
  const uint8_t* const stop = base + data.size();
  const uint8_t* p = base + i;
  if (p == stop || *p == '\r' || *p == '\n') return false;
  // Request line: "HTTP/1.0" anywhere in it (its only 'H' that can start a
  // match is followed by the other seven bytes).
  const uint8_t* nl = find_byte(p, stop, '\n');
  if (nl == nullptr) return false;
  bool http10 = false;
  for (const uint8_t* h = p; !http10 && nl - h >= static_cast<ptrdiff_t>(kHttp10.size());) {
    h = find_byte(h, nl - (kHttp10.size() - 1), 'H');
    if (h == nullptr) break;
    http10 = std::memcmp(h, kHttp10.data(), kHttp10.size()) == 0;
    ++h;
  }
  bool close = false, keep_alive = false;
  for (;;) {
    p = nl + 1;
    nl = find_byte(p, stop, '\n');
    if (nl == nullptr) return false;
    const auto len = static_cast<size_t>(nl - p);
    if (len == 0 || nl[-1] != '\r') return false;  // bare LF: the matcher's rules
    if (len == 1) break;                             // CR LF: the end of the head
    if ((*p | 0x20) != 'c') {
      if (*p == '\r') return false;
      continue;
    }
    if (std::memchr(p, '\r', len - 1) != nullptr) return false;
    connection_line(p, len - 1, close, keep_alive);
  }
  end = static_cast<uint32_t>(nl - base);
  keep = http10 ? keep_alive : !close;
  return true;
}

#if defined(__SSE2__)
// The same decisions for a head that ends within the first 64 bytes at `i`
// (the common request, one segment): bit masks of the LF, CR and 'H' bytes
// of those bytes from 16-byte compares (the last block overlaps the one
// before it rather than read past the data), then the lines walked bit by
// bit. Returns 1 / 0 as whole_head_scan would, or -1 when the head does
// not end within them (or fewer than 16 bytes are there): then the scan
// decides.
int whole_head_masks(std::span<const uint8_t> data, uint32_t i, uint32_t& end, bool& keep) {
  const uint8_t* const p = data.data() + i;
  const size_t avail = data.size() - i;
  if (avail < 16) return -1;
  const size_t n = avail < 64 ? avail : 64;
  const __m128i lf_v = _mm_set1_epi8('\n'), cr_v = _mm_set1_epi8('\r'), h_v = _mm_set1_epi8('H');
  uint64_t lf = 0, cr = 0, hs = 0;
  auto block = [&](size_t off) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + off));
    lf |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf_v)))) << off;
    cr |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr_v)))) << off;
    hs |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, h_v)))) << off;
  };
  size_t off = 0;
  for (; off + 16 <= n; off += 16) block(off);
  if (off < n) block(n - 16);
  if (p[0] == '\r' || p[0] == '\n') return 0;
  if (lf == 0) return -1;
  const auto rl = static_cast<uint32_t>(__builtin_ctzll(lf));  // the request line's LF
  lf &= lf - 1;
  bool http10 = false;
  if (rl >= kHttp10.size()) {
    for (uint64_t h = hs & ((uint64_t{1} << (rl - (kHttp10.size() - 1))) - 1); h != 0 && !http10; h &= h - 1)
      http10 = std::memcmp(p + __builtin_ctzll(h), kHttp10.data(), kHttp10.size()) == 0;
  }
  bool close = false, keep_alive = false;
  uint32_t s = rl + 1;  // start of the line
  uint32_t e;           // its LF
  for (;; s = e + 1) {
    if (lf == 0) return -1;
    e = static_cast<uint32_t>(__builtin_ctzll(lf));
    lf &= lf - 1;
    const uint32_t len = e - s;
    if (len == 0 || !((cr >> (e - 1)) & 1)) return 0;  // bare LF: the matcher's rules
    if (len == 1) break;                                 // CR LF: the end of the head
    if ((p[s] | 0x20) != 'c') {
      if (p[s] == '\r') return 0;
      continue;
    }
    // A CR before the line's last byte (bits s .. e - 2).
    if ((cr >> s) & ((uint64_t{1} << (len - 1)) - 1)) return 0;
    connection_line(p + s, len - 1, close, keep_alive);
  }
  end = i + e;
  keep = http10 ? keep_alive : !close;
  return 1;
}
#endif

bool whole_head(std::span<const uint8_t> data, uint32_t i, uint32_t& end, bool& keep) {
#if defined(__SSE2__)
  const int r = whole_head_masks(data, i, end, keep);
  if (r >= 0) return r == 1;
#endif
  return whole_head_scan(data, i, end, keep);
}

}  // namespace

HttpApp::HttpApp(std::string body, OneRequest one) : body_(std::move(body)), one_request_(one == OneRequest::kYes) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body_.size()) + "\r\nConnection: ";
  set_quiet(kQuietWritable | kQuietClosed | kAlwaysAccepting);
  keep_alive_response_ = head + "keep-alive\r\n\r\n" + body_;
  close_response_ = head + "close\r\n\r\n" + body_;
}

void HttpApp::on_open(Stack& stack, ConnId id) { stack.user(id) = kFresh; }

uint32_t HttpApp::rcv_space(const Stack& stack, ConnId id) const {
  const uint32_t space = stack.send_space(id);
  return space >= keep_alive_response_.size() ? space : 0;
}

HttpApp::Answered HttpApp::respond(Stack& stack, ConnId id, bool keep_alive) {
  keep_alive = keep_alive && !one_request_;
  const std::string& r = keep_alive ? keep_alive_response_ : close_response_;
  if (stack.send_all(id, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.data()), r.size())) == 0)
    return Answered::kNoRoom;
  ++requests_;
  if (keep_alive) return Answered::kKept;
  stack.close(id);
  return Answered::kClosed;
}

uint32_t HttpApp::on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) {
  ParseState st{stack.user(id)};
  uint32_t i = 0;
  for (; i < data.size(); ++i) {
    if (st.w == kFresh) {
      uint32_t end;
      bool keep;
      if (whole_head(data, i, end, keep)) {
        stack.user(id) = kFresh;
        const Answered a = respond(stack, id, keep);
        if (a == Answered::kNoRoom) return end;  // as below: not taken, comes again
        if (a == Answered::kClosed) return static_cast<uint32_t>(data.size());
        i = end;
        continue;
      }
    }
    i = skip_to(st, data, i);
    const uint8_t b = data[i];
    // RFC 9112 §2.2: empty lines (CRLF, or a bare LF) before the request
    // line are ignored, not taken for an empty request.
    if (st.get(32, 1) && st.get(21, 1) && (b == '\r' || b == '\n')) continue;
    // Request line: look for "HTTP/1.0".
    if (st.get(32, 1)) {
      uint32_t p = st.get(24, 8);
      p = (static_cast<char>(b) == kHttp10[p]) ? p + 1 : (static_cast<char>(b) == kHttp10[0] ? 1 : 0);
      if (p == kHttp10.size()) {
        st.set(20, 1, 1);
        p = 0;
      }
      st.set(24, 8, p);
    }
    // End of headers: CR LF CR LF (a bare LF LF is accepted too).
    uint32_t crlf = st.get(16, 2);
    if (b == '\n') {
      if (crlf == 3 || (st.get(21, 1) && crlf != 1)) {
        const bool http10 = st.get(20, 1);
        const bool keep = http10 ? st.get(19, 1) != 0 : st.get(18, 1) == 0;
        stack.user(id) = kFresh;
        const Answered a = respond(stack, id, keep);
        if (a == Answered::kNoRoom) return i;  // no room: not taken, comes again
        if (a == Answered::kClosed) return static_cast<uint32_t>(data.size());  // later bytes ignored
        st.w = kFresh;
        continue;
      }
      crlf = 2;
      st.set(32, 1, 0);
      st.set(21, 1, 1);
      st.set(0, 8, 0);
      st.set(8, 8, kName);
    } else if (b == '\r') {
      crlf = (crlf == 2) ? 3 : 1;
    } else {
      crlf = 0;
      // Header matcher: "connection:" then optional spaces then the value.
      const bool line_start = st.get(21, 1);
      st.set(21, 1, 0);
      uint32_t pos = st.get(0, 8);
      uint32_t mode = line_start ? kName : st.get(8, 8);
      const char c = lower(b);
      switch (mode) {
        case kName:
          if (!st.get(32, 1) && pos < kHeader.size() && c == kHeader[pos]) {
            ++pos;
            if (pos == kHeader.size()) {
              mode = kSpace;
              pos = 0;
            }
          } else {
            mode = kSkip;
          }
          break;
        case kSpace:
          if (c == ' ' || c == '\t') break;
          mode = (c == 'c') ? kValueClose : (c == 'k') ? kValueKeep : kSkip;
          pos = 1;
          break;
        case kValueClose:
        case kValueKeep: {
          const std::string_view want = mode == kValueClose ? kClose : kKeep;
          if (pos < want.size() && c == want[pos]) {
            ++pos;
            if (pos == want.size()) {
              st.set(mode == kValueClose ? 18 : 19, 1, 1);
              mode = kSkip;
            }
          } else {
            mode = kSkip;
          }
          break;
        }
        default: break;
      }
      st.set(0, 8, pos);
      st.set(8, 8, mode);
    }
    st.set(16, 2, crlf);
  }
  stack.user(id) = st.w;
  return static_cast<uint32_t>(data.size());
}

void HttpApp::on_peer_close(Stack& stack, ConnId id) { stack.close(id); }

}  // namespace synmill::tcp
