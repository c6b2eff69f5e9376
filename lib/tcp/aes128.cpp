#include "tcp/aes128.hpp"

#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#define SYNMILL_AES_NI 1
#else
#define SYNMILL_AES_NI 0
#endif

namespace synmill::tcp {

#if SYNMILL_AES_NI

// Compiled for AES-NI one function at a time; called only after
// aes_ni_available() (see the header).
#define SYNMILL_AES_TARGET __attribute__((target("aes,sse2")))

namespace {

SYNMILL_AES_TARGET inline __m128i load_rk(const Aes128Key& k, int i) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[static_cast<size_t>(i)].data()));
}

// FIPS-197 §5.1: AddRoundKey, 9 full rounds, the last round without MixColumns.
SYNMILL_AES_TARGET inline __m128i encrypt_block(const Aes128Key& k, __m128i x) {
  x = _mm_xor_si128(x, load_rk(k, 0));
  x = _mm_aesenc_si128(x, load_rk(k, 1));
  x = _mm_aesenc_si128(x, load_rk(k, 2));
  x = _mm_aesenc_si128(x, load_rk(k, 3));
  x = _mm_aesenc_si128(x, load_rk(k, 4));
  x = _mm_aesenc_si128(x, load_rk(k, 5));
  x = _mm_aesenc_si128(x, load_rk(k, 6));
  x = _mm_aesenc_si128(x, load_rk(k, 7));
  x = _mm_aesenc_si128(x, load_rk(k, 8));
  x = _mm_aesenc_si128(x, load_rk(k, 9));
  return _mm_aesenclast_si128(x, load_rk(k, 10));
}

SYNMILL_AES_TARGET inline __m128i block_of(uint64_t lo, uint64_t hi) {
  return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}

SYNMILL_AES_TARGET inline __m128i load_block(const Aes128Block& b) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(&b));
}

SYNMILL_AES_TARGET inline void store_rk(Aes128Key& k, int i, __m128i v) {
  _mm_store_si128(reinterpret_cast<__m128i*>(k.rk[static_cast<size_t>(i)].data()), v);
}

SYNMILL_AES_TARGET inline uint64_t low64(__m128i x) { return static_cast<uint64_t>(_mm_cvtsi128_si64(x)); }

// One step of the key schedule (FIPS-197 §5.2): w[i] = w[i-4] ^ SubWord(RotWord(w[i-1])) ^ Rcon
// for the first word, each later word xors in the one before it.
SYNMILL_AES_TARGET inline __m128i expand_step(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

}  // namespace

bool aes_ni_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("aes");
}

// Rounds 1..10 of the key schedule; the round constants (Rcon) must be
// immediates of aeskeygenassist, hence template arguments.
template <int... Rcon>
SYNMILL_AES_TARGET inline void expand_rounds(__m128i k, Aes128Key& out, std::integer_sequence<int, Rcon...>) {
  int round = 0;
  ((k = expand_step(k, _mm_aeskeygenassist_si128(k, Rcon)), store_rk(out, ++round, k)), ...);
}

SYNMILL_AES_TARGET void aes128_expand(const uint8_t key[16], Aes128Key& out) {
  const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  store_rk(out, 0, k);
  expand_rounds(k, out, std::integer_sequence<int, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36>{});
}

SYNMILL_AES_TARGET void aes128_encrypt(const Aes128Key& k, const uint8_t in[16], uint8_t out[16]) {
  const __m128i x = encrypt_block(k, _mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), x);
}

SYNMILL_AES_TARGET Aes128Block aes128_encrypt(const Aes128Key& k, const Aes128Block& in) {
  Aes128Block out;
  _mm_store_si128(reinterpret_cast<__m128i*>(&out), encrypt_block(k, load_block(in)));
  return out;
}

SYNMILL_AES_TARGET uint64_t aes128_mac1(const Aes128Key& k, const Aes128Block& iv, uint64_t a, uint64_t b) {
  return low64(encrypt_block(k, _mm_xor_si128(load_block(iv), block_of(a, b))));
}

SYNMILL_AES_TARGET uint64_t aes128_mac2(const Aes128Key& k, const Aes128Block& iv, uint64_t a, uint64_t b,
                                        uint64_t c, uint64_t d) {
  const __m128i x = encrypt_block(k, _mm_xor_si128(load_block(iv), block_of(a, b)));
  // The second block reads the round keys from memory again (as aesenc's
  // memory operand) rather than holding all 11 in registers: 11 fewer
  // instructions. The empty asm only hides that it is the same key.
  const Aes128Key* k2 = &k;
  asm("" : "+r"(k2));
  return low64(encrypt_block(*k2, _mm_xor_si128(x, block_of(c, d))));
}

SYNMILL_AES_TARGET uint64_t aes128_mac(const Aes128Key& k, const Aes128Block& iv, const uint8_t* data,
                                       size_t len) {
  __m128i x = load_block(iv);
  size_t i = 0;
  for (; i + 16 <= len; i += 16)
    x = encrypt_block(k, _mm_xor_si128(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i))));
  if (i < len) {
    uint8_t last[16] = {};
    std::memcpy(last, data + i, len - i);
    x = encrypt_block(k, _mm_xor_si128(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(last))));
  }
  return low64(x);
}

#else  // not x86-64: no AES-NI, KeyedPrf always uses SipHash

bool aes_ni_available() { return false; }
void aes128_expand(const uint8_t*, Aes128Key&) { __builtin_trap(); }
void aes128_encrypt(const Aes128Key&, const uint8_t*, uint8_t*) { __builtin_trap(); }
Aes128Block aes128_encrypt(const Aes128Key&, const Aes128Block&) { __builtin_trap(); }
uint64_t aes128_mac1(const Aes128Key&, const Aes128Block&, uint64_t, uint64_t) { __builtin_trap(); }
uint64_t aes128_mac2(const Aes128Key&, const Aes128Block&, uint64_t, uint64_t, uint64_t, uint64_t) {
  __builtin_trap();
}
uint64_t aes128_mac(const Aes128Key&, const Aes128Block&, const uint8_t*, size_t) { __builtin_trap(); }

#endif

}  // namespace synmill::tcp
