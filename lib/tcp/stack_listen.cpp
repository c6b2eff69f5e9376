// A segment for a listening port with no connection: RFC 9293 §3.10.7.2, the
// half-open backlog, and SYN cookies (off / on overflow / always).
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

void Stack::input_listen(Listener& l, const SegmentIn& seg, Instant now) {
  // First: an RST is ignored.
  if (seg.has(flag::kRst)) {
    ++ctr_.rst_in;
    return;
  }
  // Second: any ACK is bad in LISTEN, unless it completes a SYN cookie.
  if (seg.has(flag::kAck)) {
    if (!seg.has(flag::kSyn) && cfg_.cookies != CookieMode::kOff && cookie_ack(l, seg, now))
      return;
    ++ctr_.drop.no_listener;
    reply_rst(seg);  // <SEQ=SEG.ACK><CTL=RST>
    return;
  }
  // Third: SYN.
  if (!seg.has(flag::kSyn) || seg.has(flag::kFin)) {
    ++ctr_.drop.bad_flags;  // no-flag, FIN-only, SYN+FIN: dropped without answer
    return;
  }
  ++ctr_.syn_in;
  if (cookies_first()) {  // straight here: a flood's SYNs skip syn_to_listener's frame
    send_cookie_synack(seg, now);
    return;
  }
  syn_to_backlog(l, seg, now, std::nullopt);
}

void Stack::syn_to_listener(Listener& l, const SegmentIn& seg, Instant now, std::optional<Seq> iss) {
  if (cookies_first()) {
    send_cookie_synack(seg, now);
    return;
  }
  syn_to_backlog(l, seg, now, iss);
}

[[gnu::flatten]] void Stack::syn_to_backlog(Listener& l, const SegmentIn& seg, Instant now,
                                            std::optional<Seq> iss) {
  if (l.half_open >= cfg_.backlog) {
    if (cfg_.cookies == CookieMode::kOverflow)
      send_cookie_synack(seg, now);
    else
      ++ctr_.drop.backlog_full;
    return;
  }
  ConnHot* c = alloc_conn(seg.tuple, seg_hash_, State::kSynRcvd, l.index, l.app_idx, seg.remote6);
  if (c == nullptr) {
    if (cfg_.cookies == CookieMode::kOverflow) send_cookie_synack(seg, now);
    return;
  }
  ++l.half_open;
  ++ctr_.passive_opens;
  open_passive(*c, seg, now, iss);
}

// Flattened: the ISN, the options, the SYN-ACK and its timer are one
// function's straight line (a call each cost more than half the work).
[[gnu::flatten]] void Stack::open_passive(ConnHot& c, const SegmentIn& seg, Instant now, std::optional<Seq> iss) {
  c.snd_una = iss ? *iss : isn_for(c.tuple, now);  // the ISS (conn.hpp)
  c.set_irs(seg.seq);
  c.rcv_nxt = seg.seq + 1;  // data on a SYN is not queued (no reassembly queue)
  c.rcv_adv = c.rcv_nxt;
  negotiate(c, seg.opts);
  c.snd_wnd = seg.window;  // RFC 7323 §2.2: not scaled in a SYN
  c.set_max_snd_wnd_syn(c.snd_wnd);
  c.snd_wl1 = seg.seq;
  send_syn(c, true, now);
  start_rtx_new(c, now);
}

