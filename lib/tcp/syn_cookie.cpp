#include "tcp/syn_cookie.hpp"

#include <algorithm>
#include <cstring>

namespace synmill::tcp {

namespace {

constexpr int kMssShift = SynCookies::kMacBits;                           // 27
constexpr int kEpochShift = SynCookies::kMacBits + SynCookies::kMssBits;  // 30
constexpr uint32_t kMacMask = (1u << SynCookies::kMacBits) - 1;
constexpr uint32_t kMssMask = (1u << SynCookies::kMssBits) - 1;
constexpr uint64_t kEpochMask = (uint64_t{1} << SynCookies::kEpochBits) - 1;
constexpr uint32_t kSackBit = 1u << 4;  // in the TSval/TSecr low bits
constexpr uint32_t kWscaleFieldMask = 0xf;

// Domain-separation tags for the two halves of an epoch secret ("synckie0/1").
constexpr uint64_t kSecretTag0 = 0x73796e636b696530ULL;
constexpr uint64_t kSecretTag1 = 0x73796e636b696531ULL;

// Largest table entry <= limit; index 0 (64 bytes) when none is: the
// deliberate tiny-MSS clamp documented in the header.
uint32_t mss_index(uint32_t limit) {
  for (auto i = static_cast<uint32_t>(SynCookies::kMssTable.size() - 1); i > 0; --i) {
    if (SynCookies::kMssTable[i] <= limit) return i;
  }
  return 0;
}

// The third word of the MAC's input: every parameter the cookie restores
// (see "Tampering" in the header) and the epoch.
uint64_t param_word(uint64_t epoch, uint32_t mss_idx, uint32_t ts_field, bool ts_ok) {
  return (epoch << 16) | (uint64_t{mss_idx} << 8) | (uint64_t{ts_ok} << 5) | ts_field;
}

// IPv4, 24 bytes: the 4-tuple, the peer's ISN, then param_word().
uint32_t mac4(const KeyedPrf& secret, const FourTuple& t, Seq peer_isn, uint64_t params) {
  const uint64_t a = (uint64_t{t.local_ip} << 32) | t.remote_ip;
  const uint64_t b =
      (uint64_t{t.local_port} << 48) | (uint64_t{t.remote_port} << 32) | peer_isn.raw();
  return static_cast<uint32_t>(secret.words(a, b, params)) & kMacMask;
}

// IPv6: both addresses in full, then the words b and c of mac4() (48 bytes).
// Out of line so the IPv4 MAC stays inlined in its callers.
[[gnu::noinline]] uint32_t mac6(const KeyedPrf& secret, const Addrs6& v6, const FourTuple& t, Seq peer_isn,
                                uint64_t c) {
  const uint64_t b =
      (uint64_t{t.local_port} << 48) | (uint64_t{t.remote_port} << 32) | peer_isn.raw();
  uint8_t bytes[48];
  v6.local->store(bytes);
  v6.remote->store(bytes + 16);
  std::memcpy(bytes + 32, &b, 8);
  std::memcpy(bytes + 40, &c, 8);
  return static_cast<uint32_t>(secret.bytes(bytes, sizeof bytes)) & kMacMask;
}

}  // namespace

SynCookies::SynCookies(SipKey master, Duration lifetime, Instant start, PrfKind prf, bool timestamps)
    : master_(master, prf),
      ts_on_(timestamps),
      lifetime_(lifetime > Duration{} ? lifetime : kDefaultLifetime),
      start_(start) {
  // Force a full refresh of the cache for the start epoch.
  epoch_ = 0;
  begin_ = start_;
  end_ = start_ + lifetime_;
  for (uint64_t i = 0; i < secrets_.size(); ++i) secrets_[i] = derive_secret(epoch_ - 1 + i);
}

uint64_t SynCookies::epoch_of(Instant now) const {
  if (now >= begin_ && now < end_) return epoch_;  // hot path: no division
  if (now < start_) return 0;                      // clock before start: first epoch
  return static_cast<uint64_t>((now - start_).count_ns() / lifetime_.count_ns());
}

void SynCookies::advance(Instant now) {
  const uint64_t e = epoch_of(now);
  if (e == epoch_) return;
  if (e == epoch_ + 1) {  // the usual rotation: shift by one, derive one secret
    secrets_[0] = secrets_[1];
    secrets_[1] = secrets_[2];
    secrets_[2] = derive_secret(e + 1);
  } else {
    for (uint64_t i = 0; i < secrets_.size(); ++i) secrets_[i] = derive_secret(e - 1 + i);
  }
  epoch_ = e;
  begin_ = start_ + lifetime_ * static_cast<int64_t>(e);
  end_ = begin_ + lifetime_;
}

KeyedPrf SynCookies::derive_secret(uint64_t epoch) const {
  return KeyedPrf(SipKey{master_.words(kSecretTag0, epoch), master_.words(kSecretTag1, epoch)}, master_.kind());
}

template <class F>
uint32_t SynCookies::with_secret(uint64_t epoch, const F& f) const {
  const uint64_t slot = epoch - epoch_ + 1;  // wraps to a huge value when out of the cache
  if (slot < secrets_.size()) [[likely]] return f(secrets_[slot]);
  return f(derive_secret(epoch));  // advance() lagging behind `now`: still correct
}

template <class Mac>
SynCookies::Encoded SynCookies::encode_with(const wire::TcpOptions& syn_opts, uint16_t our_mss, uint32_t ts_now,
                                            Instant now, const Mac& mac_of) const {
  Encoded out;
  // RFC 9293 §3.7.1: send no more than the peer's MSS (536 when absent), and
  // no more than we are configured for; rounded down to the table.
  const uint32_t peer_mss = syn_opts.has_mss ? syn_opts.mss : kDefaultPeerMss;
  const uint32_t idx = mss_index(std::min<uint32_t>(peer_mss, our_mss));
  out.params.mss = kMssTable[idx];

  // Window scale and SACK survive only in the TSval bits (see header).
  uint32_t ts_field = kWscaleNone;
  if (syn_opts.has_timestamps && ts_on_) {
    out.params.ts_ok = true;
    if (syn_opts.has_wscale) {
      out.params.has_wscale = true;
      out.params.wscale = std::min(syn_opts.wscale, kMaxWscale);  // RFC 7323 §2.3
      ts_field = out.params.wscale;
    }
    if (syn_opts.sack_permitted) {
      out.params.sack_ok = true;
      ts_field |= kSackBit;
    }
    // TSval = ts_now with the low bits replaced, never ahead of ts_now so the
    // connection's later TSvals stay monotonic (RFC 7323 §5, PAWS). The unsigned
    // subtraction wraps in serial-number order near 2^32.
    uint32_t ts = (ts_now & ~kTsMask) | ts_field;
    if (ts > ts_now) ts -= kTsSpan;
    out.ts_val = ts;
  }

  const uint64_t e = epoch_of(now);
  const uint64_t params = param_word(e, idx, ts_field, out.params.ts_ok);
  const uint32_t m = with_secret(e, [&](const KeyedPrf& k) { return mac_of(k, params); });
  out.isn = Seq((static_cast<uint32_t>(e & kEpochMask) << kEpochShift) | (idx << kMssShift) | m);
  return out;
}

SynCookies::Encoded SynCookies::encode(const FourTuple& t, Seq peer_isn, const wire::TcpOptions& syn_opts,
                                       uint16_t our_mss, uint32_t ts_now, Instant now) const {
  return encode_with(syn_opts, our_mss, ts_now, now,
                     [&](const KeyedPrf& k, uint64_t params) { return mac4(k, t, peer_isn, params); });
}

SynCookies::Encoded SynCookies::encode6(const FourTuple& t, const Addrs6& a, Seq peer_isn,
                                        const wire::TcpOptions& syn_opts, uint16_t our_mss, uint32_t ts_now,
                                        Instant now) const {
  return encode_with(syn_opts, our_mss, ts_now, now,
                     [&](const KeyedPrf& k, uint64_t params) { return mac6(k, a, t, peer_isn, params); });
}

std::optional<CookieParams> SynCookies::check(const FourTuple& t, Seq peer_isn, Seq cookie,
                                              const wire::TcpOptions& ack_opts, Instant now,
                                              const Addrs6& v6) const {
  // Epoch: the current one or the previous one, nothing else.
  const uint64_t cur = epoch_of(now);
  const uint64_t bits = cookie.raw() >> kEpochShift;
  uint64_t e = 0;
  if (bits == (cur & kEpochMask)) {
    e = cur;
  } else if (cur > 0 && bits == ((cur - 1) & kEpochMask)) {
    e = cur - 1;
  } else {
    return std::nullopt;  // expired (or never issued): no hash spent
  }

  CookieParams p;
  const uint32_t idx = (cookie.raw() >> kMssShift) & kMssMask;
  p.mss = kMssTable[idx];
  uint32_t ts_field = kWscaleNone;
  if (ack_opts.has_timestamps && ts_on_) {
    // RFC 7323 §3.2: TSecr echoes the TSval of our SYN-ACK.
    p.ts_ok = true;
    ts_field = ack_opts.ts_ecr & kTsMask;
    const uint32_t ws = ts_field & kWscaleFieldMask;
    if (ws != kWscaleNone) {
      p.has_wscale = true;
      p.wscale = static_cast<uint8_t>(ws);  // 0..14 from us; 15 is "none"
    }
    p.sack_ok = (ts_field & kSackBit) != 0;
  }

  const uint64_t params = param_word(e, idx, ts_field, p.ts_ok);
  const uint32_t m = with_secret(e, [&](const KeyedPrf& k) {
    return v6.local != nullptr ? mac6(k, v6, t, peer_isn, params) : mac4(k, t, peer_isn, params);
  });
  if (m != (cookie.raw() & kMacMask)) {
    return std::nullopt;
  }
  return p;
}

}  // namespace synmill::tcp
