#pragma once
// Names of the enumerated and bit-set values a driver profile accepts, shared by
// the parser (names -> bits) and the start-up banner (bits -> names).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dp/driver_profile.hpp"

namespace synmill::dp {

struct NamedBit {
  std::string_view name;
  uint32_t bit;
};

// offloads: rx_ip_cksum, rx_tcp_cksum, rx_rss_hash, tx_ip_cksum, tx_tcp_cksum,
// tx_multi_segs, mbuf_fast_free.
std::span<const NamedBit> offload_names();
std::span<const std::string_view> offload_name_list();

// rss_types: ipv4, ipv4-tcp, ipv4-udp, ipv6, ipv6-tcp, ipv6-udp.
std::span<const NamedBit> rss_type_names();
std::span<const std::string_view> rss_type_name_list();

// rss: symmetric_toeplitz, toeplitz_symmetric_key, none.
std::span<const std::string_view> rss_mode_name_list();
std::optional<RssMode> rss_mode_from_name(std::string_view name);

// "rx_ip_cksum,tx_tcp_cksum", or "none" for an empty mask.
std::string format_mask(uint32_t mask, std::span<const NamedBit> names);

// "0x6d5a..." for a key.
std::string format_hex(std::span<const uint8_t> bytes);

}  // namespace synmill::dp
