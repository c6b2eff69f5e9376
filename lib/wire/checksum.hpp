#pragma once
// Internet checksum (RFC 1071), the IPv4 header and TCP checksums (RFC 791
// §3.1, RFC 9293 §3.1 pseudo-header) and incremental updates (RFC 1624).
//
// Conventions: a "sum" is a 16-bit one's-complement sum of big-endian 16-bit
// words, kept folded in a uint32_t so calls chain; a "checksum" is the
// complement of a folded sum, in host order, to be stored big-endian in the
// header field (store_be16). Data covered by a checksum is verified by summing
// it *including* the stored field: the result folds to 0xFFFF.
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/bytes.hpp"

namespace synmill::wire {

constexpr uint32_t checksum_add16(uint32_t sum, uint16_t word);

namespace detail {

// One's-complement sum of native-order 64-bit words with end-around carry
// (RFC 1071 §2(B): byte-order independent up to a final swap; §4.1's 32-bit
// accumulator widened to 64 bits, as Linux's csum_partial). memcpy loads, so
// unaligned frames are fine. `acc` chains sums; fold_be() finishes.
inline uint64_t add_carry(uint64_t acc, uint64_t w) {
  acc += w;
  return acc + (acc < w);
}

inline uint64_t sum_native(const uint8_t* p, size_t n, uint64_t acc) {
  uint64_t w;
  const size_t n0 = n;
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SYNMILL_CSUM_NO_ASM 1  // ASan sees no loads inside asm: keep the C loop checked
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SYNMILL_CSUM_NO_ASM 1
#endif
#if defined(__x86_64__) && !defined(SYNMILL_CSUM_NO_ASM)
  // One add-with-carry per 8 bytes, 64 bytes a step (as Linux's x86
  // csum_partial): the carry of each addition goes into the next and the
  // last back into acc. GCC makes no adc chain of the C below (a compare and
  // an add per word): 1,000 bytes cost about 180 instructions instead of 500.
  while (n >= 64) {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq 16(%[p]), %[acc]\n\t"
        "adcq 24(%[p]), %[acc]\n\t"
        "adcq 32(%[p]), %[acc]\n\t"
        "adcq 40(%[p]), %[acc]\n\t"
        "adcq 48(%[p]), %[acc]\n\t"
        "adcq 56(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[64]>(p))
        : "cc");
    p += 64;
    n -= 64;
  }
  if (n >= 32) {  // at most one such block is left: a TCP header with options, most often
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq 16(%[p]), %[acc]\n\t"
        "adcq 24(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[32]>(p))
        : "cc");
    p += 32;
    n -= 32;
  }
  // Under 32 bytes left: 16 and 8 in two steps, not a loop (a TCP header
  // with timestamps is 32 bytes, a SYN's 40, headers and payload anything).
  if (n >= 16) {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[16]>(p))
        : "cc");
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    std::memcpy(&w, p, 8);
    acc = add_carry(acc, w);
    p += 8;
    n -= 8;
  }
#else
  while (n >= 32) {
    uint64_t a, b, c, d;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    std::memcpy(&c, p + 16, 8);
    std::memcpy(&d, p + 24, 8);
    acc = add_carry(add_carry(add_carry(add_carry(acc, a), b), c), d);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    std::memcpy(&w, p, 8);
    acc = add_carry(acc, w);
    p += 8;
    n -= 8;
  }
#endif
  if (n == 0) return acc;
  if (n0 >= 8) {
    // Under 8 bytes left of at least 8: one load of the 8 bytes ending at
    // the end (the first 8 - n of them summed already), shifted so that the
    // n bytes left sit where a load from p padded with zeros would put them
    // (the same lanes: the same sum). Inside the data, no branch per size.
    std::memcpy(&w, p + n - 8, 8);
    if constexpr (std::endian::native == std::endian::little) {
      w >>= 64 - 8 * n;
    } else {
      w <<= 64 - 8 * n;
    }
    return add_carry(acc, w);
  }
  uint64_t tail = 0;
  if (n >= 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    tail = v;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    tail += v;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const uint8_t last[2] = {p[0], 0};
    uint16_t v;
    std::memcpy(&v, last, 2);
    tail += v;
  }
  return add_carry(acc, tail);
}

