#include "base/suggest.h"

#include <fmt/format.h>

#include <algorithm>

namespace saturn {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> nearest_names(std::string_view key,
                                       const std::vector<std::string>& candidates) {
  if (key.size() > 200) return {};  // the quadratic distance stays cheap
  const std::size_t limit = std::max<std::size_t>(2, key.size() / 3);
  std::vector<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(key, c);
    if (d > limit) continue;
    if (d < best_distance) best.clear(), best_distance = d;
    if (d == best_distance && best.size() < 3 &&
        std::find(best.begin(), best.end(), c) == best.end())
      best.push_back(c);
  }
  return best;
}

std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates) {
  const auto best = nearest_names(key, candidates);
  if (best.empty()) return "";
  std::string names;
  for (std::size_t i = 0; i < best.size(); ++i)
    names += fmt::format("{}'{}'", i == 0 ? "" : i + 1 == best.size() ? " or " : ", ", best[i]);
  return fmt::format(" (did you mean {}?)", names);
}

}  // namespace saturn
