#include "ctl/json.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace synmill::ctl {
namespace {

constexpr int kMaxDepth = 32;

// nlohmann's tree (keys in document order) as the Json the views read.
bool convert(const nlohmann::ordered_json& j, Json& v, int depth, std::string& error) {
  if (depth > kMaxDepth) {
    error = "nested too deep";
    return false;
  }
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: v.kind = Json::Kind::kNull; return true;
    case T::boolean:
      v.kind = Json::Kind::kBool;
      v.boolean = j.get<bool>();
      return true;
    case T::number_unsigned:
      v.kind = Json::Kind::kNumber;
      v.text = std::to_string(j.get<uint64_t>());
      return true;
    case T::number_integer:
      v.kind = Json::Kind::kNumber;
      v.text = std::to_string(j.get<int64_t>());
      return true;
    case T::number_float:
      v.kind = Json::Kind::kNumber;
      v.text = j.dump();
      return true;
    case T::string:
      v.kind = Json::Kind::kString;
      v.text = j.get<std::string>();
      return true;
    case T::array:
      v.kind = Json::Kind::kArray;
      for (const auto& item : j) {
        v.items.emplace_back();
        if (!convert(item, v.items.back(), depth + 1, error)) return false;
      }
      return true;
    case T::object:
      v.kind = Json::Kind::kObject;
      for (const auto& [key, item] : j.items()) {
        v.keys.push_back(key);
        v.items.emplace_back();
        if (!convert(item, v.items.back(), depth + 1, error)) return false;
      }
      return true;
    case T::binary:
    case T::discarded: break;
  }
  error = "not JSON";
  return false;
}

}  // namespace

const Json* Json::get(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

uint64_t Json::u64(uint64_t fallback) const {
  if (kind != Kind::kNumber && kind != Kind::kString) return fallback;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc{} && end == text.data() + text.size() ? v : fallback;
}

int64_t Json::i64(int64_t fallback) const {
  if (kind != Kind::kNumber && kind != Kind::kString) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc{} && end == text.data() + text.size() ? v : fallback;
}

std::string Json::scalar() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return boolean ? "true" : "false";
    case Kind::kNumber:
    case Kind::kString: return text;
    case Kind::kArray: {
      std::string out;
      for (const Json& i : items) out += (out.empty() ? "" : ", ") + i.scalar();
      return out;
    }
    case Kind::kObject: return "{...}";
  }
  return {};
}

std::optional<Json> parse_json(std::string_view text, std::string& error) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error
    // while parsing value - ..." without the bracketed tag.
    const std::string what = e.what();
    const size_t tag = what.find("] ");
    error = tag == std::string::npos ? what : what.substr(tag + 2);
    return std::nullopt;
  }
  Json v;
  if (!convert(j, v, 0, error)) return std::nullopt;
  return v;
}

}  // namespace synmill::ctl
