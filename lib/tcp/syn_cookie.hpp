#pragma once
// Stateless SYN cookies: answer a SYN without storing anything, and rebuild the
// connection's parameters from the ACK that completes the handshake.
//
// ---- Layout ------------------------------------------------------------------
//
// The ISN of our SYN-ACK (RFC 9293 §3.4.1 ISS) is the cookie:
//
//    31  30 29     27 26                                                   0
//   +------+---------+------------------------------------------------------+
//   |epoch | MSS idx |                   MAC (27 bits)                      |
//   |mod 4 | (3 bits)|                                                      |
//   +------+---------+------------------------------------------------------+
//
// When the SYN carried timestamps (RFC 7323 §3), the low 5 bits of the TSval
// of our SYN-ACK carry what the cookie has no room for; the peer echoes them
// in the TSecr of its ACK (RFC 7323 §3.2):
//
//     4      3 .. 0
//   +------+---------------------------------------------+
//   | SACK | peer window scale, 0..14; 15 = no option   |
//   +------+---------------------------------------------+
//
//   MAC = low 27 bits of PRF(secret[epoch],
//           local ip, remote ip, local port, remote port, peer ISN,
//           epoch (48 bits), MSS index, window scale field, SACK bit,
//           timestamps-present bit)
//
// where secret[e] = PRF(master, tag, e) (two tags for the two halves of the
// 128-bit key) and PRF is keyed_prf.hpp's: AES-128 (a 2-block CBC-MAC for
// IPv4's 24 bytes) with AES-NI, else SipHash-2-4. Linux MACs its cookies with
// SipHash (net/ipv4/syncookies.c cookie_hash()); AES is the deviation that
// keyed_prf.hpp explains (cost; AES-128 is a standard PRF). The MAC covers EVERY bit the cookie restores, including
// the TSecr bits and whether timestamps are in use at all.
//
// ---- Attacks and how this design meets them ---------------------------------
//
// Forging (a blind attacker completes a handshake from a spoofed address it
// cannot receive on): it must send an ACK whose ack-1 is a valid cookie for
// its chosen tuple and sequence number. Epoch bits are predictable and any
// MSS index decodes, but the 27 MAC bits are a PRF output under a secret it
// does not know: each guess succeeds with probability 2^-27 (a uniformly
// random 32-bit guess: 2^-28, half of the epoch values fail before hashing).
// Linux checks 24 bits and accepts any of its 4 MSS indexes, about 2^-22 per
// guess. Here: ~1.3e8 ACKs per forged connection, about 9 s of a saturated
// 10 Gb/s link (14.88 Mpps). Varying the TSecr bits gives it nothing: they
// are MAC inputs, not free choices.
//
// Tampering with the encoded bits: Linux adds its MSS index to a hash instead
// of hashing it (cookie = h1 + seq + (count << 24) + (h2 + index) mod 2^24,
// __cookie_v4_init_sequence), so a peer
// that ACKs cookie+1 or +2 is accepted with a larger MSS than it advertised,
// and its window-scale/SACK/ECN bits in TSecr are unauthenticated. Here the
// MSS index, window scale (or "none"), SACK and timestamps-present are all MAC
// inputs: cookie +- k, any flipped bit, edited TSecr bits, dropping or adding
// the timestamp option in the ACK are each just another 2^-27 guess.
//
// Cross-connection reuse: the whole 4-tuple and the peer's ISN (ACK.seq - 1)
// are MAC inputs, so a cookie seen for one connection is worthless for any
// other tuple or ISN.
//
// Replay: an on-path attacker that captured the final ACK can replay it to
// re-create that same connection while the cookie's epoch is accepted (at most
// two lifetimes) and no connection for the tuple exists. That is inherent to
// stateless cookies (Linux, FreeBSD alike) and is bounded by the lifetime; an
// on-path attacker can open connections from that address anyway.
//
// Secret rotation: time is cut into epochs of `lifetime` (default 64 s)
// counted from `start`. Each epoch has its own secret, derived from the master
// key with the PRF, so one epoch's secret reveals nothing of another's or of
// the master. check() accepts the current and the previous epoch only, so a
// cookie is valid for at least one and at most two lifetimes. The 2 epoch bits
// reject older and "future" epochs before any hashing; an epoch that aliases
// mod 4 (four epochs ago) fails the MAC, which covers the full epoch number
// and uses that epoch's own secret.
//
// Brute force of the secret: AES-128 and SipHash-2-4 are PRFs with 128-bit
// keys; a truncated 27-bit tag does not help recover it. The master comes from the
// caller's random source (lib/tcp has none) and should be shared by all cores
// so that an ACK steered to another queue still validates.
//
// Lost state (the price of statelessness, as in every cookie scheme): the MSS
// is rounded down to the table; without timestamps the window scale and SACK
// options cannot be restored, so encode() returns params without them and the
// SYN-ACK must not offer them (RFC 7323 §2.2, RFC 2018 §2: both sides must
// send the option for it to take effect) — the connection runs without.
//
// Deviation, on purpose: a peer MSS below 64 (the smallest table entry) is
// clamped UP to 64. RFC 9293 §3.7.1 says to send no more than the peer's MSS,
// but tiny MSS values are a resource attack (one segment per few bytes of
// data; Linux tcp_min_snd_mss, CVE-2019-11479), so we never go below 64.
// Everywhere else the decoded MSS is <= both the peer's MSS (536 when the SYN
// had none, RFC 9293 §3.7.1) and our own.
//
// Cost: encode() is one 24-byte PRF (two AES blocks) under the cached epoch
// secrets (AES: their key schedules), no division (the epoch boundaries are
// cached), no allocation. check() is one PRF, or none when the epoch bits
// are stale. Call advance(now) once per
// poll loop; encode() and check() stay correct when `now` has moved on past
// the last advance() (they derive the missing secret on the spot).
#include <array>
#include <cstdint>
#include <optional>

