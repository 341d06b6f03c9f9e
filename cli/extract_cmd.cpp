// `saturn extract`: the loop in one command. A trained run's checkpoint -> the per-head
// attended-set search for the most faithful saturated circuit (saturate/extract.h) -> the
// circuit file -> bounded equivalence with the language (verify/). Exit codes as `verify`:
// 0 equivalent, 1 counterexample, 3 unknown, 2 bad input.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "cli/tie_option.h"
#include "cli/verdict_output.h"
#include "lang/builtin.h"
#include "lang/sample.h"
#include "saturate/extract.h"
#include "saturate/probe.h"
#include "verify/equivalence.h"

namespace saturn::cli {

namespace {

namespace fs = std::filesystem;

struct ExtractArgs {
  std::string run, against, method = "auto", out, checkpoint = "last", tie = "average";
  int max_length = -1, min_length = -1, bits = 0, per_length = 0;
  double timeout = 0;
  std::uint64_t seed = 0;
  bool json = false, no_search = false;
};

fs::path pick_checkpoint(const std::string& run, const std::string& which) {
  if (fs::is_regular_file(run)) return run;
  const auto all = nets::list_checkpoints(run);
  if (which == "last") return all.back().second;
  for (const auto& [step, path] : all)
    if (std::to_string(step) == which) return path;
  throw InputError(fmt::format("--checkpoint: {} has no checkpoint at step '{}' (steps {}..{})",
                               run, which, all.front().first, all.back().first));
}

std::string rate(const saturate::Faithfulness::Count& c) {
  if (c.words == 0) return "none";
  return fmt::format("{}/{} = {:.4f}{}", c.agree, c.words, c.rate(),
                     c.undecided ? fmt::format(" ({} undecided)", c.undecided) : "");
}

void run_extract(const ExtractArgs& a) {
  if (a.max_length < 0) throw InputError("--max-length: expected a length >= 0");
  if (!(std::isfinite(a.timeout) && a.timeout >= 0 && a.timeout <= 1e7))
    throw InputError(fmt::format("--timeout: expected seconds in [0, 10^7] (got {})", a.timeout));
  if (a.bits < 0 || a.bits > 40)
    throw InputError(fmt::format("--bits: expected 1..40 (got {})", a.bits));
  if (a.per_length < 0 || a.per_length > (1 << 16))
    throw InputError(
        fmt::format("--per-length: expected 0 (automatic) to {} (got {})", 1 << 16, a.per_length));
  const auto method = parse_name<verify::Method>(verify::kMethodNames, "--method", a.method);
  const fs::path path = pick_checkpoint(a.run, a.checkpoint);
  const nets::Checkpoint c = nets::load_checkpoint(path);
  saturate::require_softmax(c.config.model);
  const auto language = resolve_language(a.against);
  nets::check_alphabet(c, *language);

  // Probes: the training lengths, and beyond them up to twice the longest (within max_length).
  const auto [lo, hi] = parse_length_range(c.config.train.train_lengths, "train_lengths");
  const int out_hi = std::min(2 * hi, c.config.model.max_length);
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
  options.rule = parse_tie_rule(a.tie);
  options.bits = a.bits;
  options.search = !a.no_search;
  const auto x = saturate::extract_circuit(c, language->alphabet(), probes, hi, options);

  const fs::path dir = fs::is_directory(a.run) ? fs::path(a.run) : path.parent_path();
  const fs::path out = a.out.empty() ? dir / "circuit.json" : fs::path(a.out);
  saturate::save_circuit(out, x.circuit);

  verify::Options o;
  o.min_length = a.min_length >= 0 ? a.min_length : lo;
  o.max_length = a.max_length;
  o.method = method;
  o.timeout_seconds = a.timeout;
  o.progress = !a.json;
  if (o.min_length > o.max_length)
    throw InputError(fmt::format("--max-length: {} is below the shortest length checked ({})",
                                 o.max_length, o.min_length));
  verify::Reference reference;
  reference.language = language;
  reference.name = language->name();
  const auto& f = *x.circuit.faithfulness;
  const auto in = f.in_range(), beyond = f.out_of_range();

  if (!a.json) {
    fmt::print("{} (step {}) on {} -> {}\n", path.string(), c.step, language->name(), out.string());
    fmt::print("saturated network: {}; weights multiples of 2^-{}\n", x.circuit.tie.describe(),
               x.circuit.denominator_bits);
    fmt::print(
        "head     setting                              near-uniform  distance (argmax)  role\n");
    for (const auto& h : x.heads) {
      std::string role = "-";
      for (const auto& r : x.circuit.heads)
        if (r.layer == h.layer && r.head == h.head)
          role = r.pattern.empty() ? r.label : fmt::format("{}: {}", r.label, r.pattern);
      fmt::print("{:>2}.{:<5} {:<36} {:>12.2f}  {:>6.3f} ({:.3f})     {}\n", h.layer, h.head,
                 h.setting, h.near_uniform, h.distance, h.argmax_distance, role);
    }
    fmt::print(
        "faithfulness (exact circuit vs the trained model's decisions):\n"
        "  in range (lengths {}..{}):       {}\n  out of range (lengths {}..{}): {}\n"
        "  float saturated network, all probes: {}/{} (every head at argmax: {}/{})\n"
        "  trained model vs {}: {}/{} correct\n",
        lo, hi, rate(in), hi + 1, out_hi, rate(beyond), x.float_agree, x.probe_words,
        x.argmax_agree, x.probe_words, language->name(), x.soft_correct, x.probe_words);
    std::fflush(stdout);
  }
  const auto v = verify::check_equivalence(x.circuit, reference, o);
  const bool outside =
      v.kind == verify::Verdict::counterexample &&
      (static_cast<int>(v.word.size()) > hi || static_cast<int>(v.word.size()) < lo);
  if (a.json) {
    nlohmann::ordered_json j;
    j["checkpoint"] = path.string();
    j["step"] = c.step;
    j["against"] = language->name();
    j["circuit"] = out.string();
    j["faithfulness_in"] = in.words ? nlohmann::json(in.rate()) : nlohmann::json(nullptr);
    j["faithfulness_out"] = beyond.words ? nlohmann::json(beyond.rate()) : nlohmann::json(nullptr);
    j["train_lengths"] = c.config.train.train_lengths;
    j["out_of_range_lengths"] = fmt::format("{}:{}", hi + 1, out_hi);
    j["denominator_bits"] = x.circuit.denominator_bits;
    for (const auto& h : x.heads)
      j["heads"].push_back({{"layer", h.layer},
                            {"head", h.head},
                            {"setting", h.setting},
                            {"tolerance", std::isinf(h.tolerance) ? nlohmann::json("uniform")
                                                                  : nlohmann::json(h.tolerance)},
                            {"near_uniform", h.near_uniform},
                            {"distance", h.distance},
                            {"argmax_distance", h.argmax_distance}});
    add_verdict_fields(j, v, x.circuit);
    if (v.kind == verify::Verdict::counterexample) j["outside_training_lengths"] = outside;
    fmt::print("{}\n", j.dump(2));
  } else {
    print_verdict(v, x.circuit, reference,
                  outside ? fmt::format("; length {} is outside the training lengths {}",
                                        v.word.size(), c.config.train.train_lengths)
                          : "");
  }
  exit_with_verdict(v);
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "extract",
      "Trained run -> most faithful saturated circuit -> verified against a language "
      "(exit 0 equivalent, 1 counterexample, 3 unknown)");
  add_threads_option(cmd);
  auto a = std::make_shared<ExtractArgs>();
  cmd->add_option("RUN", a->run, "Run directory or checkpoint file")->required();
  cmd->add_option("--against", a->against, "Language (built-in or spec)")->required();
  cmd->add_option("--max-length", a->max_length, "Longest word verified")->required();
  cmd->add_option("--min-length", a->min_length,
                  "Shortest word verified (default: the shortest training length)");
  cmd->add_option("--method", a->method, "auto, enumerate, smt or counts")->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Seconds before verify gives up (0: none)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Circuit file to write (default: RUN/circuit.json)");
  cmd->add_option("--checkpoint", a->checkpoint, "STEP or last")->capture_default_str();
  cmd->add_option("--bits", a->bits,
                  "Weights rounded to 2^-BITS (default: smallest that keeps the decisions)");
  cmd->add_option("--per-length", a->per_length,
                  "Probe words per length and class (default: ~600 per range)");
  cmd->add_option("--tie", a->tie, "average, leftmost or rightmost")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed for the probe words")->capture_default_str();
  cmd->add_flag("--no-search", a->no_search, "Every head at argmax (Merrill et al.'s limit)");
  cmd->add_flag("--json", a->json, "One JSON object");
  cmd->callback([a] { run_extract(*a); });
}

}  // namespace saturn::cli
