#include "nets/batch.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/error.h"
#include "base/interrupt.h"

namespace saturn::nets {

template <class T>
Batch<T> make_batch(const std::vector<const Example*>& examples, int k, Objective objective) {
  Batch<T> b;
  b.B = static_cast<int>(examples.size());
  std::size_t longest = 0;
  for (const Example* e : examples) longest = std::max(longest, e->word.size());
  b.Tn = static_cast<int>(longest) + 2;
  const int BOS = k, EOS = k + 1;
  b.tokens.assign(static_cast<std::size_t>(b.B) * b.Tn, EOS);  // padding: any valid id, masked out
  b.lengths.resize(b.B);
  const int outputs = k + 1;
  if (objective == Objective::recognize) {
    b.targets.resize(b.B);
  } else {
    b.targets.assign(static_cast<std::size_t>(b.B) * b.Tn * outputs, T(0));
    b.mask.assign(b.targets.size(), T(0));
  }
  for (int i = 0; i < b.B; ++i) {
    const Example& e = *examples[i];
    const int n = static_cast<int>(e.word.size());
    int* row = b.tokens.data() + static_cast<std::size_t>(i) * b.Tn;
    row[0] = BOS;
    for (int t = 0; t < n; ++t) row[t + 1] = e.word[t];
    row[n + 1] = EOS;
    b.lengths[i] = n + 2;
    if (objective == Objective::recognize) {
      b.targets[i] = static_cast<T>(e.label);
      continue;
    }
    if (!e.next)
      throw InputError("next-symbol objective needs next-symbol targets (sample with --next)");
    // Position t (token BOS or w_t) reads the prefix w[:t], t = 0..n.
    for (int t = 0; t <= n; ++t) {
      T* target = b.targets.data() + (static_cast<std::size_t>(i) * b.Tn + t) * outputs;
      T* mask = b.mask.data() + (static_cast<std::size_t>(i) * b.Tn + t) * outputs;
      for (Symbol s : e.next->next[t]) target[s] = T(1);
      target[k] = e.next->prefix_accepted[t] ? T(1) : T(0);
      std::fill(mask, mask + outputs, T(1));
    }
  }
  return b;
}

template <class T>
Batch<T> make_label_batch(const std::vector<Word>& words,
                          const std::vector<std::vector<int>>& labels, int k) {
  if (labels.size() != words.size())
    throw InputError(
        fmt::format("label batch: {} words but {} label lists", words.size(), labels.size()));
  std::vector<Example> examples(words.size());
  std::vector<const Example*> ptrs;
  for (std::size_t i = 0; i < words.size(); ++i)
    examples[i].word = words[i], ptrs.push_back(&examples[i]);
  // Tokens and lengths as for recognition; the targets are replaced below.
  Batch<T> b = make_batch<T>(ptrs, k, Objective::recognize);
  b.targets.assign(static_cast<std::size_t>(b.B) * b.Tn, T(0));
  b.mask.assign(b.targets.size(), T(0));
  for (int i = 0; i < b.B; ++i) {
    const auto& y = labels[i];
    if (static_cast<int>(y.size()) != b.lengths[i])
      throw InputError(fmt::format("label batch: word {} has {} positions but {} labels", i,
                                   b.lengths[i], y.size()));
    for (int t = 0; t < b.lengths[i]; ++t) {
      if (y[t] < 0) continue;
      if (y[t] >= k)
        throw InputError(fmt::format("label batch: class {} at word {} position {} is not below {}",
                                     y[t], i, t, k));
      const std::size_t at = static_cast<std::size_t>(i) * b.Tn + t;
      b.targets[at] = static_cast<T>(y[t]);
      b.mask[at] = T(1);
    }
  }
  return b;
}

void forward_in_batches(
    Transformer<float>& model, const std::vector<Example>& examples,
    const std::function<void(const Batch<float>& batch, std::size_t first, float loss)>& fn) {
  for (std::size_t at = 0; at < examples.size(); at += kEvalBatch) {
    check_interrupt();
    std::vector<const Example*> ptrs;
    for (std::size_t i = at; i < std::min(examples.size(), at + kEvalBatch); ++i)
      ptrs.push_back(&examples[i]);
    const auto batch = make_batch<float>(ptrs, model.num_symbols(), model.config().objective);
    const float loss = model.forward(batch);
    fn(batch, at, loss);
  }
}

template Batch<float> make_batch<float>(const std::vector<const Example*>&, int, Objective);
template Batch<double> make_batch<double>(const std::vector<const Example*>&, int, Objective);
template Batch<float> make_label_batch<float>(const std::vector<Word>&,
                                              const std::vector<std::vector<int>>&, int);
template Batch<double> make_label_batch<double>(const std::vector<Word>&,
                                                const std::vector<std::vector<int>>&, int);

}  // namespace saturn::nets
