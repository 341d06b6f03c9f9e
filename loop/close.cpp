#include "loop/close.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/budget.h"
#include "base/error.h"
#include "lang/builtin.h"
#include "lang/sample.h"
#include "saturate/probe.h"

namespace saturn::loop {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path pick_checkpoint(const fs::path& run, const std::string& which) {
  if (fs::is_regular_file(run)) return run;
  const auto all = nets::list_checkpoints(run);
  if (which == "last") return all.back().second;
  for (const auto& [step, path] : all)
    if (std::to_string(step) == which) return path;
  throw InputError(fmt::format("--checkpoint: {} has no checkpoint at step '{}' (steps {}..{})",
                               run.string(), which, all.front().first, all.back().first));
}

LoopResult close_loop(const LoopOptions& a,
                      const std::function<void(const LoopResult&)>& on_extracted) {
  const auto started = Clock::now();
  if (a.max_length < 0) throw InputError("--max-length: expected a length >= 0");
  if (!(std::isfinite(a.timeout) && a.timeout >= 0 && a.timeout <= 1e7))
    throw InputError(fmt::format("--timeout: expected seconds in [0, 10^7] (got {})", a.timeout));
  if (a.bits < 0 || a.bits > 40)
    throw InputError(fmt::format("--bits: expected 1..40 (got {})", a.bits));
  if (a.per_length < 0 || a.per_length > (1 << 16))
    throw InputError(
        fmt::format("--per-length: expected 0 (automatic) to {} (got {})", 1 << 16, a.per_length));
  if (a.exhaustive_max < 0 || a.exhaustive_max > (1L << 40))
    throw InputError(
        fmt::format("--exhaustive-max: expected 0 (probes only) to 2^40 words per length (got {})",
                    a.exhaustive_max));
  LoopResult r;
  r.checkpoint = pick_checkpoint(a.run, a.checkpoint);
  const nets::Checkpoint c = nets::load_checkpoint(r.checkpoint);
  r.step = c.step;
  saturate::require_softmax(c.config.model);
  r.language = resolve_language(a.against);
  const auto& language = r.language;
  nets::check_alphabet(c, *language);

  // Probes: the training lengths, and beyond them up to twice the longest (within max_length).
  const auto [lo, hi] = parse_length_range(c.config.train.train_lengths, "train_lengths");
  const int out_hi = std::min(2 * hi, c.config.model.max_length);
  r.train_lo = lo, r.train_hi = hi, r.out_hi = out_hi;
  Sampler sampler(language);
  const int in_k = a.per_length > 0 ? a.per_length : std::max(1, (600 + (hi - lo)) / (hi - lo + 1));
  require_memory(4.0 * in_k * (out_hi - lo + 1) * (64 + 2.0 * out_hi), "--per-length",
                 "the probe words");
  auto probes = saturate::probe_set(sampler, lo, hi, in_k, a.seed);
  if (out_hi > hi) {
    const int out_k =
        a.per_length > 0 ? a.per_length : std::max(2, (600 + (out_hi - hi - 1)) / (out_hi - hi));
    auto beyond = saturate::probe_set(sampler, hi + 1, out_hi, out_k, a.seed + 1);
    probes.insert(probes.end(), beyond.begin(), beyond.end());
  }

  saturate::ExtractOptions options;
  options.rule = a.tie;
  options.bits = a.bits;
  options.search = a.search;
  r.extraction = saturate::extract_circuit(c, language->alphabet(), probes, hi, options);
  auto& circuit = r.extraction.circuit;

  verify::Options o;
  o.min_length = a.min_length >= 0 ? a.min_length : lo;
  o.max_length = a.max_length;
  o.method = a.method;
  o.progress = a.progress;
  if (o.min_length > o.max_length)
    throw InputError(fmt::format("--max-length: {} is below the shortest length checked ({})",
                                 o.max_length, o.min_length));

  // Every word where the budget allows. With a timeout, this pass stops at half of it (lengths
  // not finished keep their probes) and verification gets what remains.
  std::optional<Clock::time_point> deadline;
  if (a.timeout > 0)
    deadline = started + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(a.timeout / 2));
  r.exhaustive = measure_all_words(c, circuit, *language, probes, lo, out_hi, a.exhaustive_max,
                                   deadline, *circuit.faithfulness);

  const fs::path dir = fs::is_directory(a.run) ? a.run : r.checkpoint.parent_path();
  r.circuit_path = a.out.empty() ? dir / "circuit.json" : a.out;
  saturate::save_circuit(r.circuit_path, circuit);
  r.reference.language = language;
  r.reference.name = language->name();
  r.in = circuit.faithfulness->in_range();
  r.beyond = circuit.faithfulness->out_of_range();
  if (on_extracted) on_extracted(r);

  if (a.timeout > 0) {
    const double spent = std::chrono::duration<double>(Clock::now() - started).count();
    o.timeout_seconds = std::max(0.001, a.timeout - spent);
  }
  r.verdict = verify::check_equivalence(circuit, r.reference, o);
  const int n = static_cast<int>(r.verdict.word.size());
  r.outside_training_lengths =
      r.verdict.kind == verify::Verdict::counterexample && (n > hi || n < lo);
  r.timed_out =
      r.verdict.kind == verify::Verdict::unknown && r.verdict.reason.rfind("timeout", 0) == 0;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return r;
}

}  // namespace saturn::loop
