#include "dp/driver_profile.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dp/profile_keys.hpp"
#include "dp/text.hpp"

namespace synmill::dp {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kProfileSuffix = ".conf";

// Where `key` got its value, for messages about conflicting keys.
std::string origin_of(const DriverProfile& p, std::string_view key) {
  const auto it = p.origin.find(key);
  if (it != p.origin.end()) return it->second;
  return fmt::format("{} (default)", p.path);
}

std::string unknown_key(std::string_view key) {
  const std::string hint = text::did_you_mean(key, profile_key_names());
  if (!hint.empty()) return fmt::format("unknown key '{}'{}", key, hint);
  return fmt::format("unknown key '{}': known keys are {}", key, text::join(profile_key_names()));
}

// Checks the keys against each other once all of them are set.
Result<void> validate(const DriverProfile& p) {
  if (p.match.empty()) {
    return Error{fmt::format(
        "{}: missing key 'match': add 'match = <driver_name>' naming the PMD "
        "(rte_eth_dev_info.driver_name, e.g. net_tap)",
        p.path)};
  }
  if (p.software_dispatch && p.rss != RssMode::kNone) {
    return Error{fmt::format(
        "{}: software_dispatch = true conflicts with rss = {} ({}): set rss = none, or "
        "software_dispatch = false",
        origin_of(p, "software_dispatch"), to_string(p.rss), origin_of(p, "rss"))};
  }
  return {};
}

std::string display_path(const fs::path& dir, const fs::path& file) {
  return (dir / file.filename()).lexically_normal().string();
}

std::string display_dir(const std::string& dir) {
  std::string d = dir.empty() ? std::string(".") : dir;
  if (d.back() != '/') d += '/';
  return d;
}

}  // namespace

Result<DriverProfile> parse_profile(std::string_view text, std::string_view path,
                                    std::string_view name) {
  DriverProfile p;
  p.name = std::string(name);
  p.path = std::string(path);
  std::map<std::string, size_t, std::less<>> first_line;
  for (const text::SettingLine& setting : text::setting_lines(text)) {
    const size_t line_no = setting.no;
    const std::string_view line = setting.text;

    const size_t eq = line.find('=');
    const std::string_view key = text::trim(line.substr(0, eq));
    if (eq == std::string_view::npos || key.empty()) {
      return Error{fmt::format("{}:{}: expected 'key = value', got '{}'", path, line_no, line)};
    }
    const std::string_view value = text::trim(line.substr(eq + 1));
    const ProfileKey* k = find_profile_key(key);
    if (k == nullptr) {
      return Error{fmt::format("{}:{}: {}", path, line_no, unknown_key(key))};
    }
    if (const auto it = first_line.find(key); it != first_line.end()) {
      return Error{fmt::format("{}:{}: duplicate key '{}' (first set on line {}): keep one", path,
                               line_no, key, it->second)};
    }
    if (value.empty()) {
      return Error{fmt::format("{}:{}: missing value for '{}': write '{} = <value>'", path, line_no,
                               key, key)};
    }
    if (auto err = k->set(p, value)) {
      return Error{fmt::format("{}:{}: {}", path, line_no, *err)};
    }
    first_line.emplace(std::string(key), line_no);
    p.origin.insert_or_assign(std::string(key), fmt::format("{}:{}", path, line_no));
  }
  if (auto v = validate(p); !v) return Error{v.error()};
  return p;
}

Result<DriverProfile> load_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("cannot read profile {}: {}: check the path and its permissions", path,
                             std::strerror(errno))};
  }
  std::ostringstream content;
  content << in.rdbuf();
  return parse_profile(content.str(), path, fs::path(path).stem().string());
}

Result<std::vector<DriverProfile>> load_profile_dir(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return Error{fmt::format(
        "cannot open profile directory {}: {}: pass the path of synmill's drivers-config/",
        display_dir(dir), ec.message())};
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : it) {
    if (entry.path().extension() == kProfileSuffix && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<DriverProfile> profiles;
  for (const fs::path& file : files) {
    auto p = load_profile(display_path(dir, file));
    if (!p) return Error{p.error()};
    profiles.push_back(std::move(p).value());
  }
  return profiles;
}

Result<DriverProfile> find_profile(const std::string& dir, std::string_view driver) {
  auto all = load_profile_dir(dir);
  if (!all) return Error{all.error()};
  const DriverProfile* found = nullptr;
  for (const DriverProfile& p : *all) {
    if (std::find(p.match.begin(), p.match.end(), driver) == p.match.end()) continue;
    if (found != nullptr) {
      return Error{fmt::format(
          "driver '{}' is matched by both {} and {}: remove it from one of the 'match' lines",
          driver, found->path, p.path)};
    }
    found = &p;
  }
  if (found == nullptr) {
    const std::string d = display_dir(dir);
    return Error{fmt::format("no profile for driver '{}' in {}: add {}<name>.conf with 'match = {}'",
                             driver, d, d, driver)};
  }
  return *found;
}

Result<std::vector<ProfileOverride>> parse_overrides(std::string_view spec) {
  std::vector<ProfileOverride> out;
  size_t pos = 0;
  while (pos <= spec.size() && !text::trim(spec).empty()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view piece = text::trim(spec.substr(pos, comma - pos));
    pos = comma + 1;
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      if (out.empty()) {
        return Error{fmt::format("override '{}': expected key=value (e.g. rx_desc=512)", piece)};
      }
      out.back().second += ',';
      out.back().second += piece;  // continues a list value: offloads=a,b
      continue;
    }
    const std::string_view key = text::trim(piece.substr(0, eq));
    if (key.empty()) {
      return Error{fmt::format("override '{}': expected key=value (e.g. rx_desc=512)", piece)};
    }
    out.emplace_back(std::string(key), std::string(text::trim(piece.substr(eq + 1))));
  }
  return out;
}

Result<void> apply_overrides(DriverProfile& profile, const std::vector<ProfileOverride>& overrides,
                             std::string_view origin) {
  DriverProfile p = profile;  // all or nothing
  for (const auto& [key, value] : overrides) {
    const std::string where = fmt::format("{} '{}={}'", origin, key, value);
    const ProfileKey* k = find_profile_key(key);
    if (k == nullptr) return Error{fmt::format("{}: {}", where, unknown_key(key))};
    if (value.empty()) {
      return Error{fmt::format("{}: missing value: write '{}=<value>'", where, key)};
    }
    if (auto err = k->set(p, value)) return Error{fmt::format("{}: {}", where, *err)};
    p.origin.insert_or_assign(key, where);
  }
  if (auto v = validate(p); !v) return v;
  profile = std::move(p);
  return {};
}

}  // namespace synmill::dp
