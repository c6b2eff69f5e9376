#include "synmill/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "dp/app_values.hpp"

namespace synmill::apps {
namespace {

using tcp::State;

constexpr State kShownStates[] = {State::kSynRcvd,   State::kEstablished, State::kFinWait1,
                                  State::kFinWait2,  State::kCloseWait,   State::kClosing,
                                  State::kLastAck,   State::kTimeWait,    State::kSynSent};

uint64_t closes(const tcp::Counters& c) {
  return c.closed_normal + c.closed_reset + c.closed_aborted + c.closed_timeout + c.closed_refused;
}

std::string on_off(bool b) { return b ? "on" : "off"; }

std::string join_lcores(const std::vector<unsigned>& v) {
  std::string out;
  for (unsigned id : v) out += fmt::format("{}{}", out.empty() ? "" : ",", id);
  return out;
}

}  // namespace

std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}K", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string format_banner(const BannerFacts& f) {
  const dp::AppConfig& c = *f.config;
  const tcp::StackConfig& t = c.tcp;
  std::string out = fmt::format("synmill {} on {}\n", f.version, f.dpdk_version);
  out += dp::format_port_info(*f.port);
  if (f.main_runs_worker) {
    out += fmt::format("workers: 1 on lcore {} (status from a non-EAL thread)\n", f.main_lcore);
  } else {
    out += fmt::format("workers: {} on lcores {} (main lcore {}: status and signals)\n",
                       f.worker_lcores.size(), join_lcores(f.worker_lcores), f.main_lcore);
  }
  std::string steering = fmt::format("RSS {} over {} queues", to_string(f.port->rss), f.port->rx_queues);
  if (f.port->software_dispatch) {
    steering = f.worker_lcores.size() < 2
                   ? std::string("none (one RX queue, one worker)")
                   : fmt::format("software dispatch: worker 0 polls the RX queue and hands each flow to its "
                                 "owner over SPSC rings; {}",
                                 f.port->tx_queues >= f.worker_lcores.size() ? "owners transmit on their own TX queue"
                                                                          : "worker 0 transmits for all");
  }
  out += fmt::format("flow steering: {}\n", steering);
  std::string addrs;
  for (const dp::Address& a : c.addrs) addrs += fmt::format("{}{}", addrs.empty() ? "" : ", ", dp::format_address(a));
  out += fmt::format("addresses: {}\n", addrs);
  std::string ls;
  for (const dp::ListenSpec& l : c.listeners) ls += fmt::format("{}{} ({})", ls.empty() ? "" : ", ", l.port, l.app);
  out += fmt::format("listeners: {}\n", ls);
  std::string cookies = "overflow (when a backlog is full)";
  if (t.cookies == tcp::CookieMode::kOff) cookies = "off";
  if (t.cookies == tcp::CookieMode::kAlways) cookies = "always";
  out += fmt::format("syn cookies: {}; backlog {} and accept queue {} per listener per worker\n",
                     cookies, t.backlog, t.accept_queue);
  const uint64_t pool = uint64_t{t.send_chunks} * t.chunk_size;
  out += fmt::format("per worker: {} connections, {} TIME_WAIT entries, send pool {} x {} bytes ({})\n",
                     t.max_conns, t.max_time_wait, t.send_chunks, t.chunk_size, dp::format_bytes(pool));
  out += fmt::format(
      "segments: mss {}, wscale {}, timestamps {}, sack {}, receive window {}, send buffer {}\n",
      t.mss, t.wscale, on_off(t.timestamps), on_off(t.sack), dp::format_bytes(t.rcv_wnd),
      dp::format_bytes(t.send_buf));
  out += fmt::format(
      "timeouts: TIME_WAIT {} s (RST {}), FIN_WAIT_2 {} s, CLOSE_WAIT {}; RTO {} ms ({}..{}); "
      "retries SYN {}, SYN-ACK {}, data {}, FIN {}\n",
      dp::format_seconds(t.time_wait),
      t.time_wait_rst == tcp::TimeWaitRstPolicy::kIgnore ? "ignored" : "closes",
      dp::format_seconds(t.fin_wait2_timeout),
      t.close_wait_timeout == tcp::Duration{} ? std::string("never")
                                              : dp::format_seconds(t.close_wait_timeout) + " s",
      t.rto_initial.count_ms(), t.rto_min.count_ms(), t.rto_max.count_ms(), t.syn_retries,
      t.synack_retries, t.data_retries, t.fin_retries);
  const auto secs_or = [](tcp::Duration d, const char* zero) {
    return d == tcp::Duration{} ? std::string(zero) : dp::format_seconds(d) + " s";
  };
  out += fmt::format(
      "overload: orphans at most {} (FIN retries {}); per-connection minimum {}, pool reserve {} "
      "chunks; persist timeout {}; idle timeout {}; keep-alive {}\n",
      t.max_orphans != 0 ? t.max_orphans : std::max<uint32_t>(t.max_conns / 4, 1), t.orphan_retries,
      dp::format_bytes(t.min_conn_buf), t.pool_reserve != 0 ? t.pool_reserve : t.send_chunks / 8,
      secs_or(t.persist_timeout, "never"), secs_or(t.idle_timeout, "off"),
      t.keepalive_time == tcp::Duration{}
          ? std::string("off")
          : fmt::format("after {} s, {} probes {} s apart", dp::format_seconds(t.keepalive_time),
                        t.keepalive_probes, dp::format_seconds(t.keepalive_intvl)));
  if (f.telemetry) {
    out += fmt::format("telemetry: /synmill/stats, states, conns, config on {}/dpdk_telemetry.v2 "
                       "(synmill-ctl --file-prefix {})\n",
                       f.runtime_dir, f.file_prefix);
  } else {
    out += "telemetry: off\n";
  }
  if (f.pdump && f.no_huge) {
    out += "capture: unavailable without hugepages (dpdk-dumpcap attaches as a secondary process)\n";
  } else if (f.pdump) {
    out += fmt::format("capture: dpdk-dumpcap --file-prefix {} -w out.pcapng\n", f.file_prefix);
  }
  out += fmt::format("status every {} s, shutdown grace {} s\n", dp::format_seconds(c.status_interval),
                     dp::format_seconds(c.grace));
  return out;
}

