#include "dp/port_info.hpp"

#include <fmt/format.h>

#include "dp/profile_values.hpp"

namespace synmill::dp {

std::string format_mac(const std::array<uint8_t, 6>& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

std::string format_port_info(const PortInfo& p) {
  std::string out = fmt::format("port {} {} ({}), profile {}, socket {}, mac {}, link {}", p.port_id,
                                p.name, p.driver, p.profile, p.socket_id, format_mac(p.mac),
                                p.link_up ? fmt::format("up {} Mb/s {}", p.link_speed_mbps,
                                                        p.link_full_duplex ? "full" : "half")
                                          : std::string("down"));
  out += fmt::format("\n  queues: {} rx x {} desc, {} tx x {} desc, {} workers, mtu {}\n",
                     p.rx_queues, p.rx_desc, p.tx_queues, p.tx_desc, p.workers, p.mtu);
  if (p.software_dispatch) {
    out += fmt::format("  steering: software dispatch by Toeplitz hash (key {}) over {} workers\n",
                       format_hex(p.rss_key), p.workers);
  } else {
    out += fmt::format("  steering: rss {} ({}), types {}, key {}, reta {} entries ({}){}\n",
                       to_string(p.rss),
                       p.rss_function == RssFunction::kSymmetricToeplitz ? "NIC symmetric function"
                                                                         : "toeplitz",
                       format_mask(p.rss_types, rss_type_names()), format_hex(p.rss_key),
                       p.reta.size(), p.reta_from_device ? "read from the port" : "assumed",
                       p.flow_isolated ? ", flow isolated" : "");
  }
  out += fmt::format("  offloads: {}; not advertised: {}\n", format_mask(p.offloads, offload_names()),
                     format_mask(p.offloads_refused, offload_names()));
  for (const std::string& note : p.notes) out += fmt::format("  note: {}\n", note);
  return out;
}

}  // namespace synmill::dp
