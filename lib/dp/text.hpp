#pragma once
// Small string helpers for the configuration parsers in lib/dp.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synmill::dp::text {

// Removes leading and trailing spaces and tabs (and a trailing '\r').
std::string_view trim(std::string_view s);

// One meaningful line of a `key = value` file: comment ('#' to the end) cut,
// blanks trimmed, empty lines skipped; `no` counts from 1.
struct SettingLine {
  size_t no = 0;
  std::string_view text;
};
std::vector<SettingLine> setting_lines(std::string_view file_text);

// Splits a list on commas and/or blanks; empty items are dropped.
std::vector<std::string_view> split_list(std::string_view s);

// Levenshtein distance between a and b.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is plausibly a typo of it (distance at
// most 2, and less than half the word's length), else nothing.
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

// " (did you mean 'x'?)" for the closest candidate, or "" if none is close.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

// "a, b, c"
std::string join(std::span<const std::string_view> items, std::string_view sep = ", ");

}  // namespace synmill::dp::text
