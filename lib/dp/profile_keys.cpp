#include "dp/profile_keys.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "dp/profile_values.hpp"
#include "dp/text.hpp"

namespace synmill::dp {
namespace {

using SetResult = std::optional<std::string>;

constexpr size_t kRssKeyMaxBytes = 52;  // the largest key in use (i40e, ice)

std::string bad_value(std::string_view key, std::string_view value, std::string_view expected) {
  return fmt::format("bad value '{}' for '{}': expected {}", value, key, expected);
}

SetResult set_u16(uint16_t& out, std::string_view key, std::string_view value, uint16_t lo,
                  uint16_t hi) {
  unsigned parsed = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc{} || end != value.data() + value.size() || parsed < lo || parsed > hi) {
    return bad_value(key, value, fmt::format("an integer in {}..{}", lo, hi));
  }
  out = static_cast<uint16_t>(parsed);
  return std::nullopt;
}

SetResult set_bool(bool& out, std::string_view key, std::string_view value) {
  if (value == "true" || value == "yes" || value == "on" || value == "1") {
    out = true;
  } else if (value == "false" || value == "no" || value == "off" || value == "0") {
    out = false;
  } else {
    return bad_value(key, value, "true or false");
  }
  return std::nullopt;
}

// A comma/blank separated list of names from `names`; "none" alone is empty.
// `noun` names one item in messages ("offload", "type").
SetResult set_mask(uint32_t& out, std::string_view key, std::string_view noun, std::string_view value,
                   std::span<const NamedBit> names, std::span<const std::string_view> name_list,
                   bool allow_none) {
  const auto items = text::split_list(value);
  const std::string expected = fmt::format("a comma-separated list of {}{}", text::join(name_list),
                                           allow_none ? ", or none" : "");
  if (allow_none && items.size() == 1 && items[0] == "none") {
    out = 0;
    return std::nullopt;
  }
  uint32_t mask = 0;
  for (std::string_view item : items) {
    bool found = false;
    for (const NamedBit& n : names) {
      if (n.name == item) {
        mask |= n.bit;
        found = true;
      }
    }
    if (!found) {
      return fmt::format("unknown {} '{}' in '{}'{}: expected {}", noun, item, key,
                         text::did_you_mean(item, name_list), expected);
    }
  }
  if (mask == 0) return bad_value(key, value, expected);
  out = mask;
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

SetResult set_match(DriverProfile& p, std::string_view value) {
  p.match.clear();
  for (std::string_view item : text::split_list(value)) p.match.emplace_back(item);
  if (p.match.empty()) return bad_value("match", value, "a comma-separated list of driver names");
  return std::nullopt;
}

SetResult set_rx_queues_max(DriverProfile& p, std::string_view v) {
  return set_u16(p.rx_queues_max, "rx_queues_max", v, 1, 1024);
}
SetResult set_tx_queues_max(DriverProfile& p, std::string_view v) {
  return set_u16(p.tx_queues_max, "tx_queues_max", v, 1, 1024);
}
SetResult set_rx_desc(DriverProfile& p, std::string_view v) {
  return set_u16(p.rx_desc, "rx_desc", v, 16, 32768);
}
SetResult set_tx_desc(DriverProfile& p, std::string_view v) {
  return set_u16(p.tx_desc, "tx_desc", v, 16, 32768);
}
SetResult set_mtu(DriverProfile& p, std::string_view v) { return set_u16(p.mtu, "mtu", v, 68, 9728); }

SetResult set_rss(DriverProfile& p, std::string_view value) {
  const auto mode = rss_mode_from_name(value);
  if (!mode) {
    return fmt::format("bad value '{}' for 'rss'{}: expected one of {}", value,
                       text::did_you_mean(value, rss_mode_name_list()),
                       text::join(rss_mode_name_list()));
  }
  p.rss = *mode;
  return std::nullopt;
}

// "0x6d5a": hex bytes, repeated to the device's key size when shorter.
SetResult set_rss_key(DriverProfile& p, std::string_view value) {
  const std::string expected = fmt::format(
      "0x followed by 2 to {} bytes in hex, e.g. 0x6d5a (repeated to the device's key size)",
      kRssKeyMaxBytes);
  std::string_view digits = value;
  if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
  else return bad_value("rss_key", value, expected);
  if (digits.size() < 4 || digits.size() % 2 != 0 || digits.size() / 2 > kRssKeyMaxBytes) {
    return bad_value("rss_key", value, expected);
  }
  std::vector<uint8_t> key;
  for (size_t i = 0; i < digits.size(); i += 2) {
    const int hi = hex_digit(digits[i]);
    const int lo = hex_digit(digits[i + 1]);
    if (hi < 0 || lo < 0) return bad_value("rss_key", value, expected);
    key.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  p.rss_key = std::move(key);
  return std::nullopt;
}

SetResult set_rss_types(DriverProfile& p, std::string_view v) {
  return set_mask(p.rss_types, "rss_types", "type", v, rss_type_names(), rss_type_name_list(), false);
}
SetResult set_offloads(DriverProfile& p, std::string_view v) {
  return set_mask(p.offloads, "offloads", "offload", v, offload_names(), offload_name_list(), true);
}
SetResult set_flow_isolate(DriverProfile& p, std::string_view v) {
  return set_bool(p.flow_isolate, "flow_isolate", v);
}
SetResult set_software_dispatch(DriverProfile& p, std::string_view v) {
  return set_bool(p.software_dispatch, "software_dispatch", v);
}
SetResult set_link_state(DriverProfile& p, std::string_view v) {
  return set_bool(p.link_state, "link_state", v);
}

constexpr std::array kKeys{
    ProfileKey{"match", set_match},
    ProfileKey{"rx_queues_max", set_rx_queues_max},
    ProfileKey{"tx_queues_max", set_tx_queues_max},
    ProfileKey{"rx_desc", set_rx_desc},
    ProfileKey{"tx_desc", set_tx_desc},
    ProfileKey{"mtu", set_mtu},
    ProfileKey{"rss", set_rss},
    ProfileKey{"rss_key", set_rss_key},
    ProfileKey{"rss_types", set_rss_types},
    ProfileKey{"offloads", set_offloads},
    ProfileKey{"flow_isolate", set_flow_isolate},
    ProfileKey{"software_dispatch", set_software_dispatch},
    ProfileKey{"link_state", set_link_state},
};

constexpr auto kKeyNames = [] {
  std::array<std::string_view, kKeys.size()> names{};
  for (size_t i = 0; i < kKeys.size(); ++i) names[i] = kKeys[i].name;
  return names;
}();

}  // namespace

std::span<const ProfileKey> profile_keys() { return kKeys; }
std::span<const std::string_view> profile_key_names() { return kKeyNames; }

const ProfileKey* find_profile_key(std::string_view name) {
  for (const ProfileKey& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace synmill::dp
