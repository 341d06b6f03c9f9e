// Faithfulness over every word of a length: the exact circuit against the trained model, and the
// trained model against the language, on all k^n words of each length n whose count is within a
// budget; lengths beyond it keep the sampled probes. A probe set says how often circuit and model
// agree on typical words; all words say whether they agree on every one (issue 24 §2).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lang/dataset.h"
#include "lang/language.h"
#include "nets/checkpoint.h"
#include "saturate/circuit.h"

namespace saturn::loop {

struct Exhaustive {
  int lo = 0, hi = 0;                      // the lengths measured (probes' lengths)
  std::map<int, std::string> method;       // per length: "all" or "sampled"
  std::optional<Word> least_disagreement;  // shortlex least word where circuit != model
  bool least_is_least = false;             // every shorter word was enumerated
  // Every word of lengths lo..N was enumerated and the model decides it as the language does
  // (lo - 1: none); the smallest |accept logit| on the enumerated words (none enumerated: empty).
  int model_correct_up_to = -1;
  std::optional<double> model_margin;
  // Every word of lengths lo..N was enumerated and the exact circuit decides it as the model.
  int circuit_equals_model_up_to = -1;
  long words = 0;            // enumerated
  bool out_of_time = false;  // the deadline stopped enumeration: later lengths are sampled
  double seconds = 0;
};

// Lengths lo..hi: where k^n <= max_words (and before `deadline`, if any), every word of length n
// goes through the model (batched double-precision forward passes) and the exact circuit (OpenMP
// threads), and f.per_length[n] is replaced by the counts over all words; elsewhere the counts of
// `probes` stay and the least disagreement among the probes of that length is looked up. Checks
// the memory a chunk needs against the budget first (LimitError). O(sum of k^n * forward cost).
Exhaustive measure_all_words(const nets::Checkpoint& checkpoint, const saturate::Circuit& circuit,
                             const Language& language, const std::vector<Example>& probes, int lo,
                             int hi, long max_words,
                             std::optional<std::chrono::steady_clock::time_point> deadline,
                             saturate::Faithfulness& f);

}  // namespace saturn::loop
