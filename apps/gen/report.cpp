#include "gen/report.hpp"

#include <fmt/format.h>

namespace synmill::gen {

namespace {

double per_s(uint64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; }

uint64_t closes(const GenCounters& c) { return c.closes_client + c.closes_server + c.closes_rst; }

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string latency_text(const char* what, const Histogram& h) {
  if (h.count() == 0) return fmt::format("  {} latency: no samples\n", what);
  return fmt::format("  {} latency (us): p50 {:.1f}  p99 {:.1f}  p99.9 {:.1f}  max {:.1f}  ({} samples)\n", what,
                     us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()), h.count());
}

std::string latency_json(const Histogram& h) {
  return fmt::format(R"({{"count": {}, "p50": {:.3f}, "p99": {:.3f}, "p999": {:.3f}, "max": {:.3f}}})", h.count(),
                     us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
}

// " (timeout 3 reset 1 after_response 2)": the cumulative failures by reason, those not zero.
std::string fail_reasons(const GenCounters& c) {
  std::string out;
  c.for_each([&out](std::string_view name, uint64_t v) {
    if (v == 0) return;
    if (name.starts_with("fail_")) out += fmt::format("{}{} {}", out.empty() ? "" : " ", name.substr(5), v);
    if (name == "failed_after_response") out += fmt::format("{}after_response {}", out.empty() ? "" : " ", v);
  });
  return out.empty() ? out : " (" + out + ")";
}

// "198.18.1.1-198.18.1.254", "2001:2::1:1-2001:2::1:3f", or one address.
std::string sources_text(const GenConfig& c) {
  if (c.v6) {
    const std::string first = dp::format_ipv6(c.src_addrs6.first);
    return c.src_addrs6.first == c.src_addrs6.last ? first : first + "-" + dp::format_ipv6(c.src_addrs6.last);
  }
  const std::string first = dp::format_ipv4(c.src_addrs.first);
  return c.src_addrs.first == c.src_addrs.last ? first : first + "-" + dp::format_ipv4(c.src_addrs.last);
}

}  // namespace

std::string status_line(const Snapshot& prev, const Snapshot& cur) {
  const double dt = cur.seconds - prev.seconds;
  const auto rate = [&](uint64_t a, uint64_t b) { return per_s(b - a, dt); };
  const GenCounters& p = prev.gen;
  const GenCounters& c = cur.gen;
  return fmt::format(
      "[{:6.1f}s] syn {:.0f}/s synack {:.0f}/s rst {:.0f}/s est {:.0f}/s closes {:.0f}/s (c {} s {} r {}) open {} "
      "fail {}{} | rx {:.0f} pps tx {:.0f} pps",
      cur.seconds, rate(p.syn_sent, c.syn_sent), rate(p.synack_received, c.synack_received),
      rate(p.rst_received, c.rst_received), rate(p.established, c.established), rate(closes(p), closes(c)),
      c.closes_client, c.closes_server, c.closes_rst, cur.open, c.failures(), fail_reasons(c), rate(prev.dp.rx_packets, cur.dp.rx_packets),
      rate(prev.dp.tx_packets, cur.dp.tx_packets));
}

std::string summary_text(const Result& r) {
  const GenCounters& c = r.end.gen;
  const double s = r.run_seconds;
  std::string out = fmt::format("synmill-gen: {} to {} from {} for {:.1f} s on {} core(s)\n", to_string(r.cfg->mode),
                                dst_text(*r.cfg), sources_text(*r.cfg), s, r.workers);
  if (r.cfg->mode == Mode::kSyn) {
    out += fmt::format("  SYN sent {} ({:.0f}/s), SYN-ACK received {} ({:.0f}/s), RST {} , other {}\n", c.syn_sent,
                       per_s(c.syn_sent, s), c.synack_received, per_s(c.synack_received, s), c.rst_received,
                       c.other_received);
  } else {
    out += fmt::format("  connects {} , established {} ({:.0f}/s), responses {} , bytes sent {} received {}\n",
                       c.connects_started, c.established, per_s(c.established, s), c.responses_complete,
                       c.bytes_sent, c.bytes_received);
    out += fmt::format("  closes {} ({:.0f}/s): client-first {} server-first {} rst {}\n", closes(c),
                       per_s(closes(c), s), c.closes_client, c.closes_server, c.closes_rst);
  }
  out += fmt::format("  failures {}:", c.failures());
  c.for_each([&out](std::string_view name, uint64_t v) {
    if (name.starts_with("fail_")) out += fmt::format(" {} {}", name.substr(5), v);
  });
  out += "\n";
  if (r.hold_ready_s >= 0) {
    out += fmt::format("  held connections all established after {:.2f} s ({} held)\n", r.hold_ready_s,
                       c.held_established);
  }
  out += latency_text("SYN -> SYN-ACK", r.synack_ns);
  out += latency_text("connect", r.connect_ns);
  out += fmt::format("  port: rx {} packets, tx {} packets, drops: tx_full {} no_mbuf {} parse {} not_for_us {}\n",
                     r.end.dp.rx_packets, r.end.dp.tx_packets, r.end.dp.drop_tx_full, r.end.dp.drop_no_mbuf,
                     r.end.dp.drop_parse_error, r.end.dp.drop_not_for_us);
  return out;
}

std::string summary_json(const Result& r) {
  const GenCounters& c = r.end.gen;
  const double s = r.run_seconds;
  std::string counters;
  c.for_each([&counters](std::string_view name, uint64_t v) {
    counters += fmt::format("{}\"{}\": {}", counters.empty() ? "" : ", ", name, v);
  });
  std::string port;
  r.end.dp.for_each([&port](std::string_view name, uint64_t v) {
    port += fmt::format("{}\"{}\": {}", port.empty() ? "" : ", ", name, v);
  });
  return fmt::format(
      R"({{"mode": "{}", "family": "{}", "dst": "{}", "src_addrs": "{}", "workers": {}, "seconds": {:.3f}, "hold_ready_s": {:.3f}, "counters": {{{}}}, "failures": {}, )"
      R"("closes": {}, "rates": {{"syn_per_s": {:.1f}, "synack_per_s": {:.1f}, "rst_per_s": {:.1f}, )"
      R"("established_per_s": {:.1f}, "closes_per_s": {:.1f}, "rx_pps": {:.1f}, "tx_pps": {:.1f}}}, )"
      R"("latency_us": {{"synack": {}, "connect": {}}}, "port": {{{}}}}})",
      to_string(r.cfg->mode), r.cfg->v6 ? "ipv6" : "ipv4", dst_text(*r.cfg), sources_text(*r.cfg), r.workers, s, r.hold_ready_s, counters, c.failures(),
      closes(c), per_s(c.syn_sent, s), per_s(c.synack_received, s), per_s(c.rst_received, s), per_s(c.established, s),
      per_s(closes(c), s), per_s(r.end.dp.rx_packets, s), per_s(r.end.dp.tx_packets, s), latency_json(r.synack_ns),
      latency_json(r.connect_ns), port);
}

}  // namespace synmill::gen