// sum_native() in checksum.cpp: the receive path's call, which keeps the
// (inlined) parser small.
uint64_t sum_native_call(const uint8_t* p, size_t n, uint64_t acc);

// sum_native() of exactly N bytes, N one of 20, 24, 32, 40 (a TCP header
// and its options: 20 for a pure ACK, a FIN, a RST; 24, 32 or 40 for a SYN's
// or a timestamped segment's; 20 also an IPv4 header without options):
// straight-line loads, no loop and no branch. On x86-64 one add-with-carry
// per 8 bytes, as sum_native()'s blocks (GCC makes no adc chain of
// add_carry(), and keeps the carry builtin's result in memory).
template <size_t N>
[[gnu::always_inline]] inline uint64_t sum_native_words(const uint8_t* p, uint64_t acc) {
  static_assert(N == 20 || N == 24 || N == 32 || N == 40);
  uint64_t tail = 0;  // the last 4 bytes when N % 8 == 4, zero-extended
  if constexpr (N % 8 == 4) {
    uint32_t v;
    std::memcpy(&v, p + N - 4, 4);
    tail = v;
  }
#if defined(__x86_64__) && !defined(SYNMILL_CSUM_NO_ASM)
  using Block = const uint8_t(*)[N];
  if constexpr (N == 20) {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq %[t], %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), [t] "r"(tail), "m"(*reinterpret_cast<Block>(p))
        : "cc");
  } else if constexpr (N == 24) {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq 16(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<Block>(p))
        : "cc");
  } else if constexpr (N == 32) {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq 16(%[p]), %[acc]\n\t"
        "adcq 24(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<Block>(p))
        : "cc");
  } else {
    asm("addq 0(%[p]), %[acc]\n\t"
        "adcq 8(%[p]), %[acc]\n\t"
        "adcq 16(%[p]), %[acc]\n\t"
        "adcq 24(%[p]), %[acc]\n\t"
        "adcq 32(%[p]), %[acc]\n\t"
        "adcq $0, %[acc]"
        : [acc] "+r"(acc)
        : [p] "r"(p), "m"(*reinterpret_cast<Block>(p))
        : "cc");
  }
  return acc;
#else
  for (size_t i = 0; i + 8 <= N; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc = add_carry(acc, w);
  }
  return add_carry(acc, tail);
#endif
}

// Folds a native-order 64-bit sum to the 16-bit sum in big-endian word terms
// (2^16 == 1 mod 2^16 - 1: end-around carries).
// 64 -> 32 bits with the end-around carry, then 32 -> 16 as Linux's
// csum_fold(): the high half of s + rotr(s, 16) is hi + lo + the carry out
// of lo + hi, the folded sum (0 only for an all-zero sum, as before).
inline uint16_t fold_be(uint64_t acc) {
  const auto hi = static_cast<uint32_t>(acc >> 32);
  uint32_t s = static_cast<uint32_t>(acc) + hi;
  s += s < hi ? 1u : 0u;
  auto folded = static_cast<uint16_t>((s + std::rotr(s, 16)) >> 16);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<uint16_t>((folded << 8) | (folded >> 8));
  }
  return folded;
}

// The IPv4 pseudo-header (RFC 9293 §3.1) as a native-order partial sum: the
// bytes it stands for, loaded the way sum_native() loads data.
inline uint64_t pseudo_native(uint32_t src_ip, uint32_t dst_ip, uint8_t protocol, uint16_t len) {
  // Bytes {0, protocol, len_hi, len_lo} loaded as a native 32-bit word.
  uint32_t pl;
  const uint32_t be_pl = (static_cast<uint32_t>(protocol) << 16) | len;
  pl = to_be32(be_pl);
  return static_cast<uint64_t>(to_be32(src_ip)) + to_be32(dst_ip) + pl;  // < 2^34: no carry out
}

