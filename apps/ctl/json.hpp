#pragma once
// DPDK telemetry replies as the views read them: nlohmann-json parses
// (ordered_json: objects keep their key order; 64-bit unsigned counters are
// exact) and the tree is handed over as Json, numbers as their decimal text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synmill::ctl {

struct Json {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;               // a string's value or a number's digits
  std::vector<std::string> keys;  // object: keys[i] names items[i]
  std::vector<Json> items;        // array elements or object values

  bool is_null() const { return kind == Kind::kNull; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  // The member named `key`, or nullptr.
  const Json* get(std::string_view key) const;
  // A number (or numeric string) as an integer; `fallback` otherwise.
  uint64_t u64(uint64_t fallback = 0) const;
  int64_t i64(int64_t fallback = 0) const;
  // A scalar as text: strings as they are, numbers as written, true/false/null.
  std::string scalar() const;
};

// Parses one JSON value (surrounding blanks allowed); nothing and a one-line
// reason in `error` if the text is not JSON.
std::optional<Json> parse_json(std::string_view text, std::string& error);

}  // namespace synmill::ctl
