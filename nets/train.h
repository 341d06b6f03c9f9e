// Training on a language with fresh exact samples every step (lang's Sampler), evaluation
// per length in and out of the training range, checkpoints, resume.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "lang/sample.h"
#include "nets/model.h"
#include "nets/run_config.h"

namespace saturn::nets {

// Accuracy of a recognizer per length: (correct, total) pairs.
struct EvalResult {
  std::map<int, std::pair<long, long>> per_length;
  double accuracy() const;
  double accuracy(int lo, int hi) const;  // over lengths in [lo, hi]
};

// K accepted and K rejected uniform words per length in [lo, hi] (a class with no words at a
// length is skipped), or every word of each length when exhaustive. Next-symbol models: K
// accepted words per length, each right when at every position the predicted set of next
// outputs (z > 0) is exactly the legal one (continuations within lengths <= hi).
// `negatives`: how the rejected words are drawn (uniform; near-miss: one edit from an accepted
// word, uniform where a length has none; mixed: alternately).
EvalResult evaluate(Transformer<float>& model, Sampler& sampler, int lo, int hi, int per_length,
                    bool exhaustive, std::uint64_t seed, int batch_size = 64,
                    Negatives negatives = Negatives::uniform);

// What train() draws each step: half accepted and half rejected words (recognition; accepted
// words only for next-symbol), each length uniform over the training lengths that have words
// of its class, negatives as the config says. Also used for one-batch gradients (inspect,
// theory/). Throws InputError when the training lengths have no accepted word.
class BatchDrawer {
 public:
  BatchDrawer(Sampler& sampler, const RunConfig& config);
  // Overwrites examples[0..size) with one batch.
  void draw(std::vector<Example>& examples, Rng& rng);
  bool has_negatives() const { return !negative_lengths_.empty(); }

 private:
  Sampler& sampler_;
  Objective objective_;
  Negatives negatives_;
  int train_hi_ = 0;
  std::vector<int> positive_lengths_, negative_lengths_;
};

struct TrainSummary {
  long steps = 0;
  bool already_finished = false;  // --resume of a finished run: nothing was done
  double final_loss = 0, train_accuracy = 0;
  double in_range_accuracy = 0, out_of_range_accuracy = 0;
  double seconds = 0;                        // wall time, evaluations and checkpoints included
  double steps_per_s = 0, tokens_per_s = 0;  // over the training steps alone
  // The whole call: start-up, sampler tables, initialisation, checkpoints and evaluations.
  double process_seconds = 0, process_steps_per_s = 0;
  long peak_rss_kb = 0;
};

struct TrainOptions {
  std::filesystem::path out;  // run directory
  bool resume = false;        // continue from the last checkpoint in `out`
  bool quiet = false;         // no progress output
  bool overwrite = false;    // remove an old run in `out` first (else a non-empty `out` is refused)
  bool check_labels = true;  // a data file's labels must be the language's verdicts
  // Called with each line appended to metrics.jsonl (a training step's, an evaluation's), as
  // JSON text, right after it is written: a progress hook (python/'s train(progress=...)). It
  // may throw to stop training; the run is then resumable, as after Ctrl-C.
  std::function<void(const std::string&)> on_metrics{};
};

// Trains and writes config.toml, metrics.jsonl, ckpt-STEP.safetensors and summary.json. The run
// directory is locked for the whole call (nets/run_dir.h). Killed at any moment and resumed,
// the run ends with the same checkpoints and metrics (but the wall-clock fields) as an
// uninterrupted one. Ctrl-C stops it between steps (throws Interrupted).
TrainSummary train(std::shared_ptr<const Language> language, RunConfig config,
                   const TrainOptions& options);

// "Is this language learnable?": K seeds trained into DIR/seed-S, then each final model
// evaluated per length in and out of the training range on the same fresh test words.
struct LearnabilityReport {
  std::vector<std::uint64_t> seeds;
  std::vector<EvalResult> in_range, out_of_range;  // per seed
  double best_in = 0, median_in = 0, best_out = 0, median_out = 0;
  // FLaRe reports the max (expressivity) and the mean (inductive bias) over seeds.
  double mean_in = 0, mean_out = 0;
  // The Chomsky-hierarchy benchmark's score: per seed, the mean over the test lengths of each
  // length's accuracy (lengths weigh equally, whatever their word counts); the max over seeds.
  double ch_score = 0;
};
// Per seed: the mean over lengths of the per-length accuracies.
double mean_over_lengths(const EvalResult& r);
LearnabilityReport learnability(std::shared_ptr<const Language> language, const RunConfig& config,
                                int seeds, const std::filesystem::path& out, int eval_per_length,
                                bool quiet, bool overwrite = false);

}  // namespace saturn::nets