inline uint16_t sum_be(const uint8_t* p, size_t n) { return fold_be(sum_native(p, n, 0)); }

// The folded sum in native order: fold_be() without its final byte swap.
// Stored with memcpy it lands as the big-endian sum; and it is 0xFFFF exactly
// when fold_be() is (a verification needs no swap).
inline uint16_t fold_native(uint64_t acc) {
  const auto hi = static_cast<uint32_t>(acc >> 32);
  uint32_t s = static_cast<uint32_t>(acc) + hi;
  s += s < hi ? 1u : 0u;
  return static_cast<uint16_t>((s + std::rotr(s, 16)) >> 16);
}

// fold_native(acc) == 0xFFFF, without folding: what a verification asks of
// a sum that includes its stored checksum. The folded sum is acc modulo
// 0xFFFF (2^16, 2^32 and 2^64 are all 1 modulo 0xFFFF; the native byte
// order only rotates each word, a multiple of 0xFFFF stays one), in 1..0xFFFF
// for acc != 0, and 0 only for acc == 0. So: acc != 0 and 0xFFFF divides
// acc. Tested by one multiply (Hacker's Delight 10-17, as GCC compiles
// x % d == 0): y = acc - 0xFFFF (mod 2^64) times the inverse of 0xFFFF
// (mod 2^64) is y / 0xFFFF, at most kQ = (2^64 - 1) / 0xFFFF, exactly
// when 0xFFFF divides y. For acc >= 0xFFFF, y divides as acc does and
// y / 0xFFFF < kQ; for acc < 0xFFFF, y = acc + 1 - 0xFFFF + (2^64 - 1)
// divides only for acc == 0xFFFE, where y / 0xFFFF == kQ: the strict
// compare leaves it out, and acc == 0 too. Five instructions where the fold
// and its compare take eleven.
inline bool sum_is_ffff(uint64_t acc) {
  constexpr uint64_t kInv = 0xFFFEFFFEFFFEFFFFull;  // 0xFFFF * kInv == 1 (mod 2^64)
  constexpr uint64_t kQ = 0x0001000100010001ull;    // (2^64 - 1) / 0xFFFF
  static_assert(uint64_t{0xFFFF} * kInv == 1 && kQ * 0xFFFF == ~uint64_t{0});
  return (acc - 0xFFFF) * kInv < kQ;
}

// The IPv4 TCP pseudo-header (RFC 9293 §3.1) as pseudo_native() gives it,
// from the 8 address bytes of an IPv4 header (source then destination, at
// offset 12) as they lie in the frame: one load, no byte swaps.
inline uint64_t pseudo_native_at(const uint8_t* addrs8, uint16_t tcp_len) {
  uint64_t a;
  std::memcpy(&a, addrs8, 8);
  const uint32_t pl = to_be32((uint32_t{6} << 16) | tcp_len);  // {0, 6, len_hi, len_lo}
  return add_carry(a, pl);
}

}  // namespace detail

// A 20-byte IPv4 header (no options) whose checksum verifies: its ten words
// summed with three 64/32-bit loads (the common case of parse_tcp_frame).
[[gnu::always_inline]] inline bool ipv4_header20_ok(const uint8_t* hdr) {
  return detail::sum_is_ffff(detail::sum_native_words<20>(hdr, 0));
}

// One's-complement sum of `data` added to `sum` (RFC 1071 §4.1). An odd
// trailing byte is padded with a zero byte, so when chaining calls every span
// but the last must have even length.
inline uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum = 0);

constexpr uint32_t checksum_add16(uint32_t sum, uint16_t word) {
  sum += word;
  return (sum & 0xFFFFu) + (sum >> 16);
}

