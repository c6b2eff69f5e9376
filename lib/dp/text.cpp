#include "dp/text.hpp"

#include <algorithm>
#include <numeric>

namespace synmill::dp::text {

std::vector<SettingLine> setting_lines(std::string_view file_text) {
  std::vector<SettingLine> out;
  size_t no = 0;
  size_t pos = 0;
  while (pos <= file_text.size()) {
    size_t eol = file_text.find('\n', pos);
    if (eol == std::string_view::npos) eol = file_text.size();
    std::string_view line = file_text.substr(pos, eol - pos);
    pos = eol + 1;
    ++no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (!line.empty()) out.push_back(SettingLine{no, line});
  }
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\n";
  const size_t first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(kBlank);
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split_list(std::string_view s) {
  constexpr std::string_view kSeparators = ", \t";
  std::vector<std::string_view> items;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = s.find_first_not_of(kSeparators, pos);
    if (start == std::string_view::npos) break;
    size_t end = s.find_first_of(kSeparators, start);
    if (end == std::string_view::npos) end = s.size();
    items.push_back(s.substr(start, end - start));
    pos = end;
  }
  return items;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 3;  // accept distances 0..2
  for (std::string_view c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance && 2 * d < std::max(word.size(), c.size())) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  const auto best = closest(word, candidates);
  if (!best) return {};
  return " (did you mean '" + std::string(*best) + "'?)";
}

std::string join(std::span<const std::string_view> items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace synmill::dp::text
