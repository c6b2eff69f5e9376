// Prometheus text of synmill's counters. See metrics_text.hpp.
#include "dp/metrics_text.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "tcp/counters.hpp"

namespace synmill::dp {
namespace {

constexpr std::string_view kTcpDrops = "synmill_tcp_dropped_segments_total";
constexpr std::string_view kPortDrops = "synmill_worker_dropped_frames_total";
constexpr std::string_view kStates = "synmill_tcp_connections";

bool is_tcp_event(std::string_view name) {
#define SYNMILL_IS(n) if (name == #n) return true;
  SYNMILL_EVENT_COUNTERS(SYNMILL_IS)
#undef SYNMILL_IS
  return false;
}

bool is_tcp_drop(std::string_view reason) {
#define SYNMILL_IS(n) if (reason == #n) return true;
  SYNMILL_DROP_COUNTERS(SYNMILL_IS)
#undef SYNMILL_IS
  return false;
}

// HELP text per family; families not listed get a generic one.
const std::map<std::string, std::string, std::less<>>& helps() {
  static const std::map<std::string, std::string, std::less<>> h = {
      {"synmill_tcp_rx_segments_total", "TCP segments the stack received"},
      {"synmill_tcp_tx_segments_total", "TCP segments the stack sent"},
      {"synmill_tcp_rx_bytes_total", "TCP payload bytes received in order"},
      {"synmill_tcp_tx_bytes_total", "TCP payload bytes sent (retransmissions included)"},
      {"synmill_tcp_syn_in_total", "SYN segments received by listeners"},
      {"synmill_tcp_synack_out_total", "SYN-ACK segments sent (cookies included)"},
      {"synmill_tcp_syn_out_total", "SYN segments sent by active opens"},
      {"synmill_tcp_cookies_sent_total", "SYN-ACKs that carried a SYN cookie"},
      {"synmill_tcp_cookies_validated_total", "ACKs whose SYN cookie was valid (connection created)"},
      {"synmill_tcp_cookies_rejected_total", "ACKs whose SYN cookie failed the check"},
      {"synmill_tcp_established_total", "connections that reached ESTABLISHED"},
      {"synmill_tcp_rst_out_total", "RST segments sent"},
      {"synmill_tcp_rst_in_total", "RST segments accepted"},
      {"synmill_tcp_retransmits_total", "data segments retransmitted"},
      {"synmill_tcp_active_opens_total", "connections opened by us (SYN sent)"},
      {"synmill_tcp_passive_opens_total", "connections accepted by listeners"},
      {"synmill_tcp_challenge_acks_total", "challenge ACKs sent (RFC 5961)"},
      {"synmill_tcp_syn_retransmits_total", "SYN retransmissions"},
      {"synmill_tcp_synack_retransmits_total", "SYN-ACK retransmissions"},
      {"synmill_tcp_time_wait_entered_total", "connections that entered TIME_WAIT"},
      {"synmill_tcp_time_wait_reused_total", "TIME_WAIT entries reused by a new SYN (RFC 6191)"},
      {"synmill_tcp_closed_normal_total", "connections closed by the FIN exchange"},
      {"synmill_tcp_closed_reset_total", "connections closed by a RST from the peer"},
      {"synmill_tcp_closed_aborted_total", "connections aborted with RST (abort, data after close, shutdown)"},
      {"synmill_tcp_closed_timeout_total", "connections closed by a timeout or retry limit"},
      {"synmill_tcp_closed_refused_total", "active opens refused (RST to our SYN)"},
      {"synmill_tcp_delayed_acks_total", "ACKs sent by the delayed-ACK timer"},
      {"synmill_tcp_dup_acks_total", "duplicate ACKs received"},
      {"synmill_tcp_fast_retransmits_total", "fast retransmissions (RFC 5681)"},
      {"synmill_tcp_sack_recoveries_total", "SACK-based loss recoveries entered (RFC 6675)"},
      {"synmill_tcp_partial_acks_total", "partial ACKs during recovery"},
      {"synmill_tcp_rto_timeouts_total", "retransmission timeouts (RFC 6298)"},
      {"synmill_tcp_rto_after_recovery_total", "retransmission timeouts during a loss recovery (which they end)"},
      {"synmill_tcp_ooo_queued_total", "out-of-order segments queued"},
      {"synmill_tcp_ooo_filled_total", "holes in the out-of-order queue filled"},
      {"synmill_tcp_sack_blocks_sent_total", "SACK blocks sent (RFC 2018)"},
      {"synmill_tcp_dsack_sent_total", "D-SACK blocks sent (RFC 2883)"},
      {"synmill_tcp_zero_window_sent_total", "segments sent advertising a zero window"},
      {"synmill_tcp_zero_window_probes_total", "zero-window probes sent"},
      {"synmill_tcp_zero_window_probes_answered_total", "zero-window probes received and answered"},
      {"synmill_tcp_window_updates_total", "window updates sent (the window opened, nothing else to ACK)"},
      {"synmill_worker_arp_requests_total", "ARP requests received"},
      {"synmill_worker_arp_replies_sent_total", "ARP replies sent"},
      {"synmill_worker_arp_learned_total", "neighbours learned from ARP"},
      {"synmill_worker_icmp_echo_replies_total", "ICMP echo replies sent"},
      {"synmill_worker_dispatched_total", "frames handed to their owner worker (software dispatch)"},
      {"synmill_worker_tx_handed_total",
       "frames an owner without a TX queue handed worker 0 to send (software dispatch; worker 0 counts them in "
       "tx_packets when the port takes them)"},
      {"synmill_worker_tx_handed_bytes_total", "frame bytes of tx_handed"},
      {"synmill_worker_rx_packets_total", "frames received from the port by this worker"},
      {"synmill_worker_tx_packets_total", "frames sent to the port by this worker"},
      {"synmill_worker_rx_bytes_total", "frame bytes received from the port"},
      {"synmill_worker_tx_bytes_total", "frame bytes sent to the port"},
      {"synmill_worker_loops_total", "poll-loop iterations"},
      {"synmill_worker_busy_loops_total", "poll-loop iterations that received at least one frame"},
      {"synmill_worker_busy_cycles_total", "TSC cycles spent in busy loop iterations"},
      {"synmill_worker_total_cycles_total", "TSC cycles spent in the poll loop"},
      {std::string(kTcpDrops), "TCP segments dropped or refused by the stack, by reason (lib/tcp/counters.hpp)"},
      {std::string(kPortDrops), "frames the worker dropped before the TCP stack, by reason"},
      {std::string(kStates), "connections per TCP state on this worker (TIME_WAIT from the compact table)"},
      {"synmill_mbufs_in_use", "packet buffers (mbufs) in use in the pool"},
      {"synmill_worker_orphans", "connections the application closed that are not finished (FIN_WAIT_1/2, CLOSING, "
                                 "LAST_ACK)"},
      {"synmill_worker_squatters", "connections holding data toward a peer window below one segment"},
      {"synmill_worker_chunks_in_use", "send-pool chunks in use"},
      {"synmill_worker_timers_armed", "connection and application timers armed"},
      {"synmill_worker_time_wait_entries", "entries in the TIME_WAIT table"},
      {"synmill_mbufs", "packet buffers (mbufs) in the pool"},
  };
  return h;
}

std::string help_of(const std::string& family, const std::string& stat) {
  const auto it = helps().find(family);
  if (it != helps().end()) return it->second;
  return fmt::format("synmill counter {} (see /synmill/stats)", stat);
}

struct Family {
  std::string help;
  bool counter = true;
  std::vector<std::string> samples;  // "{labels} value" lines without the name
};

}  // namespace

MetricName metric_for_stat(const std::string& name) {
  if (name == "busy_cycles_per_packet") return {};
  if (name.starts_with("drop_")) {
    const std::string reason = name.substr(5);
    if (is_tcp_drop(reason)) return {std::string(kTcpDrops), "reason", reason, true};
    return {std::string(kPortDrops), "reason", reason, true};
  }
  if (is_tcp_event(name)) return {fmt::format("synmill_tcp_{}_total", name), "", "", true};
  if (name == "mbufs_in_use") return {"synmill_mbufs_in_use", "", "", false};
  if (name == "mbufs_total") return {"synmill_mbufs", "", "", false};
  // The worker's gauges (they go down): no _total, TYPE gauge.
  if (name == "orphans" || name == "squatters" || name == "chunks_in_use" || name == "timers_armed" ||
      name == "time_wait_entries")
    return {fmt::format("synmill_worker_{}", name), "", "", false};
  // worker counters; rx_bytes/tx_bytes come as port_rx_bytes/port_tx_bytes
  const std::string base = name.starts_with("port_") ? name.substr(5) : name;
  return {fmt::format("synmill_worker_{}_total", base), "", "", true};
}

void prometheus_text(const MetricsInput& in, std::string& out) {
  std::vector<std::string> order;
  std::map<std::string, Family, std::less<>> families;
  const auto add = [&](const std::string& family, const std::string& help, bool counter, std::string sample) {
    auto [it, fresh] = families.try_emplace(family);
    if (fresh) {
      order.push_back(family);
      it->second.help = help;
      it->second.counter = counter;
    }
    it->second.samples.push_back(std::move(sample));
  };
  const auto labels = [](size_t worker, const MetricName& m) {
    if (m.label.empty()) return fmt::format("{{worker=\"{}\"}}", worker);
    return fmt::format("{{worker=\"{}\",{}=\"{}\"}}", worker, m.label, m.label_value);
  };
  for (size_t w = 0; w < in.stats.size(); ++w) {
    for (const auto& [name, v] : in.stats[w]) {
      const MetricName m = metric_for_stat(name);
      if (m.family.empty()) continue;
      add(m.family, help_of(m.family, name), m.counter, fmt::format("{} {}", labels(w, m), v));
    }
  }
  for (size_t w = 0; w < in.states.size(); ++w) {
    for (const auto& [state, v] : in.states[w]) {
      if (state == "total") continue;
      const MetricName m{std::string(kStates), "state", state, false};
      add(m.family, help_of(m.family, state), false, fmt::format("{} {}", labels(w, m), v));
    }
  }
  for (const auto& [name, v] : in.process) {
    const MetricName m = metric_for_stat(name);
    if (m.family.empty()) continue;
    add(m.family, help_of(m.family, name), m.counter, fmt::format(" {}", v));
  }
  for (const std::string& f : order) {
    const Family& fam = families.at(f);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f, fam.help, f, fam.counter ? "counter" : "gauge");
    for (const std::string& s : fam.samples) {
      out += f;  // s starts with the labels, or a blank when there are none
      out += s;
      out += '\n';
    }
  }
}

}  // namespace synmill::dp