constexpr uint32_t checksum_add32(uint32_t sum, uint32_t v) {
  return checksum_add16(checksum_add16(sum, static_cast<uint16_t>(v >> 16)),
                        static_cast<uint16_t>(v & 0xFFFFu));
}

// Folds carries back in: the 16-bit one's-complement sum, not complemented.
constexpr uint16_t checksum_fold(uint32_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum to store: complement of the folded sum.
constexpr uint16_t checksum_finish(uint32_t sum) { return static_cast<uint16_t>(~checksum_fold(sum)); }

inline uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum) {
  return checksum_add16(checksum_fold(sum), detail::sum_be(data.data(), data.size()));
}

// RFC 1071 checksum of `data`.
inline uint16_t internet_checksum(std::span<const uint8_t> data) { return checksum_finish(checksum_add(data)); }

// True when `data`, which contains its own checksum field, sums to 0xFFFF.
inline bool internet_checksum_ok(std::span<const uint8_t> data) {
  return checksum_fold(checksum_add(data)) == 0xFFFF;
}

// Sum of the TCP/UDP IPv4 pseudo-header (RFC 9293 §3.1): source, destination,
// zero + protocol, segment length. Addresses in host order.
constexpr uint32_t pseudo_header_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t protocol, uint16_t len) {
  uint32_t s = checksum_add32(0, src_ip);
  s = checksum_add32(s, dst_ip);
  s = checksum_add16(s, protocol);
  return checksum_add16(s, len);
}

// IPv4 header checksum (RFC 791 §3.1) of `hdr` (the IHL*4 header bytes,
// at least 20), computed as if the checksum field (bytes 10-11) were zero.
// One pass: the whole header is summed and the stored field taken back out
// by adding its complement. Exact because a header's first byte (version,
// IHL) is never zero, nor a TCP pseudo-header's protocol: the sum without the
// field is never the all-zero one.
inline uint16_t ipv4_header_checksum(std::span<const uint8_t> hdr) {
  assert(hdr.size() >= 20);
  const auto stored = static_cast<uint16_t>((hdr[10] << 8) | hdr[11]);
  return checksum_finish(checksum_add16(checksum_add(hdr), static_cast<uint16_t>(~stored)));
}
inline bool ipv4_header_checksum_ok(std::span<const uint8_t> hdr) { return internet_checksum_ok(hdr); }

// TCP checksum over pseudo-header + `segment` (header, options and payload,
// at least 20 bytes), computed as if the checksum field (bytes 16-17) were zero.
inline uint16_t tcp_checksum(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment) {
  assert(segment.size() >= 20 && segment.size() <= 0xFFFF);
  const uint32_t s = pseudo_header_sum(src_ip, dst_ip, 6, static_cast<uint16_t>(segment.size()));
  const auto stored = static_cast<uint16_t>((segment[16] << 8) | segment[17]);
  return checksum_finish(checksum_add16(checksum_add(segment, s), static_cast<uint16_t>(~stored)));
}
inline bool tcp_checksum_ok(uint32_t src_ip, uint32_t dst_ip, std::span<const uint8_t> segment) {
  if (segment.size() > 0xFFFF) return false;
  const uint64_t ph = detail::pseudo_native(src_ip, dst_ip, 6, static_cast<uint16_t>(segment.size()));
  return detail::sum_is_ffff(detail::sum_native(segment.data(), segment.size(), ph));
}

