// "Did you mean ...?" for unknown keys and names: the nearest candidate by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saturn {

// Levenshtein distance. O(|a| |b|) time, O(|b|) memory.
std::size_t edit_distance(std::string_view a, std::string_view b);

// " (did you mean 'x'?)" when a candidate is within a third of the key's length (at least 2
// edits), else "".
std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates);

}  // namespace saturn