#include "tcp/keyed_prf.hpp"
#include "tcp/types.hpp"
#include "wire/tcp_options.hpp"

namespace synmill::tcp {

// What a cookie connection will use (encode) or has restored (check).
struct CookieParams {
  uint16_t mss = 536;       // send MSS: a kMssTable entry
  bool has_wscale = false;  // peer sent window scale, and we can remember it
  uint8_t wscale = 0;       // peer's shift count, clamped to 14 (RFC 7323 §2.3)
  bool sack_ok = false;     // peer sent SACK-permitted, and we can remember it
  bool ts_ok = false;       // timestamps in use (RFC 7323 §3.2)
  friend constexpr bool operator==(const CookieParams&, const CookieParams&) = default;
};

class SynCookies {
 public:
  // ---- layout constants (see the comment above) ----
  static constexpr int kEpochBits = 2;
  static constexpr int kMssBits = 3;
  static constexpr int kMacBits = 32 - kEpochBits - kMssBits;  // 27
  static constexpr std::array<uint16_t, 8> kMssTable = {64,   536,  1220, 1360,
                                                        1400, 1440, 1460, 8960};
  static constexpr int kTsBits = 5;                   // TSval bits: SACK + 4-bit window scale
  static constexpr uint32_t kTsSpan = 1u << kTsBits;  // 32
  static constexpr uint32_t kTsMask = kTsSpan - 1;
  static constexpr uint8_t kWscaleNone = 15;
  static constexpr uint8_t kMaxWscale = 14;         // RFC 7323 §2.3
  static constexpr uint16_t kDefaultPeerMss = 536;  // RFC 9293 §3.7.1
  static constexpr Duration kDefaultLifetime = Duration::s(64);

  struct Encoded {
    Seq isn;              // the cookie: ISS of our SYN-ACK
    uint32_t ts_val = 0;  // TSval of our SYN-ACK when params.ts_ok (else 0, unused)
    CookieParams params;  // what the connection will use; the SYN-ACK offers
                          // window scale / SACK / timestamps only if set here
  };

  // `lifetime` <= 0 means kDefaultLifetime. Epoch 0 begins at `start`.
  // `prf`: which keyed PRF (keyed_prf.hpp); every stack that must accept
  // another's cookies resolves it alike.
  // `timestamps`: our side uses RFC 7323 timestamps (StackConfig::timestamps).
  SynCookies(SipKey master, Duration lifetime, Instant start, PrfKind prf = PrfKind::kAuto,
             bool timestamps = true);
  SynCookies(SipKey master, Instant start) : SynCookies(master, kDefaultLifetime, start) {}
  PrfKind prf() const { return master_.kind(); }

  // Rotates the cached epoch secrets to `now`'s epoch. Call once per poll loop.
  void advance(Instant now);

  // Builds the cookie for a received SYN. syn_opts: the SYN's options; our_mss:
  // the largest segment our side accepts; ts_now: the caller's timestamp clock
  // (ms); the returned ts_val is <= ts_now in serial order, so the later
  // TSvals of the connection never go back (RFC 7323 §5, PAWS).
  // ts_val is meaningful (and ts_now read) only when params.ts_ok: the caller
  // may pass 0 for ts_now when the SYN has no timestamps or `timestamps` is
  // off. With `timestamps` off (constructor) the timestamp option of the SYN
  // and of the ACK are both treated as absent: the MAC covers
  // timestamps-present, so both legs must see the handshake alike.
  Encoded encode(const FourTuple& t, Seq peer_isn, const wire::TcpOptions& syn_opts,
                 uint16_t our_mss, uint32_t ts_now, Instant now) const;
  // IPv6 (issue 15): `a` gives the addresses and the MAC covers them in full
  // (t's address fields are then table indexes and not hashed).
  Encoded encode6(const FourTuple& t, const Addrs6& a, Seq peer_isn, const wire::TcpOptions& syn_opts,
                  uint16_t our_mss, uint32_t ts_now, Instant now) const;

  // Validates a bare ACK (no SYN, no RST) that matched no connection:
  // peer_isn = SEG.SEQ - 1, cookie = SEG.ACK - 1; ack_opts: that ACK's options
  // (TSecr carries the timestamp bits). nullopt: not a valid cookie, drop/RST.
  std::optional<CookieParams> check(const FourTuple& t, Seq peer_isn, Seq cookie,
                                    const wire::TcpOptions& ack_opts, Instant now, const Addrs6& v6 = {}) const;

  uint64_t epoch_of(Instant now) const;
  Duration lifetime() const { return lifetime_; }

 private:
  template <class Mac>
  Encoded encode_with(const wire::TcpOptions& syn_opts, uint16_t our_mss, uint32_t ts_now, Instant now,
                      const Mac& mac_of) const;
  // f(secret of `epoch`): from the cache, or derived on the spot.
  template <class F>
  uint32_t with_secret(uint64_t epoch, const F& f) const;
  KeyedPrf derive_secret(uint64_t epoch) const;

  KeyedPrf master_;
  bool ts_on_;
  Duration lifetime_;
  Instant start_;
  // Cache, refreshed by advance(): epoch `epoch_` spans [begin_, end_);
  // secrets_[i] belongs to epoch epoch_ - 1 + i.
  uint64_t epoch_ = 0;
  Instant begin_;
  Instant end_;
  std::array<KeyedPrf, 3> secrets_;
};

}  // namespace synmill::tcp
