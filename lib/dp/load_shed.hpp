#pragma once
// Load shedding on one polling core: what to do when the RX ring backs up.
//
// Signal: RX bursts that come back full. kEnterStreak full bursts in a row
// (at least kEnterStreak x 32 frames waiting) is overload; a burst under half
// full ends it. While overloaded:
//   - the stack answers every SYN with a cookie and keeps no half-open state
//     (tcp::Stack::set_overloaded; counted: shed_to_cookies, the new SYNs
//     the polling core's stack took while overloaded);
//   - segments of existing flows (ACKs that finish handshakes, data, FINs)
//     are all handled: they finish work already paid for;
//   - once the backlog is sustained (kDropStreak full bursts in a row, and
//     full bursts without a break for kSustainNs: longer than draining what
//     one preemption leaves, so frames keep arriving about as fast as we take
//     them), of the new SYNs in a burst that also carries
//     segments of existing flows, at most kSynsPerBurst are answered, the
//     rest are dropped before
//     parsing (shed_syn_overload): a cheap drop drains the ring faster, so
//     fewer of the ACKs behind them are lost there, and the handshakes
//     already under way finish. The backlog one preemption leaves (a
//     shared core, a stall) is drained with cookies and no SYN dropped: a
//     dropped SYN costs its client a whole RTO, and a client with few
//     retries fails outright (test/overload: phase 2 at half capacity lost
//     20-100 connections/s to such drops on a loaded machine). A streak
//     alone does not tell the two apart: an RX ring holds far more than
//     kDropStreak bursts (memif as the bench sets it up: 16,384 frames, 512
//     bursts), and with frames arriving at half the drain rate, a full ring
//     takes twice its size in frames to drain. bench/dperf_compare.py at 150K
//     connections/s, half of synmill's core, dropped 231-1,371 SYNs a run
//     this way (each one a 1 s client retransmit) where dperf's server
//     dropped none. Time tells them apart: kSustainNs (100 ms) is well past
//     a scheduler's preemption (CFS's latency target is 6-24 ms) and the
//     drain of a full 16K ring at 80 % load (about 70 ms at this machine's
//     drain rate; test/overload's stalls), while under a real overload 100
//     ms of cookie answers before SYNs are dropped is a short delay. A burst of nothing but SYNs (a flood) is
//     answered in full: cookies cost no state, and there is nothing to favour;
//   - and whenever the TX ring refused frames in the last pass, new SYNs are
//     dropped at once (shed_syn_tx_full): their SYN-ACKs would be thrown away.
// Nothing here allocates or locks; it reads the flags byte of each frame.
#include <cstdint>

namespace synmill::dp {

class LoadShed {
 public:
  static constexpr uint16_t kEnterStreak = 8;
  static constexpr uint16_t kSynsPerBurst = 8;
  static constexpr uint16_t kDropStreak = 64;
  static constexpr int64_t kSustainNs = 100'000'000;

  enum class Verdict : uint8_t { kHandle, kShedOverload, kShedTxFull };

  // After each RX burst of `n` frames (of at most `burst`), at `now_ns` (the
  // poll loop's clock). Returns true when the overload state changed.
  bool on_burst(uint16_t n, uint16_t burst, int64_t now_ns) {
    syns_ = 0;
    if (n == burst) {
      if (streak_ == 0) full_since_ns_ = now_ns;
      if (streak_ < kDropStreak) ++streak_;
      sustained_ = streak_ >= kDropStreak && now_ns - full_since_ns_ >= kSustainNs;
      if (streak_ >= kEnterStreak && !overloaded_) {
        overloaded_ = true;
        return true;
      }
    } else if (n < burst / 2) {
      streak_ = 0;
      sustained_ = false;
      if (overloaded_) {
        overloaded_ = false;
        return true;
      }
    }
    return false;
  }
  void on_tx(bool refused) { tx_refused_ = refused; }

  // Whether judge() may shed anything in this burst: TX refused frames, or
  // the overload is sustained. Otherwise every verdict is kHandle and the
  // burst is not looked at (overloaded but not sustained: the stack answers
  // with cookies, nothing is dropped).
  bool active() const { return tx_refused_ || (overloaded_ && sustained_); }

  // A SYN that opens a connection (no ACK, no RST).
  static bool new_syn(uint8_t tcp_flags) {
    constexpr uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04;
    return (tcp_flags & (kSyn | kAck | kRst)) == kSyn;
  }

  // Before judging a burst: whether it carries anything but new SYNs.
  void begin_burst(bool mixed) {
    syns_ = 0;
    budget_ = mixed ? kSynsPerBurst : UINT16_MAX;
  }

  // For a frame whose TCP flags are `tcp_flags` (0: not TCP).
  Verdict judge(uint8_t tcp_flags) {
    if (!new_syn(tcp_flags)) return Verdict::kHandle;  // existing flows first
    if (tx_refused_) return Verdict::kShedTxFull;
    if (!overloaded_ || !sustained_) return Verdict::kHandle;
    if (syns_ >= budget_) return Verdict::kShedOverload;
    ++syns_;
    return Verdict::kHandle;
  }

  bool overloaded() const { return overloaded_; }
  bool tx_refused() const { return tx_refused_; }

 private:
  uint16_t streak_ = 0;
  uint16_t syns_ = 0;
  uint16_t budget_ = kSynsPerBurst;
  bool overloaded_ = false;
  bool sustained_ = false;
  bool tx_refused_ = false;
  int64_t full_since_ns_ = 0;  // when the current streak of full bursts began
};

}  // namespace synmill::dp