std::string format_status(const dp::Totals& now, const dp::Totals& before, double seconds,
                          double uptime) {
  const double s = seconds > 0 ? seconds : 1;
  const auto rate = [s](uint64_t a, uint64_t b) { return human(static_cast<double>(a - b) / s); };
  std::string out = fmt::format(
      "[{:7.1f}s] rx {} pps tx {} pps | SYN/s {} est/s {} close/s {} |", uptime,
      rate(now.dp.rx_packets, before.dp.rx_packets), rate(now.dp.tx_packets, before.dp.tx_packets),
      rate(now.tcp.syn_in, before.tcp.syn_in), rate(now.tcp.established, before.tcp.established),
      rate(closes(now.tcp), closes(before.tcp)));
  for (State st : kShownStates) out += fmt::format(" {} {}", tcp::to_string(st), now.states[st]);
  // Overload: orphans, and connections reset to make room or for idling (reclaim_* counters).
  const auto reclaims = [](const tcp::Counters& c) {
    uint64_t n = 0;
    c.for_each([&n](std::string_view name, uint64_t v) {
      if (name.starts_with("reclaim_")) n += v;
    });
    return n;
  };
  out += fmt::format(" | orphans {} reclaimed +{}", now.orphans, reclaims(now.tcp) - reclaims(before.tcp));
  const uint64_t drops = dp::total_drops(now);
  out += fmt::format(" | drops {} (+{})", drops, drops - dp::total_drops(before));
  // Shedding (dp/load_shed.hpp), by reason, when there was any this period.
  const auto d = [&](uint64_t a, uint64_t b) { return a - b; };
  const uint64_t syn_ov = d(now.dp.shed_syn_overload, before.dp.shed_syn_overload);
  const uint64_t syn_tx = d(now.dp.shed_syn_tx_full, before.dp.shed_syn_tx_full);
  const uint64_t cookies = d(now.dp.shed_to_cookies, before.dp.shed_to_cookies);
  if (syn_ov + syn_tx + cookies != 0 || now.dp.overload_loops != before.dp.overload_loops) {
    out += fmt::format(" | overloaded: shed SYN {} (ring backlog) {} (TX full), cookies instead of backlog {}", syn_ov,
                       syn_tx, cookies);
  }
  if (now.dp.link_down_loops != before.dp.link_down_loops) out += " | link down";
  return out;
}

std::string format_summary(const dp::Totals& t, double uptime) {
  const tcp::Counters& c = t.tcp;
  std::string out = fmt::format("synmill: summary after {:.1f} s\n", uptime);
  out += fmt::format(
      "  connections: {} established ({} passive, {} active); {} closed: {} normal, {} reset, "
      "{} aborted, {} timeout, {} refused\n",
      c.established, c.passive_opens, c.active_opens, closes(c), c.closed_normal, c.closed_reset,
      c.closed_aborted, c.closed_timeout, c.closed_refused);
  out += fmt::format(
      "  handshakes: {} SYN in, {} SYN-ACK out, cookies {} sent {} validated {} rejected, {} "
      "TIME_WAIT entered\n",
      c.syn_in, c.synack_out, c.cookies_sent, c.cookies_validated, c.cookies_rejected,
      c.time_wait_entered);
  out += fmt::format(
      "  traffic: {} packets in, {} out; {} segments in, {} out; payload {} bytes in, {} out; "
      "{} retransmits, {} RST out, {} RST in\n",
      t.dp.rx_packets, t.dp.tx_packets, c.rx_segments, c.tx_segments, c.rx_bytes, c.tx_bytes,
      c.retransmits, c.rst_out, c.rst_in);
  std::string reasons;
  const auto note = [&](std::string_view name, uint64_t v) {
    if (v != 0 && name.starts_with("drop_")) reasons += fmt::format(", {} {}", name.substr(5), v);
  };
  c.for_each(note);
  t.dp.for_each(note);
  out += fmt::format("  drops: {}{}\n", dp::total_drops(t), reasons);
  uint64_t reclaimed = 0;
  std::string why;
  c.for_each([&](std::string_view name, uint64_t v) {
    if (v == 0 || !name.starts_with("reclaim_")) return;
    reclaimed += v;
    why += fmt::format(", {} {}", name.substr(8), v);
  });
  out += fmt::format("  reclaimed: {}{}; orphans now {}\n", reclaimed, why, t.orphans);
  return out;
}

}  // namespace synmill::apps
