#include "dp/profile_values.hpp"

#include <array>

#include <fmt/format.h>

namespace synmill::dp {
namespace {

constexpr std::array kOffloads{
    NamedBit{"rx_ip_cksum", offload::kRxIpCksum},   NamedBit{"rx_tcp_cksum", offload::kRxTcpCksum},
    NamedBit{"rx_rss_hash", offload::kRxRssHash},   NamedBit{"tx_ip_cksum", offload::kTxIpCksum},
    NamedBit{"tx_tcp_cksum", offload::kTxTcpCksum}, NamedBit{"tx_multi_segs", offload::kTxMultiSegs},
    NamedBit{"mbuf_fast_free", offload::kMbufFastFree},
};
constexpr std::array<std::string_view, kOffloads.size()> kOffloadNames{
    kOffloads[0].name, kOffloads[1].name, kOffloads[2].name, kOffloads[3].name,
    kOffloads[4].name, kOffloads[5].name, kOffloads[6].name,
};

constexpr std::array kRssTypes{
    NamedBit{"ipv4", rss_type::kIpv4}, NamedBit{"ipv4-tcp", rss_type::kIpv4Tcp},
    NamedBit{"ipv4-udp", rss_type::kIpv4Udp}, NamedBit{"ipv6", rss_type::kIpv6},
    NamedBit{"ipv6-tcp", rss_type::kIpv6Tcp}, NamedBit{"ipv6-udp", rss_type::kIpv6Udp},
};
constexpr std::array<std::string_view, kRssTypes.size()> kRssTypeNames{
    kRssTypes[0].name, kRssTypes[1].name, kRssTypes[2].name,
    kRssTypes[3].name, kRssTypes[4].name, kRssTypes[5].name,
};

constexpr std::array<std::string_view, 3> kRssModeNames{"symmetric_toeplitz",
                                                        "toeplitz_symmetric_key", "none"};
constexpr std::array kRssModes{RssMode::kSymmetricToeplitz, RssMode::kToeplitzSymmetricKey,
                               RssMode::kNone};

}  // namespace

std::span<const NamedBit> offload_names() { return kOffloads; }
std::span<const std::string_view> offload_name_list() { return kOffloadNames; }
std::span<const NamedBit> rss_type_names() { return kRssTypes; }
std::span<const std::string_view> rss_type_name_list() { return kRssTypeNames; }
std::span<const std::string_view> rss_mode_name_list() { return kRssModeNames; }

std::optional<RssMode> rss_mode_from_name(std::string_view name) {
  for (size_t i = 0; i < kRssModeNames.size(); ++i) {
    if (kRssModeNames[i] == name) return kRssModes[i];
  }
  return std::nullopt;
}

std::string_view to_string(RssMode mode) {
  for (size_t i = 0; i < kRssModes.size(); ++i) {
    if (kRssModes[i] == mode) return kRssModeNames[i];
  }
  return "?";
}

std::string format_mask(uint32_t mask, std::span<const NamedBit> names) {
  std::string out;
  for (const NamedBit& n : names) {
    if ((mask & n.bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += n.name;
  }
  return out.empty() ? "none" : out;
}

std::string format_hex(std::span<const uint8_t> bytes) {
  std::string out = "0x";
  for (uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace synmill::dp
