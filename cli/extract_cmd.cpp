// `saturn extract`: the loop in one command. A trained run's checkpoint -> the per-head
// attended-set search for the most faithful saturated circuit (saturate/extract.h) -> the
// circuit file -> bounded equivalence with the language (verify/). Exit codes as `verify`:
// 0 equivalent, 1 counterexample, 3 unknown, 2 bad input.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "cli/tie_option.h"
#include "cli/verdict_output.h"
#include "lang/words.h"
#include "loop/close.h"
#include "loop/report.h"

namespace saturn::cli {

namespace {

namespace fs = std::filesystem;

struct ExtractArgs {
  std::string run, against, method = "auto", out, checkpoint = "last", tie = "average";
  int max_length = -1, min_length = -1, bits = 0, per_length = 0;
  double timeout = 0;
  long exhaustive_max = loop::kDefaultExhaustiveMax;
  std::uint64_t seed = 0;
  bool json = false, no_search = false;
};

std::string rate(const saturate::Faithfulness::Count& c) {
  if (c.words == 0) return "none";
  return fmt::format("{}/{} = {:.4f}{}", c.agree, c.words, c.rate(),
                     c.undecided ? fmt::format(" ({} undecided)", c.undecided) : "");
}

// "1..12 all, 13..80 sampled".
std::string methods(const loop::Exhaustive& e) {
  std::string s;
  for (auto it = e.method.begin(); it != e.method.end();) {
    auto last = it;
    for (auto next = std::next(it); next != e.method.end() && next->second == it->second; ++next)
      last = next;
    s += fmt::format("{}{}{} {}", s.empty() ? "" : ", ", it->first,
                     last->first != it->first ? fmt::format("..{}", last->first) : "", it->second);
    it = std::next(last);
  }
  return s;
}

void run_extract(const ExtractArgs& a) {
  loop::LoopOptions o;
  o.run = a.run, o.checkpoint = a.checkpoint, o.against = a.against;
  o.max_length = a.max_length, o.min_length = a.min_length;
  o.timeout = a.timeout, o.bits = a.bits, o.per_length = a.per_length, o.seed = a.seed;
  o.exhaustive_max = a.exhaustive_max;
  o.search = !a.no_search;
  o.out = a.out;
  o.progress = !a.json;
  o.method = parse_name<verify::Method>(verify::kMethodNames, "--method", a.method);
  o.tie = parse_tie_rule(a.tie);

  auto print_extraction = [&](const loop::LoopResult& r) {
    if (a.json) return;
    const auto& x = r.extraction;
    const auto& e = r.exhaustive;
    fmt::print("{} (step {}) on {} -> {}\n", r.checkpoint.string(), r.step, r.language->name(),
               r.circuit_path.string());
    fmt::print("saturated network: {}; weights multiples of 2^-{}\n", x.circuit.tie.describe(),
               x.circuit.denominator_bits);
    fmt::print(
        "head     setting                              near-uniform  distance (argmax)  role\n");
    for (const auto& h : x.heads) {
      std::string role = "-";
      for (const auto& hr : x.circuit.heads)
        if (hr.layer == h.layer && hr.head == h.head)
          role = hr.pattern.empty() ? hr.label : fmt::format("{}: {}", hr.label, hr.pattern);
      fmt::print("{:>2}.{:<5} {:<36} {:>12.2f}  {:>6.3f} ({:.3f})     {}\n", h.layer, h.head,
                 h.setting, h.near_uniform, h.distance, h.argmax_distance, role);
    }
    fmt::print(
        "faithfulness (exact circuit vs the trained model's decisions):\n"
        "  in range (lengths {}..{}):       {}\n  out of range (lengths {}..{}): {}\n"
        "  float saturated network, all probes: {}/{} (every head at argmax: {}/{})\n"
        "  trained model vs {}: {}/{} correct\n",
        r.train_lo, r.train_hi, rate(r.in), r.train_hi + 1, r.out_hi, rate(r.beyond), x.float_agree,
        x.probe_words, x.argmax_agree, x.probe_words, r.language->name(), x.soft_correct,
        x.probe_words);
    if (!e.method.empty()) {
      const auto upto = [&](int n) {
        return n >= e.lo ? fmt::format("on all words of lengths {}..{}", e.lo, n)
                         : std::string("on no length enumerated in full");
      };
      fmt::print("  words per length: {}{}\n", methods(e),
                 e.out_of_time ? " (the exhaustive pass ran out of time)" : "");
      fmt::print("  circuit equals the model {}\n", upto(e.circuit_equals_model_up_to));
      fmt::print(
          "  model right {}{}\n", upto(e.model_correct_up_to),
          e.model_margin ? fmt::format(" (margin: smallest |logit| {:.3g})", *e.model_margin) : "");
      fmt::print("  least disagreement: {}\n",
                 e.least_disagreement
                     ? fmt::format("{} (length {}{})",
                                   format_word(*e.least_disagreement, r.language->alphabet()),
                                   e.least_disagreement->size(),
                                   e.least_is_least ? "; every shorter word agrees" : "; sampled")
                     : std::string("none"));
    }
    std::fflush(stdout);
  };
  const loop::LoopResult r = loop::close_loop(o, print_extraction);
  const auto& v = r.verdict;
  const auto& c = r.extraction.circuit;
  if (a.json) {
    fmt::print("{}\n", loop::extract_json(r).dump(2));
  } else {
    print_verdict(v, c, r.reference,
                  r.outside_training_lengths
                      ? fmt::format("; length {} is outside the training lengths {}", v.word.size(),
                                    c.train_lengths)
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
  cmd->add_option("--exhaustive-max", a->exhaustive_max,
                  "Words per length measured in full (faithfulness, the model's own decisions); "
                  "longer lengths are sampled (0: probes only)")
      ->capture_default_str();
  cmd->add_flag("--no-search", a->no_search, "Every head at argmax (Merrill et al.'s limit)");
  cmd->add_flag("--json", a->json, "One JSON object");
  cmd->callback([a] { run_extract(*a); });
}

}  // namespace saturn::cli