// The same check for the segment of an IPv4 header `ip` (no options
// needed: the addresses are at 12..19 either way). A 20-byte segment (pure
// ACK, FIN, RST) in three loads, a 32- or 40-byte one (a SYN and its options,
// a timestamped ACK) in four or five; the rest through a call, which keeps
// the inlined receive parser small.
[[gnu::always_inline]] inline bool tcp_checksum_ok_at(const uint8_t* ip, const uint8_t* segment, size_t len) {
  if (len > 0xFFFF) return false;
  const uint64_t ph = detail::pseudo_native_at(ip + 12, static_cast<uint16_t>(len));
  uint64_t s;
  if (len > 40) {  // payload: one compare, as before
    s = detail::sum_native_call(segment, len, ph);
  } else if (len == 20) {
    s = detail::sum_native_words<20>(segment, ph);
  } else if (len == 32) {  // a SYN's header with its options (or a timestamped ACK's)
    s = detail::sum_native_words<32>(segment, ph);
  } else if (len == 40) {
    s = detail::sum_native_words<40>(segment, ph);
  } else {
    s = detail::sum_native_call(segment, len, ph);
  }
  return detail::sum_is_ffff(s);
}

// Stores the checksum of the segment (checksum field zero, as a builder
// leaves it) of IPv4 header `ip` into the field: one pass, no byte swaps.
// The lengths of the segments without payload a server sends (20: ACK, FIN,
// RST; 24, 32, 40: SYN-ACKs by their options; 32: a timestamped ACK)
// straight-line; the rest through sum_native().
inline void store_tcp_checksum_at(const uint8_t* ip, uint8_t* segment, size_t len) {
  const uint64_t ph = detail::pseudo_native_at(ip + 12, static_cast<uint16_t>(len));
  uint64_t s;
  switch (len) {
    case 20: s = detail::sum_native_words<20>(segment, ph); break;
    case 24: s = detail::sum_native_words<24>(segment, ph); break;
    case 32: s = detail::sum_native_words<32>(segment, ph); break;
    case 40: s = detail::sum_native_words<40>(segment, ph); break;
    default: s = detail::sum_native(segment, len, ph); break;
  }
  const auto c = static_cast<uint16_t>(~detail::fold_native(s));
  std::memcpy(segment + 16, &c, 2);
}


// For TX checksum offload: the folded, *uncomplemented* pseudo-header sum the
// NIC expects pre-loaded in the TCP checksum field (what DPDK's
// rte_ipv4_phdr_cksum returns), for a segment of `tcp_len` bytes.
constexpr uint16_t tcp_pseudo_header_checksum(uint32_t src_ip, uint32_t dst_ip, uint16_t tcp_len) {
  return checksum_fold(pseudo_header_sum(src_ip, dst_ip, 6, tcp_len));
}

// ---- incremental update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') -----------
// `hc` is the stored checksum (host order); returns the new one after the
// 16-bit word `old_word` covered by it became `new_word`.
constexpr uint16_t checksum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~hc);
  s = checksum_add16(s, static_cast<uint16_t>(~old_word));
  s = checksum_add16(s, new_word);
  return checksum_finish(s);
}

// Same for an aligned 32-bit field (two consecutive 16-bit words).
constexpr uint16_t checksum_update32(uint16_t hc, uint32_t old_val, uint32_t new_val) {
  hc = checksum_update16(hc, static_cast<uint16_t>(old_val >> 16), static_cast<uint16_t>(new_val >> 16));
  return checksum_update16(hc, static_cast<uint16_t>(old_val), static_cast<uint16_t>(new_val));
}

// In-place rewrites of a field inside `bytes` whose checksum is stored
// big-endian at `csum_off`. Offsets are relative to `bytes`, whose first byte
// must sit at an even offset of the checksummed data (true for an IP header,
// an ICMP message or a TCP segment). Preconditions: fields lie inside `bytes`;
// 16- and 32-bit fields start at even offsets.
void rewrite_u8(std::span<uint8_t> bytes, size_t field_off, uint8_t value, size_t csum_off);
void rewrite_be16(std::span<uint8_t> bytes, size_t field_off, uint16_t value, size_t csum_off);
void rewrite_be32(std::span<uint8_t> bytes, size_t field_off, uint32_t value, size_t csum_off);

}  // namespace synmill::wire
