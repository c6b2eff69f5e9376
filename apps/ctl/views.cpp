#include "ctl/views.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace synmill::ctl {
namespace {

uint64_t member(const Json& j, std::string_view key) {
  const Json* v = j.get(key);
  return v == nullptr ? 0 : v->u64();
}

std::string text_of(const Json& j, std::string_view key) {
  const Json* v = j.get(key);
  return v == nullptr ? std::string() : v->scalar();
}

size_t widest(const std::vector<std::string>& keys) {
  size_t w = 0;
  for (const std::string& k : keys) w = std::max(w, k.size());
  return w;
}

// ss -o style: "timer:(on,180ms,2)" for a retransmission, "timer:(state,59.5s)"
// for a reclaim deadline.
std::string timers(const Json& row) {
  std::string out;
  const Json* rtx = row.get("rtx_in_ms");
  const Json* st = row.get("timer_in_ms");
  if (rtx != nullptr && rtx->i64(-1) >= 0) {
    out += fmt::format("timer:(on,{}ms,{})", rtx->i64(), member(row, "retries"));
  }
  if (st != nullptr && st->i64(-1) >= 0) {
    out += fmt::format("{}timer:(state,{:.1f}s)", out.empty() ? "" : " ",
                       static_cast<double>(st->i64()) / 1000.0);
  }
  return out;
}

}  // namespace

std::string ss_state(const std::string& s) {
  if (s == "ESTABLISHED") return "ESTAB";
  if (s == "SYN_RCVD") return "SYN-RECV";
  std::string out = s;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string format_stats(const Json& stats) {
  std::string out;
  const size_t w = widest(stats.keys);
  for (size_t i = 0; i < stats.keys.size(); ++i) {
    out += fmt::format("{:<{}}  {}\n", stats.keys[i], w, stats.items[i].scalar());
  }
  return out;
}

std::string format_summary(const Json& s) {
  const uint64_t estab = member(s, "ESTABLISHED");
  const uint64_t timewait = member(s, "TIME_WAIT");
  const uint64_t total = member(s, "total");
  std::string out = fmt::format("Total: {}\n", total);
  out += fmt::format(
      "TCP:   {} (estab {}, closed 0, orphaned {}, timewait {})\n", total, estab,
      member(s, "FIN_WAIT_1") + member(s, "FIN_WAIT_2") + member(s, "CLOSING") + member(s, "LAST_ACK"),
      timewait);
  out += fmt::format("       synrecv {}, synsent {}, finwait1 {}, finwait2 {}, closewait {}, closing {}, "
                     "lastack {}, listen {}\n",
                     member(s, "SYN_RCVD"), member(s, "SYN_SENT"), member(s, "FIN_WAIT_1"),
                     member(s, "FIN_WAIT_2"), member(s, "CLOSE_WAIT"), member(s, "CLOSING"),
                     member(s, "LAST_ACK"), member(s, "LISTEN"));
  return out;
}

std::string format_conns(const std::vector<Json>& rows, uint64_t total) {
  size_t lw = 20;
  size_t rw = 20;
  for (const Json& r : rows) {
    lw = std::max(lw, text_of(r, "local").size());
    rw = std::max(rw, text_of(r, "remote").size());
  }
  std::string out = fmt::format("{:<11} {:>6} {:>6} {:<{}} {:<{}} {:>4}  {}\n", "State", "Recv-Q",
                                "Send-Q", "Local Address:Port", lw, "Peer Address:Port", rw, "Core",
                                "Details");
  for (const Json& r : rows) {
    out += fmt::format("{:<11} {:>6} {:>6} {:<{}} {:<{}} {:>4}  rto:{} snd_una:{} snd_nxt:{} rcv_nxt:{} "
                       "wnd:{}{}{}\n",
                       ss_state(text_of(r, "state")), 0, member(r, "send_q"), text_of(r, "local"), lw,
                       text_of(r, "remote"), rw, member(r, "core"), member(r, "rto_ms"),
                       member(r, "snd_una"), member(r, "snd_nxt"), member(r, "rcv_nxt"),
                       member(r, "snd_wnd"), timers(r).empty() ? "" : " ", timers(r));
  }
  if (total != 0 && total > rows.size()) {
    out += fmt::format("({} of {} connections shown; TIME_WAIT entries are not listed)\n", rows.size(), total);
  }
  return out;
}

std::string format_config(const Json& config) {
  std::string out;
  const size_t w = widest(config.keys);
  for (size_t i = 0; i < config.keys.size(); ++i) {
    out += fmt::format("{:<{}} = {}\n", config.keys[i], w, config.items[i].scalar());
  }
  return out;
}

}  // namespace synmill::ctl
