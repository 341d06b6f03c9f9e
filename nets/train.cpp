#include "nets/train.h"

#include <fmt/format.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/lines.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"

namespace saturn::nets {

double EvalResult::accuracy() const {
  return accuracy(INT32_MIN, INT32_MAX);
}

double EvalResult::accuracy(int lo, int hi) const {
  long correct = 0, total = 0;
  for (const auto& [n, ct] : per_length)
    if (n >= lo && n <= hi) correct += ct.first, total += ct.second;
  return total ? static_cast<double>(correct) / total : 0.0;
}

namespace {

using Clock = std::chrono::steady_clock;

// Runs the model on examples in batches; counts correct accept/reject decisions per length.
// Recognition: a word is right when the sign of its logit is its label. Next-symbol
// prediction: when at every position the predicted set {o : z_o > 0} is exactly the set of
// legal next outputs (Bhattamishra et al. 2020's criterion for the character prediction task).
void score(Transformer<float>& model, const std::vector<Example>& examples, int k, int batch_size,
           EvalResult& result) {
  const Objective objective = model.config().objective;
  for (std::size_t at = 0; at < examples.size(); at += batch_size) {
    std::vector<const Example*> chunk;
    for (std::size_t i = at; i < std::min(examples.size(), at + batch_size); ++i)
      chunk.push_back(&examples[i]);
    auto batch = make_batch<float>(chunk, k, objective);
    model.forward(batch);
    const auto& z = model.logits();
    const std::size_t per_word = static_cast<std::size_t>(batch.Tn) * (k + 1);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      auto& [correct, total] = result.per_length[static_cast<int>(chunk[i]->word.size())];
      bool right = true;
      if (objective == Objective::recognize) {
        right = (z[i] > 0) == (chunk[i]->label == 1);
      } else {
        for (std::size_t j = i * per_word; j < (i + 1) * per_word && right; ++j)
          if (batch.mask[j] > 0) right = (z[j] > 0) == (batch.targets[j] > 0.5f);
      }
      correct += right;
      ++total;
    }
  }
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Parameter norm as in Merrill et al.: all non-scalar parameters.

}  // namespace

EvalResult evaluate(Transformer<float>& model, Sampler& sampler, int lo, int hi, int per_length,
                    bool exhaustive, std::uint64_t seed, int batch_size, Negatives negatives) {
  const Language& lang = sampler.language();
  const int k = lang.alphabet().size();
  EvalResult result;
  Rng rng(seed);
  if (model.config().objective == Objective::next_symbol) {
    // Accepted words only, their next-symbol targets within lengths <= hi.
    if (exhaustive)
      throw InputError("--exhaustive: next-symbol models are scored on accepted words only");
    for (int n = lo; n <= hi; ++n) {
      std::vector<Example> examples;
      if (sampler.count_accepted(n) == 0) continue;
      for (int i = 0; i < per_length; ++i) {
        Word w = *sampler.accepted(n, rng);
        auto next = sampler.next_targets(w, hi);
        examples.push_back({std::move(w), 1, std::move(next)});
      }
      score(model, examples, k, batch_size, result);
    }
    return result;
  }
  for (int n = lo; n <= hi; ++n) {
    std::vector<Example> examples;
    if (exhaustive) {
      BigInt total = sampler.table().power(n);
      if (total > 2'000'000)
        throw InputError(
            fmt::format("--exhaustive: {}^{} words at length {} is too many", k, n, n));
      Word w(n, 0);
      for (long i = 0; i < static_cast<long>(total); ++i) {
        long x = i;
        for (int t = n - 1; t >= 0; --t) w[t] = static_cast<Symbol>(x % k), x /= k;
        examples.push_back({w, lang.accepts(w) ? 1 : 0, std::nullopt});
      }
    } else {
      for (int label : {1, 0}) {
        if ((label ? sampler.count_accepted(n) : sampler.count_rejected(n)) == 0) continue;
        for (int i = 0; i < per_length; ++i) {
          const bool near = !label && (negatives == Negatives::near_miss ||
                                       (negatives == Negatives::mixed && i % 2 == 1));
          std::optional<Word> w = near ? sampler.near_miss(n, rng) : std::nullopt;
          if (!w) w = label ? sampler.accepted(n, rng) : sampler.rejected(n, rng);
          examples.push_back({std::move(*w), label, std::nullopt});
        }
      }
    }
    score(model, examples, k, batch_size, result);
  }
  return result;
}

namespace {

// --resume continues the same run: the same language and every key but `steps` unchanged.
void check_resumable(const Checkpoint& c, const Language& language, const RunConfig& config,
                     const std::filesystem::path& path) {
  if (c.language_name != language.name() || c.language_spec != language.spec_text() ||
      c.num_symbols != language.alphabet().size())
    throw InputError(fmt::format(
        "--resume: {} was trained on '{}'{}, not on '{}'", path.string(), c.language_name,
        c.language_name == language.name() ? " (a different definition)" : "", language.name()));
  RunConfig as_trained = c.config;  // the run's start scale, not the step's (checkpoint.h)
  if (c.start_attention_scale) as_trained.model.attention_scale = *c.start_attention_scale;
  const auto before = as_trained.to_map(), now = config.to_map();
  std::vector<std::string> changed;
  for (const auto& [key, value] : now)
    if (key != "steps" && (!before.count(key) || before.at(key) != value))
      changed.push_back(fmt::format("{} = {} (the run has {})", key, value,
                                    before.count(key) ? before.at(key) : "no such key"));
  for (const auto& [key, value] : before)
    if (!now.count(key)) changed.push_back(fmt::format("{} unset (the run has {})", key, value));
  if (!changed.empty())
    throw InputError(
        fmt::format("--resume: {}: only `steps` may change when a run is resumed; changed: {}",
                    path.string(), fmt::join(changed, "; ")));
}

// metrics.jsonl's lines up to `step` (training lines by "step", evaluations by "eval_step"),
// as they are: on resume, everything after the checkpoint is written again.
std::string metrics_up_to(const std::filesystem::path& path, long step) {
  std::string kept;
  std::ifstream in(path, std::ios::binary);
  if (!in) return kept;
  LineReader lines(in, path.string());
  std::string line;
  while (lines.next(line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;  // a line cut short by a kill
    const auto& s = j.contains("step") ? j["step"] : j.contains("eval_step") ? j["eval_step"] : j;
    if (s.is_number_integer() && s.get<long>() <= step) kept += line + "\n";
  }
  return kept;
}

// The final step's figures as metrics.jsonl recorded them: its training line's loss and
// accuracy, and (recognizers) its evaluation line's accuracies. A summary rebuilt from them is
// the uninterrupted run's (but the wall-clock fields). Throws InputError when a line is missing.
struct FinalFigures {
  double loss = 0, train_acc = 0, in_range = 0, out_of_range = 0;
  bool evaluated = false;  // the final step's evaluation line was found
};
FinalFigures final_figures(const std::filesystem::path& path, long step, bool evaluated) {
  std::optional<nlohmann::json> train_line, eval_line;
  std::istringstream in(metrics_up_to(path, step));
  LineReader lines(in, path.string());
  std::string line;
  while (lines.next(line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    auto at_step = [&](const char* key) {
      return j.contains(key) && j[key].is_number_integer() && j[key].get<long>() == step;
    };
    if (at_step("step")) train_line = j;
    if (at_step("eval_step")) eval_line = j;
  }
  auto number = [&](const std::optional<nlohmann::json>& j, const char* key, const char* kind) {
    if (!j || !j->contains(key) || !(*j)[key].is_number())
      throw InputError(fmt::format(
          "--resume: {} has no {} line for the final step {} (summary.json cannot be rebuilt; "
          "start the run again with --overwrite)",
          path.string(), kind, step));
    return (*j)[key].get<double>();
  };
  FinalFigures f;
  f.loss = number(train_line, "loss", "training");
  f.train_acc = number(train_line, "train_acc", "training");
  // No evaluation line at the final step (a run resumed with fewer steps than it was started
  // with): the caller evaluates the final model, as the uninterrupted run would have.
  if (evaluated && eval_line) {
    f.in_range = number(eval_line, "in_range", "evaluation");
    f.out_of_range = number(eval_line, "out_of_range", "evaluation");
    f.evaluated = true;
  }
  return f;
}

}  // namespace

BatchDrawer::BatchDrawer(Sampler& sampler, const RunConfig& config)
    : sampler_(sampler), objective_(config.model.objective), negatives_(config.train.negatives) {
  int lo = 0;
  std::tie(lo, train_hi_) = parse_length_range(config.train.train_lengths, "train_lengths");
  for (int n = lo; n <= train_hi_; ++n) {
    if (sampler.count_accepted(n) > 0) positive_lengths_.push_back(n);
    if (sampler.count_rejected(n) > 0) negative_lengths_.push_back(n);
  }
  if (positive_lengths_.empty())
    throw InputError(fmt::format("{}: no accepted words at lengths {}", sampler.language().name(),
                                 config.train.train_lengths));
}

void BatchDrawer::draw(std::vector<Example>& examples, Rng& rng) {
  std::uniform_int_distribution<std::size_t> pick;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    Example& e = examples[i];
    const bool positive =
        objective_ == Objective::next_symbol || i % 2 == 0 || negative_lengths_.empty();
    const auto& lengths = positive ? positive_lengths_ : negative_lengths_;
    const int n = lengths[pick(rng, decltype(pick)::param_type(0, lengths.size() - 1))];
    if (positive) {
      e.word = *sampler_.accepted(n, rng);
    } else {
      const bool near =
          negatives_ == Negatives::near_miss ||
          (negatives_ == Negatives::mixed && std::uniform_int_distribution<int>(0, 1)(rng));
      std::optional<Word> w = near ? sampler_.near_miss(n, rng) : std::nullopt;
      e.word = w ? *w : *sampler_.rejected(n, rng);
    }
    e.label = positive ? 1 : 0;
    e.next = objective_ == Objective::next_symbol
                 ? std::optional(sampler_.next_targets(e.word, train_hi_))
                 : std::nullopt;
  }
}

TrainSummary train(std::shared_ptr<const Language> language, RunConfig config,
                   const TrainOptions& options) {
  namespace fs = std::filesystem;
  const auto t_process = Clock::now();
  const ModelConfig& mc = config.model;
  const TrainConfig& tc = config.train;
  const int k = language->alphabet().size();
  if (mc.objective == Objective::label)
    throw InputError("objective: label is trained by saturn theory's own loop, not by train");
  // Plain ints, not structured bindings: the lambdas below capture them.
  int train_lo, train_hi, test_lo, test_hi;
  std::tie(train_lo, train_hi) = parse_length_range(tc.train_lengths, "train_lengths");
  std::tie(test_lo, test_hi) = parse_length_range(tc.test_lengths, "test_lengths");
  if (std::max(train_hi, test_hi) > mc.max_length)
    throw InputError(fmt::format("max_length ({}) is below the longest train/test length ({})",
                                 mc.max_length, std::max(train_hi, test_hi)));
  mc.validate();
  // Sizes against the memory budget before anything is allocated: training batches, and the
  // evaluation batches of 64 words at the longest test length.
  require_model_memory(mc, k, tc.batch_size, train_hi + 2.0, true, "batch_size/d_model/d_ff");
  require_model_memory(mc, k, 64, std::max(train_hi, test_hi) + 2.0, false, "test_lengths");
  if (!tc.data.empty() && !fs::is_regular_file(tc.data))
    throw InputError(fmt::format("data: {} is not a regular file", tc.data));

  const RunDirectory run(options.out, options.resume      ? RunDirectory::Mode::resume
                                      : options.overwrite ? RunDirectory::Mode::overwrite
                                                          : RunDirectory::Mode::fresh);
  Sampler sampler(language);
  BatchDrawer drawer(sampler, config);
  // A data file replaces the sampler: batches in file order, cycling through the file.
  std::vector<Example> file_examples;
  if (!tc.data.empty()) {
    file_examples = read_json_lines(tc.data, language->alphabet(), mc.max_length,
                                    options.check_labels ? language.get() : nullptr);
    std::size_t longest = 0;
    for (const auto& e : file_examples) longest = std::max(longest, e.word.size());
    require_model_memory(mc, k, tc.batch_size, longest + 2.0, true, "data");
  }

  Transformer<float> model(mc, k);
  Optimizer optimizer(tc.optimizer, model.params.size());
  Rng rng(mc.seed * 0x9e3779b97f4a7c15ull + 1);  // the data stream
  long start_step = 0;
  const fs::path summary_path = options.out / "summary.json";
  bool resumed = false;
  // Checkpoints are resumed whether or not config.toml survived: the configuration given is
  // checked against theirs (the CLI refuses a --resume without config.toml, --config or --set).
  if (options.resume) {
    const auto checkpoints = list_checkpoints(options.out, /*may_be_empty=*/true);
    if (!checkpoints.empty()) {
      Checkpoint c = load_checkpoint(checkpoints.back().second);
      check_resumable(c, *language, config, checkpoints.back().second);
      model.params.assign(c.params.begin(), c.params.end());
      if (!c.adam_m.empty()) optimizer.m = c.adam_m, optimizer.v = c.adam_v;
      optimizer.set_steps_taken(c.optimizer_steps);
      std::istringstream(c.rng_state) >> rng;
      start_step = c.step;
      resumed = true;
    }
  }
  if (options.resume && !resumed) {
    // Nothing to resume: the run starts with the configuration given, in a directory that
    // holds nothing or only this run's files (never into someone else's files).
    for (const auto& e : fs::directory_iterator(options.out)) {
      const std::string name = e.path().filename().string();
      if (name != ".lock" && !is_run_file(name))
        throw InputError(fmt::format(
            "--resume: {} holds no saturn run but other files ({}); choose a new directory",
            options.out.string(), name));
    }
  }
  if (!resumed) model.init();
  if (start_step > tc.steps)
    throw InputError(
        fmt::format("--resume: the run is at step {}, past steps = {}", start_step, tc.steps));
  TrainSummary summary;
  if (start_step == tc.steps && fs::exists(summary_path)) {
    summary.steps = tc.steps;
    summary.already_finished = true;
    return summary;
  }
  if (options.resume && !resumed && !options.quiet)
    fmt::print(stderr,
               "{}: holds no checkpoint yet; starting the run with the given configuration\n",
               options.out.string());
  // The thread count (--threads, SATURN_THREADS, OMP_NUM_THREADS or every core) is said here:
  // results are deterministic for a seed and a thread count.
  if (!options.quiet)
    fmt::print(stderr, "{}: {} parameters; {} for training; {} thread{}\n", options.out.string(),
               model.params.size(),
               format_bytes(model_memory(mc, k, tc.batch_size, train_hi + 2.0, true)),
               omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");
  write_file_atomically(options.out / "config.toml", config.to_toml());

  // metrics.jsonl: on resume only the lines up to the checkpoint's step are kept; the steps
  // after it are trained again and their lines written again, so the file ends up as an
  // uninterrupted run's.
  const fs::path metrics_path = options.out / "metrics.jsonl";
  write_file_atomically(metrics_path, resumed ? metrics_up_to(metrics_path, start_step) : "");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> metrics(std::fopen(metrics_path.c_str(), "ab"),
                                                          &std::fclose);
  if (!metrics)
    throw InputError(fmt::format("{}: cannot open for appending", metrics_path.string()));
  auto append = [&](const std::string& line) {
    if (std::fputs((line + "\n").c_str(), metrics.get()) < 0)
      throw InputError(fmt::format("{}: write failed", metrics_path.string()));
    if (options.on_metrics) options.on_metrics(line);
  };
  // Every line written so far reaches the disk before a checkpoint names its step: a kill at
  // any moment leaves the metrics of every checkpointed step on disk.
  auto sync_metrics = [&] {
    if (std::fflush(metrics.get()) != 0 || ::fsync(::fileno(metrics.get())) != 0)
      throw InputError(fmt::format("{}: write failed", metrics_path.string()));
  };

  auto checkpoint = [&](long step) {
    sync_metrics();
    Checkpoint c;
    c.config = config;
    if (mc.attention_scale_schedule != ScaleSchedule::constant) {
      c.start_attention_scale = mc.attention_scale;
      c.config.model.attention_scale = mc.attention_scale_at(step, tc.steps);
    }
    c.num_symbols = k;
    c.language_name = language->name();
    c.language_spec = language->spec_text();
    c.step = step;
    std::ostringstream state;
    state << rng;
    c.rng_state = state.str();
    c.optimizer_steps = optimizer.steps_taken();
    c.params.assign(model.params.begin(), model.params.end());
    c.adam_m = optimizer.m;
    c.adam_v = optimizer.v;
    save_checkpoint(options.out / fmt::format("ckpt-{}.safetensors", step), c);
  };
  EvalResult last_eval_in, last_eval_out;
  auto evaluate_at = [&](long step) {
    last_eval_in = evaluate(model, sampler, train_lo, train_hi, tc.eval_per_length, false,
                            mc.seed + 1000003 * step);
    last_eval_out = evaluate(model, sampler, test_lo, test_hi, tc.eval_per_length, false,
                             mc.seed + 7919 * step + 1);
  };
  auto run_eval = [&](long step) {
    if (mc.objective != Objective::recognize) return;
    evaluate_at(step);
    nlohmann::ordered_json j;
    j["eval_step"] = step;
    j["in_range"] = last_eval_in.accuracy();
    j["out_of_range"] = last_eval_out.accuracy();
    nlohmann::ordered_json per;
    for (const auto* r : {&last_eval_in, &last_eval_out})
      for (const auto& [n, ct] : r->per_length)
        per[std::to_string(n)] = static_cast<double>(ct.first) / ct.second;
    j["per_length"] = per;
    append(j.dump());
  };

  // The inverse temperature of step `step` (attention_scale_schedule): training step s runs at
  // c(s), so the checkpoint and evaluation of step s see the scale its last update used.
  auto set_scale_at = [&](long step) {
    AttentionSpec spec = model.attention();
    spec.score_scale = mc.attention_scale_at(step, tc.steps);
    model.set_attention(spec);
  };
  set_scale_at(start_step);
  // The initialisation is step 0 of the norm history (saturate/ reads every checkpoint).
  if (!resumed && tc.checkpoint_every > 0) checkpoint(0);
  // Killed after the last checkpoint but before the summary: the metrics are complete up to the
  // final step; the summary's figures are the final step's training line and evaluation line.
  std::optional<FinalFigures> recorded;
  if (resumed && start_step == tc.steps)
    recorded = final_figures(metrics_path, tc.steps, mc.objective == Objective::recognize);
  if (recorded && !recorded->evaluated && mc.objective == Objective::recognize) {
    run_eval(tc.steps);  // deterministic: the same figures and line as an uninterrupted run
    recorded->in_range = last_eval_in.accuracy();
    recorded->out_of_range = last_eval_out.accuracy();
  }
  if (recorded) {
    summary.final_loss = recorded->loss, summary.train_accuracy = recorded->train_acc;
    if (!options.quiet)
      fmt::print(stderr,
                 "{}: trained to step {} already; summary.json rebuilt from metrics.jsonl\n",
                 options.out.string(), tc.steps);
  }
  const bool tty = !options.quiet && ::isatty(STDERR_FILENO);
  const auto t_start = Clock::now();
  long tokens_total = 0;
  double step_seconds = 0;  // sampling + forward + backward + update; not evaluation or checkpoints
  std::vector<Example> examples(tc.batch_size);
  std::vector<const Example*> ptrs;
  for (auto& e : examples) ptrs.push_back(&e);
  for (long step = start_step + 1; step <= tc.steps; ++step) {
    check_interrupt();
    const auto t0 = Clock::now();
    set_scale_at(step);
    // Half accepted, half rejected words (recognition); accepted words only for next-symbol.
    for (int i = 0; i < tc.batch_size && !file_examples.empty(); ++i)
      examples[i] = file_examples[((step - 1) * tc.batch_size + i) % file_examples.size()];
    if (file_examples.empty()) drawer.draw(examples, rng);
    auto batch = make_batch<float>(ptrs, k, mc.objective);
    const float loss = model.forward(batch);
    model.zero_grad();
    model.backward(batch);
    nlohmann::ordered_json grad_norms;  // before clipping
    if (tc.log_grad_norms) {
      for (const auto& [name, norm] : tensor_norms(model.layout(), model.grads.data()))
        grad_norms["grad." + name] = norm;
      for (const auto& [name, norm] : layer_norms(model.layout(), model.grads.data()))
        grad_norms["grad." + name] = norm;
    }
    const double grad_norm = clip_gradients(model.grads, tc.optimizer.grad_clip);
    const double lr = optimizer.step(model.params, model.grads);
    // Training accuracy on this batch (before the update).
    long correct = 0, total = 0;
    const auto& z = model.logits();
    for (std::size_t i = 0; i < z.size(); ++i) {
      if (mc.objective == Objective::next_symbol && batch.mask[i] == 0) continue;
      correct += (z[i] > 0) == (batch.targets[i] > 0.5f);
      ++total;
    }
    long tokens = 0;
    for (int len : batch.lengths) tokens += len;
    tokens_total += tokens;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    step_seconds += dt;
    nlohmann::ordered_json j;
    j["step"] = step;
    j["loss"] = loss;
    j["train_acc"] = static_cast<double>(correct) / std::max(1L, total);
    j["lr"] = lr;
    if (mc.attention_scale_schedule != ScaleSchedule::constant)
      j["attention_scale"] = model.attention().score_scale;
    if (mc.attention_margin > 0) j["margin_loss"] = model.margin_loss();  // included in "loss"
    j["param_norm"] = parameter_norm(model.layout(), model.params.data());
    j["weight_norm"] = weight_norm(model.layout(), model.params.data());
    for (const auto& [group, norm] : parameter_group_norms(model.layout(), model.params.data()))
      j["norm." + group] = norm;
    j["grad_norm"] = grad_norm;
    for (const auto& [name, norm] : grad_norms.items()) j[name] = norm;
    j["tokens_per_s"] = dt > 0 ? tokens / dt : 0.0;
    append(j.dump());
    summary.final_loss = loss;
    summary.train_accuracy = j["train_acc"];
    // The last step is always evaluated, before its checkpoint: a checkpoint at step S means
    // every metrics line up to S is on disk.
    if ((tc.eval_every > 0 && step % tc.eval_every == 0) || step == tc.steps) run_eval(step);
    if ((tc.checkpoint_every > 0 && step % tc.checkpoint_every == 0) || step == tc.steps)
      checkpoint(step);
    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
    const double eta = elapsed / (step - start_step) * (tc.steps - step);
    if (tty)
      fmt::print(stderr, "\rstep {}/{}  loss {:.4f}  acc {:.3f}  {:.0f} tok/s  ETA {:.0f}s   ",
                 step, tc.steps, loss, summary.train_accuracy, tokens_total / step_seconds, eta);
    else if (!options.quiet && (step % std::max(1, tc.steps / 10) == 0 || step == tc.steps))
      fmt::print(stderr, "step {}/{} loss {:.4f} acc {:.3f} {:.0f} tok/s\n", step, tc.steps, loss,
                 summary.train_accuracy, tokens_total / step_seconds);
  }
  if (tty) fmt::print(stderr, "\n");
  sync_metrics();

  const double trained = static_cast<double>(tc.steps - start_step);
  summary.steps = tc.steps;
  summary.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  summary.process_seconds = std::chrono::duration<double>(Clock::now() - t_process).count();
  summary.steps_per_s = step_seconds > 0 ? trained / step_seconds : 0;
  summary.tokens_per_s = step_seconds > 0 ? tokens_total / step_seconds : 0;
  summary.process_steps_per_s = trained / summary.process_seconds;
  summary.in_range_accuracy = recorded ? recorded->in_range : last_eval_in.accuracy();
  summary.out_of_range_accuracy = recorded ? recorded->out_of_range : last_eval_out.accuracy();
  summary.peak_rss_kb = peak_rss_kb();
  nlohmann::ordered_json s;
  s["language"] = language->name();
  s["steps"] = summary.steps;
  s["final_loss"] = summary.final_loss;
  s["train_accuracy"] = summary.train_accuracy;
  if (mc.objective == Objective::recognize) {
    s["in_range_accuracy"] = summary.in_range_accuracy;
    s["out_of_range_accuracy"] = summary.out_of_range_accuracy;
  }
  s["wall_seconds"] = summary.seconds;
  s["process_seconds"] = summary.process_seconds;
  s["steps_per_s"] = summary.steps_per_s;
  s["process_steps_per_s"] = summary.process_steps_per_s;
  s["tokens_per_s"] = summary.tokens_per_s;
  s["peak_rss_kb"] = summary.peak_rss_kb;
  write_file_atomically(summary_path, s.dump(2) + "\n");
  return summary;
}

LearnabilityReport learnability(std::shared_ptr<const Language> language, const RunConfig& config,
                                int seeds, const std::filesystem::path& out, int eval_per_length,
                                bool quiet, bool overwrite) {
  auto [train_lo, train_hi] = parse_length_range(config.train.train_lengths, "train_lengths");
  auto [test_lo, test_hi] = parse_length_range(config.train.test_lengths, "test_lengths");
  LearnabilityReport report;
  Sampler sampler(language);
  for (int i = 0; i < seeds; ++i) {
    RunConfig c = config;
    c.model.seed = config.model.seed + i;
    const auto dir = out / fmt::format("seed-{}", c.model.seed);
    if (!quiet) fmt::print(stderr, "seed {} ({}/{})\n", c.model.seed, i + 1, seeds);
    train(language, c, {dir, false, quiet, overwrite});
    Checkpoint ck = load_checkpoint(latest_checkpoint(dir));
    Transformer<float> model(ck.config.model, ck.num_symbols);
    model.params.assign(ck.params.begin(), ck.params.end());
    // The same test words for every seed: a fixed evaluation seed, unlike any training stream.
    report.seeds.push_back(c.model.seed);
    report.in_range.push_back(
        evaluate(model, sampler, train_lo, train_hi, eval_per_length, false, 0xE7A1));
    report.out_of_range.push_back(
        evaluate(model, sampler, test_lo, test_hi, eval_per_length, false, 0xE7A2));
  }
  auto best_and_median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return std::pair{v.back(), n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2};
  };
  std::vector<double> in, outr;
  for (std::size_t i = 0; i < report.seeds.size(); ++i) {
    in.push_back(report.in_range[i].accuracy());
    outr.push_back(report.out_of_range[i].accuracy());
  }
  std::tie(report.best_in, report.median_in) = best_and_median(in);
  std::tie(report.best_out, report.median_out) = best_and_median(outr);
  for (std::size_t i = 0; i < in.size(); ++i) {
    report.mean_in += in[i] / static_cast<double>(in.size());
    report.mean_out += outr[i] / static_cast<double>(outr.size());
    report.ch_score = std::max(report.ch_score, mean_over_lengths(report.out_of_range[i]));
  }
  return report;
}

double mean_over_lengths(const EvalResult& r) {
  if (r.per_length.empty()) return 0;
  double sum = 0;
  for (const auto& [n, ct] : r.per_length) sum += static_cast<double>(ct.first) / ct.second;
  return sum / static_cast<double>(r.per_length.size());
}

}  // namespace saturn::nets
