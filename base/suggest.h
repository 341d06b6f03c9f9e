// "Did you mean ...?" for unknown keys and names: the nearest candidates by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saturn {

// Levenshtein distance. O(|a| |b|) time, O(|b|) memory.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates nearest to `key` (all of them at the least distance, at most three, in the
// candidates' order) when within a third of the key's length (at least 2 edits); else none.
std::vector<std::string> nearest_names(std::string_view key,
                                       const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or " (did you mean 'x' or 'y'?)" for nearest_names, else "".
std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates);

}  // namespace saturn