// (Timestamps switched off here are invisible to the cookie on both legs:
// cookies_ was built with cfg_.timestamps.)
void Stack::send_cookie_synack(const SegmentIn& seg, Instant now) {
  const bool ts = cfg_.timestamps && seg.opts.has_timestamps;
  const uint32_t ts_now = ts ? ts_clock(now) : 0;  // read by encode() only with timestamps
  const uint16_t mss = our_mss(seg.tuple);
  const SynCookies::Encoded enc =
      seg.v6() ? cookies_.encode6(seg.tuple, seg_addrs6(seg), seg.seq, seg.opts, mss, ts_now, now)
               : cookies_.encode(seg.tuple, seg.seq, seg.opts, mss, ts_now, now);
  SegmentOut out;
  out.tuple = seg.tuple;
  out.local6 = seg.local6;  // IPv6: the peer's address may be in no table yet
  out.remote6 = seg.remote6;
  out.seq = enc.isn;
  out.ack = seg.seq + 1;
  out.flags = flag::kSyn | flag::kAck;
  out.window = static_cast<uint16_t>(std::min<uint32_t>(cfg_.rcv_wnd, 65535));
  out.opts.has_mss = true;
  out.opts.mss = mss;
  // Window scale and SACK can only be remembered through the timestamp: without
  // timestamps they are not offered (a scale we could not recall would make us
  // misread the peer's window and advertise ours wrongly).
  if (ts) {
    out.opts.has_timestamps = true;
    out.opts.ts_val = enc.ts_val;
    out.opts.ts_ecr = seg.opts.ts_val;
    if (seg.opts.has_wscale) {
      out.opts.has_wscale = true;
      out.opts.wscale = cfg_.wscale;
    }
    if (cfg_.sack && seg.opts.sack_permitted) out.opts.sack_permitted = true;
  }
  ++ctr_.cookies_sent;
  ++ctr_.synack_out;
  emit(out);
}

// A bare ACK for a listening port: the third segment of a cookie handshake?
bool Stack::cookie_ack(Listener& l, const SegmentIn& seg, Instant now) {
  // cookies_ sees the options as encode() saw them: "timestamps present" is MACed.
  const std::optional<CookieParams> p =
      cookies_.check(seg.tuple, seg.seq - 1, seg.ack - 1, seg.opts, now, seg_addrs6(seg));
  if (!p) {
    ++ctr_.cookies_rejected;
    return false;
  }
  ++ctr_.cookies_validated;
  ConnHot* c = alloc_conn(seg.tuple, seg_hash_, State::kSynRcvd, l.index, l.app_idx, seg.remote6);
  if (c == nullptr) return true;  // counted; no RST: the peer retries
  ++l.half_open;
  ++ctr_.passive_opens;
  c->snd_una = seg.ack - 1;  // the ISS (conn.hpp)
  c->snd_nxt = c->snd_max = c->snd_una + 1;
  c->set_irs(seg.seq - 1);
  c->rcv_nxt = seg.seq;
  c->rcv_acked = c->rcv_nxt;  // the cookie SYN-ACK acknowledged IRS + 1 (RFC 7323 §4.3 Last.ACK.sent)
  c->rcv_adv = c->rcv_nxt + std::min<uint32_t>(cfg_.rcv_wnd, 65535);  // what the SYN-ACK offered
  c->snd_mss = p->mss;
  if (p->has_wscale) {
    c->flags |= cflag::kWscale;
    c->snd_wscale = p->wscale;
  }
  c->rcv_wnd_field = static_cast<uint16_t>(std::min<uint32_t>(cfg_.rcv_wnd, 65535) >> rcv_shift(*c));
  if (p->sack_ok && cfg_.sack) c->flags |= cflag::kSack;
  if (p->ts_ok && cfg_.timestamps) {
    c->flags |= cflag::kTimestamps;
    c->ts_recent = seg.opts.ts_val;
  }
  const uint32_t mss = mss_eff(*c);
  c->cwnd = std::min(10 * mss, std::max(2 * mss, 14600u));  // RFC 6928 §2
  c->snd_wl1 = seg.seq;
  start_rtx(*c, now);  // if the accept queue refuses this ACK, the SYN-ACK is retransmitted
  // Complete the handshake with this very segment: data or FIN on it is kept.
  input_sync(*c, seg, now);
  if (c->state != State::kClosed) output(*c, now);
  return true;
}

}  // namespace synmill::tcp
