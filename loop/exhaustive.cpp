#include "loop/exhaustive.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "base/budget.h"
#include "base/interrupt.h"
#include "lang/words.h"
#include "saturate/exact_eval.h"
#include "saturate/extract.h"
#include "saturate/probe.h"

namespace saturn::loop {

namespace {

using Clock = std::chrono::steady_clock;

struct LengthPass {
  saturate::Faithfulness::Count count;
  bool model_correct = true, complete = true;
  double margin = INFINITY;
  std::optional<Word> least;  // the first disagreement in symbol order
};

// Every word of length n, in chunks: the model's logits in batches, the circuit's verdicts on
// threads (each thread a contiguous block, so consecutive words share their prefix in the cache).
LengthPass enumerate_length(nets::Transformer<double>& model, const saturate::ExactEvaluator& exact,
                            const Language& language, int k, int n, long total,
                            std::optional<Clock::time_point> deadline) {
  const auto& cfg = model.config();
  const long C = cfg.d_model;
  constexpr int kBatch = 256;
  const long chunk = std::max(1L, std::min({total, 8192L, (64L << 20) / (8 * (n + 2) * C)}));
  require_memory(
      8.0 * chunk * (n + 2) * (C + 8) + 8.0 * kBatch * (n + 2) * cfg.n_layers *
                                            (6.0 * C + cfg.d_ff + 2.0 * cfg.n_heads * (n + 2)),
      "--exhaustive-max", "the exhaustive faithfulness pass");
  LengthPass r;
  std::vector<Example> words(static_cast<std::size_t>(chunk));
  std::vector<saturate::Verdict> verdicts(static_cast<std::size_t>(chunk));
  // One evaluator cache per thread for the whole length (its tables, prefixes and memo serve
  // every chunk; the static schedule keeps each thread on consecutive words).
  std::vector<saturate::ExactEvaluator::Cache> caches(
      static_cast<std::size_t>(omp_get_max_threads()));
  for (long start = 0; start < total; start += chunk) {
    check_interrupt();
    if (deadline && Clock::now() > *deadline) {
      r.complete = false;
      return r;
    }
    const long m = std::min(chunk, total - start);
    words.resize(static_cast<std::size_t>(m));
    for (long i = 0; i < m; ++i) {
      Word w = word_at(start + i, k, n);
      const int label = language.accepts(w) ? 1 : 0;
      words[static_cast<std::size_t>(i)] = {std::move(w), label, std::nullopt};
    }
    const saturate::Outputs out = saturate::run_model(model, words, kBatch);
#pragma omp parallel
    {
      auto& cache = caches[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (long i = 0; i < m; ++i)
        verdicts[static_cast<std::size_t>(i)] =
            exact.verdict(words[static_cast<std::size_t>(i)].word, cache);
    }
    for (long i = 0; i < m; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const double z = out.decision[u];
      const bool model_accepts = z > 0;
      r.margin = std::min(r.margin, std::abs(z));
      r.model_correct = r.model_correct && model_accepts == (words[u].label == 1);
      ++r.count.words;
      if (verdicts[u] == saturate::Verdict::undecided) {
        ++r.count.undecided;
      } else if ((verdicts[u] == saturate::Verdict::accept) == model_accepts) {
        ++r.count.agree;
      } else if (!r.least) {
        r.least = words[u].word;
      }
    }
  }
  return r;
}

// The least disagreement among the probes of length n (sampled lengths).
std::optional<Word> least_probe_disagreement(const saturate::ExactEvaluator& exact,
                                             const std::vector<Example>& probes,
                                             const std::vector<bool>& soft, int n) {
  std::optional<Word> least;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (static_cast<int>(probes[i].word.size()) != n) continue;
    const auto v = exact.run(probes[i].word).verdict;
    if (v == saturate::Verdict::undecided || (v == saturate::Verdict::accept) == soft[i]) continue;
    if (!least || probes[i].word < *least) least = probes[i].word;
  }
  return least;
}

}  // namespace

Exhaustive measure_all_words(const nets::Checkpoint& checkpoint, const saturate::Circuit& circuit,
                             const Language& language, const std::vector<Example>& probes, int lo,
                             int hi, long max_words, std::optional<Clock::time_point> deadline,
                             saturate::Faithfulness& f) {
  const auto started = Clock::now();
  Exhaustive e;
  e.lo = lo, e.hi = hi;
  e.model_correct_up_to = e.circuit_equals_model_up_to = lo - 1;
  const int k = language.alphabet().size();
  nets::Transformer<double> model = saturate::double_model(checkpoint);
  const saturate::ExactEvaluator exact(circuit);
  std::optional<std::vector<bool>> soft;  // the model on the probes, for sampled lengths
  bool all_so_far = true, model_so_far = true, circuit_so_far = true;
  Progress progress("extract: all words");
  for (int n = lo; n <= hi; ++n) {
    const long total = max_words > 0 ? count_words(k, n, max_words) : max_words + 1;
    bool enumerated = false;
    if (max_words > 0 && total <= max_words && !e.out_of_time) {
      progress.update(fmt::format("length {} ({} words)", n, total));
      LengthPass r = enumerate_length(model, exact, language, k, n, total, deadline);
      if (r.complete) {
        enumerated = true;
        e.words += r.count.words;
        f.per_length[n] = r.count;
        e.model_margin = std::min(e.model_margin.value_or(INFINITY), r.margin);
        model_so_far = model_so_far && r.model_correct;
        circuit_so_far = circuit_so_far && r.count.agree == r.count.words && r.count.undecided == 0;
        if (all_so_far && model_so_far) e.model_correct_up_to = n;
        if (all_so_far && circuit_so_far) e.circuit_equals_model_up_to = n;
        if (!e.least_disagreement && r.least)
          e.least_disagreement = r.least, e.least_is_least = all_so_far;
      } else {
        e.out_of_time = true;
      }
    }
    e.method[n] = enumerated ? "all" : "sampled";
    if (!enumerated) {
      all_so_far = false;
      if (!e.least_disagreement && f.per_length.count(n)) {
        if (!soft) soft = saturate::soft_decisions(checkpoint, probes);
        e.least_disagreement = least_probe_disagreement(exact, probes, *soft, n);
      }
    }
  }
  e.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return e;
}

}  // namespace saturn::loop
