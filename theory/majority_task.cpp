#include "theory/majority_task.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/interrupt.h"
#include "nets/batch.h"
#include "nets/optim.h"

namespace saturn::theory {

Majority majority_of(const Word& w, int classes) {
  std::vector<int> count(classes, 0);
  for (Symbol s : w) ++count[s];
  Majority m;
  int runner_up = -1;
  for (int c = 0; c < classes; ++c) {
    if (count[c] > count[m.symbol]) {
      runner_up = count[m.symbol], m.symbol = c;
    } else if (c != m.symbol) {
      runner_up = std::max(runner_up, count[c]);
    }
  }
  m.lead = count[m.symbol] - std::max(runner_up, 0);
  return m;
}

Word sample_majority_word(const MajorityTask& task, Rng& rng) {
  if (task.classes < 2 || task.length < task.margin || task.margin < 1)
    throw InputError(fmt::format("majority task: {} classes, length {}, margin {} has no words",
                                 task.classes, task.length, task.margin));
  std::uniform_int_distribution<int> symbol(0, task.classes - 1), position(0, task.length - 1);
  Word w(task.length);
  for (Symbol& s : w) s = static_cast<Symbol>(symbol(rng));
  const int winner = symbol(rng);
  std::vector<int> count(task.classes, 0);
  for (Symbol s : w) ++count[s];
  auto lead = [&] {
    int other = 0;
    for (int c = 0; c < task.classes; ++c)
      if (c != winner) other = std::max(other, count[c]);
    return count[winner] - other;
  };
  while (lead() < task.margin) {
    const int at = position(rng);
    if (w[at] == winner) continue;
    --count[w[at]], ++count[winner];
    w[at] = static_cast<Symbol>(winner);
  }
  return w;
}

std::vector<int> majority_labels(const Word& w, int classes) {
  std::vector<int> labels(w.size() + 2, majority_of(w, classes).symbol);
  labels.front() = labels.back() = -1;
  return labels;
}

AttentionUniformity attention_uniformity(nets::Transformer<float>& model,
                                         const std::vector<Word>& words) {
  const int k = model.num_symbols(), C = model.config().d_model, H = model.config().n_heads;
  model.set_introspection(true);
  const float* wk = model.param("layers.0.attn.wqkv") + static_cast<std::size_t>(C) * C;
  AttentionUniformity u;
  long rows = 0, query_rows = 0;
  for (std::size_t at = 0; at < words.size(); at += 64) {
    const std::vector<Word> part(words.begin() + at,
                                 words.begin() + std::min(words.size(), at + 64));
    std::vector<std::vector<int>> labels;
    for (const Word& w : part) labels.push_back(majority_labels(w, k));
    const auto batch = nets::make_label_batch<float>(part, labels, k);
    model.forward(batch);
    const auto& att = model.attention_weights(0);          // (B, H, Tn, Tn)
    const float* qkv = model.layer_states(0).qkv->data();  // (B, Tn, 3C): [q | k | v]
    const int Tn = batch.Tn;
    for (int b = 0; b < batch.B; ++b) {
      const int n = batch.lengths[b];    // visible keys: the whole sequence (no causal mask)
      for (int t = 1; t + 1 < n; ++t) {  // the labelled positions (the word's symbols)
        for (int h = 0; h < H; ++h) {
          const float* a = att.data() + ((static_cast<std::size_t>(b) * H + h) * Tn + t) * Tn;
          double entropy = 0, tv = 0;
          for (int j = 0; j < n; ++j) {
            if (a[j] > 0) entropy -= a[j] * std::log(static_cast<double>(a[j]));
            tv += std::fabs(a[j] - 1.0 / n);
          }
          u.entropy += entropy / std::log(static_cast<double>(n));
          u.total_variation += tv / 2;
          ++rows;
        }
        // The effective query of the (single) head: u = W_K^T q, W_K rows C..2C of wqkv.
        const float* q = qkv + (static_cast<std::size_t>(b) * Tn + t) * 3 * C;
        double dot1 = 0, norm2 = 0;
        for (int col = 0; col < C; ++col) {
          double e = 0;
          for (int row = 0; row < C; ++row) e += double(wk[row * C + col]) * q[row];
          dot1 += e, norm2 += e * e;
        }
        const double cosine = norm2 > 0 ? std::fabs(dot1) / std::sqrt(norm2 * C) : 0.0;
        u.query_angle_deg += std::acos(std::min(1.0, cosine)) * 180 / M_PI;
        ++query_rows;
      }
    }
  }
  if (rows) u.entropy /= rows, u.total_variation /= rows;
  if (query_rows) u.query_angle_deg /= query_rows;
  return u;
}

MajorityRun train_majority(const nets::ModelConfig& config, const MajorityTask& task,
                           const MajorityTraining& training) {
  if (config.objective != nets::Objective::label)
    throw InputError("majority task: the model's objective must be label");
  const int k = task.classes;
  nets::require_model_memory(config, k, training.batch_size, task.length + 2, true,
                             "the majority task's batch");
  nets::Transformer<float> model(config, k);
  model.init();
  Rng rng(training.seed * 0x9E3779B97F4A7C15ull + 17);
  Rng eval_rng(training.seed * 0x9E3779B97F4A7C15ull + 1000003);
  std::vector<Word> eval_words;
  for (int i = 0; i < training.eval_words; ++i)
    eval_words.push_back(sample_majority_word(task, eval_rng));
  MajorityRun run;
  run.at_init = attention_uniformity(model, eval_words);
  model.set_introspection(false);
  nets::OptimizerConfig oc;
  oc.lr = training.lr;
  oc.total_steps = training.steps;
  nets::Optimizer optimizer(oc, model.params.size());
  std::vector<Word> words(training.batch_size);
  std::vector<std::vector<int>> labels(training.batch_size);
  auto accuracy = [&](const nets::Batch<float>& b, long* all_right) {
    long right = 0, total = 0;
    const auto& z = model.logits();  // (B, Tn, k)
    for (int i = 0; i < b.B; ++i) {
      bool word_right = true;
      for (int t = 0; t < b.Tn; ++t) {
        const std::size_t r = static_cast<std::size_t>(i) * b.Tn + t;
        if (b.mask[r] == 0) continue;
        const float* row = z.data() + r * k;
        const bool ok = std::max_element(row, row + k) - row == static_cast<long>(b.targets[r]);
        right += ok, ++total, word_right = word_right && ok;
      }
      if (all_right) *all_right += word_right;
    }
    return total ? double(right) / total : 0.0;
  };
  for (int step = 1; step <= training.steps; ++step) {
    check_interrupt();
    for (int i = 0; i < training.batch_size; ++i) {
      words[i] = sample_majority_word(task, rng);
      labels[i] = majority_labels(words[i], k);
    }
    const auto batch = nets::make_label_batch<float>(words, labels, k);
    const float loss = model.forward(batch);
    run.train_accuracy.push_back(accuracy(batch, nullptr));
    run.loss.push_back(loss);
    model.zero_grad();
    model.backward(batch);
    optimizer.step(model.params, model.grads);
  }
  long words_right = 0;
  double right = 0;
  long rows = 0;
  for (std::size_t at = 0; at < eval_words.size(); at += 64) {
    const std::vector<Word> part(eval_words.begin() + at,
                                 eval_words.begin() + std::min(eval_words.size(), at + 64));
    std::vector<std::vector<int>> part_labels;
    for (const Word& w : part) part_labels.push_back(majority_labels(w, k));
    const auto batch = nets::make_label_batch<float>(part, part_labels, k);
    model.forward(batch);
    const long labelled = static_cast<long>(part.size()) * task.length;
    right += accuracy(batch, &words_right) * labelled;
    rows += labelled;
  }
  run.test_accuracy = rows ? right / rows : 0.0;
  run.word_accuracy = eval_words.empty() ? 0.0 : double(words_right) / eval_words.size();
  run.trained = attention_uniformity(model, eval_words);
  return run;
}

}  // namespace saturn::theory
