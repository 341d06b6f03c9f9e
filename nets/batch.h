// Words to a padded batch: [BOS] w [EOS] then padding; targets for recognition (the label)
// or next-symbol prediction (for each prefix: allowed next symbols, and "end" = accepted).
#pragma once

#include <functional>
#include <vector>

#include "lang/dataset.h"
#include "nets/model.h"

namespace saturn::nets {

// Examples need `next` targets for the next-symbol objective (InputError otherwise).
template <class T>
Batch<T> make_batch(const std::vector<const Example*>& examples, int num_symbols,
                    Objective objective);

// The label objective's batch: words[i] with labels[i] (one per position of [BOS] w [EOS], so
// word length + 2 entries; -1 leaves a position unlabelled, else a class in 0..k-1).
// InputError when a label list has the wrong length or a class out of range.
template <class T>
Batch<T> make_label_batch(const std::vector<Word>& words,
                          const std::vector<std::vector<int>>& labels, int num_symbols);

// `saturn eval --data`'s pass over a list of words, which the Python package's Model.forward
// runs too (so that both give the same bits): the examples in batches of kEvalBatch, in order;
// after each batch's forward, fn(batch, index of its first example, the batch's loss) with its
// outputs in model.logits(). Polls Ctrl-C between batches.
inline constexpr std::size_t kEvalBatch = 64;
void forward_in_batches(
    Transformer<float>& model, const std::vector<Example>& examples,
    const std::function<void(const Batch<float>& batch, std::size_t first, float loss)>& fn);

}  // namespace saturn::nets
