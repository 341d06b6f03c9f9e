// Brody et al. (2023)'s majority task (Sec. 4.1, "Computing Majority"): words over `classes`
// symbols, every position labelled with the word's majority class, the winner ahead of the
// runner-up by at least `margin`. Trained with nets' per-position multi-class objective
// (nets::Objective::label) by a loop of its own, and measured on the attention itself.
#pragma once

#include <cstdint>
#include <vector>

#include "lang/sample.h"
#include "nets/model.h"

namespace saturn::theory {

struct MajorityTask {
  int classes = 20, length = 50, margin = 6;
};

// The most frequent symbol of w (the smallest on a tie) and its lead over the runner-up (0 on a
// tie). O(|w| + classes).
struct Majority {
  int symbol = 0, lead = 0;
};
Majority majority_of(const Word& w, int classes);

// A word of task.length symbols with a lead >= task.margin: uniform symbols, then a uniform
// winner written over uniform positions (not already the winner) until its lead reaches the
// margin. Consumes only `rng`.
Word sample_majority_word(const MajorityTask& task, Rng& rng);

// One label per position of [BOS] w [EOS] (nets::make_label_batch): the majority class at every
// symbol, -1 (unlabelled) at BOS and EOS.
std::vector<int> majority_labels(const Word& w, int classes);

// How uniform layer 0's attention is, averaged over every (word, head, labelled position) row:
// the normalised entropy H(a) / log(n) (1 exactly for uniform attention over the n visible keys)
// and the total variation distance from uniform, (1/2) sum |a_j - 1/n| (0 for uniform).
struct AttentionUniformity {
  double entropy = 0, total_variation = 0;
  // The folded angle (degrees, in [0, 90]) between the effective query W_K^T q of each labelled
  // position and the all-ones vector, mean over rows (Brody et al.'s diagnostic; head 0).
  double query_angle_deg = 0;
};
// Forward passes with introspection over `words` (batches of 64). Leaves introspection on.
AttentionUniformity attention_uniformity(nets::Transformer<float>& model,
                                         const std::vector<Word>& words);

struct MajorityTraining {
  int steps = 400, batch_size = 32;
  double lr = 1e-3;
  std::uint64_t seed = 0;  // the words (the model's init comes from its config's seed)
  int eval_words = 256;    // fresh words for the final accuracy and the uniformity
};
struct MajorityRun {
  std::vector<double> train_accuracy, loss;  // per step: the step's batch before its update
  double test_accuracy = 0;                  // per labelled position, on eval_words fresh words
  double word_accuracy = 0;                  // words with every position right
  AttentionUniformity at_init, trained;      // on the same fresh words
};
// Adam (no clipping, constant lr) on fresh words every step; config.objective must be label
// and the model single-threaded inside (callers run seeds in parallel).
MajorityRun train_majority(const nets::ModelConfig& config, const MajorityTask& task,
                           const MajorityTraining& training);

}  // namespace saturn::theory
