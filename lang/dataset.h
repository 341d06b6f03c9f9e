// Datasets: for each length in A..B, K positives and K negatives drawn exactly from a
// language, deterministic for a seed. JSON Lines rendering for `saturn lang sample`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "base/names.h"
#include "lang/sample.h"

namespace saturn {

enum class Negatives { none, uniform, near_miss, mixed };
inline constexpr std::array<const char*, 4> kNegativesNames = {"none", "uniform", "near-miss",
                                                               "mixed"};
inline const char* to_string(Negatives n) {
  return name_of(kNegativesNames, n);
}

struct DatasetOptions {
  int min_length = 0, max_length = 0;
  int per_length = 0;
  Negatives negatives = Negatives::none;
  bool distinct = false;     // without replacement, capped at what exists
  bool next = false;         // attach next-symbol targets
  int next_max_length = -1;  // bound for next-symbol targets; -1: max_length
  std::uint64_t seed = 0;
};

struct Example {
  Word word;
  int label = 0;  // 1 accepted, 0 rejected
  std::optional<NextTargets> next;
};

struct Dataset {
  std::vector<Example> examples;
  std::vector<std::string> notes;  // lengths skipped, caps applied: for stderr
};

// The longest --next-max-length: next-symbol targets look this far ahead from every prefix.
inline constexpr int kMaxNextLength = 100000;

// Throws InputError / LimitError for options out of range or over the memory budget.
void check_dataset_options(const DatasetOptions& options);

// Positives then negatives, per length in increasing order, each handed to `sink` as it is
// drawn (so a dataset of any size streams); returns the notes (lengths skipped, caps applied).
// Progress on a terminal; Ctrl-C stops it.
std::vector<std::string> generate_dataset(Sampler& sampler, const DatasetOptions& options,
                                          const std::function<void(Example&&)>& sink);
// The same, collected.
Dataset make_dataset(Sampler& sampler, const DatasetOptions& options);

// One JSON object: {"word": "(())", "length": 4, "label": 1[, "next": [...], "prefix_accepted":
// [...]]}
std::string to_json_line(const Example& example, const Alphabet& alphabet);

// Reads a JSONL file written by `saturn lang sample` (the inverse of to_json_line); errors
// name file:line and the field or symbol. Labels are 0 or 1, never coerced; a word longer than
// max_length (>= 0) is refused; the examples are held against the memory budget. With
// `check_against`, every label must be the language's verdict on the word: a mislabelled line
// is refused, naming it (callers offer --no-check-labels for deliberately noisy data).
std::vector<Example> read_json_lines(const std::string& path, const Alphabet& alphabet,
                                     int max_length = -1, const Language* check_against = nullptr);
// The same from a stream; `source` names it in messages.
std::vector<Example> read_json_lines(std::istream& in, const std::string& source,
                                     const Alphabet& alphabet, int max_length = -1,
                                     const Language* check_against = nullptr);

// "A:B" (or "A") to a length range; throws InputError naming `flag`.
std::pair<int, int> parse_length_range(const std::string& text, const std::string& flag);

}  // namespace saturn
