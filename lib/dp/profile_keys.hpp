#pragma once
// The keys a driver profile may set: each key's name, what values it takes,
// and how a value is stored into a DriverProfile. The meaning of every key is
// documented in drivers-config/README.md.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dp/driver_profile.hpp"

namespace synmill::dp {

struct ProfileKey {
  std::string_view name;
  // Stores `value` (already trimmed, non-empty) into `profile`. Returns the
  // reason it was rejected, e.g. "bad value 'x' for 'mtu': expected an integer
  // in 68..9728", or nothing on success.
  std::optional<std::string> (*set)(DriverProfile& profile, std::string_view value);
};

std::span<const ProfileKey> profile_keys();
std::span<const std::string_view> profile_key_names();
const ProfileKey* find_profile_key(std::string_view name);

}  // namespace synmill::dp
