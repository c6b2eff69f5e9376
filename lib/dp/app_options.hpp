#pragma once
// The table of synmill's options: one entry per option, shared by the command
// line (--name VALUE, --name=VALUE), the config file (name = value), --help,
// and describe_config(). Adding an option is adding a row in app_options.cpp.
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace synmill::dp {

struct AppConfig;

enum class OptionKind : uint8_t {
  kValue,  // takes a value; later occurrences override earlier ones
  kFlag,   // no value on the command line; `name = true|false` in a file
  kList,   // takes a value and may repeat; values accumulate
};

struct AppOption {
  std::string_view name;     // "addr": --addr on the command line, addr in a file
  std::string_view metavar;  // "A/P"; empty for flags
  std::string_view help;     // one line; --help appends the default
  std::string_view section;  // heading it is listed under in --help
  OptionKind kind = OptionKind::kValue;
  // Stores `value` (trimmed; "true" or "false" for flags). Returns why it was
  // rejected, e.g. "bad number 'x': expected a whole number in 1..65535".
  std::optional<std::string> (*set)(AppConfig& cfg, std::string_view value) = nullptr;
  // The current value, in the syntax `set` accepts (lists joined with ',').
  std::string (*show)(const AppConfig& cfg) = nullptr;
  // Empties a list option (the command line replaces the file's list).
  void (*clear)(AppConfig& cfg) = nullptr;
  bool command_line_only = false;  // --config, --help
};

std::span<const AppOption> app_options();
std::span<const std::string_view> app_option_names();
const AppOption* find_app_option(std::string_view name);

}  // namespace synmill::dp
