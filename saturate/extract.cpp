#include "saturate/extract.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "base/interrupt.h"
#include "saturate/exact_eval.h"
#include "saturate/probe.h"

namespace saturn::saturate {

namespace {

// A candidate attended-set rule for one head, in the search's order of simplicity.
struct Candidate {
  double tolerance;  // scaled scores; +infinity: uniform
  std::string name;
};

std::vector<Candidate> candidates(const ExtractOptions& options, const nets::ModelConfig& cfg) {
  std::vector<Candidate> c = {{0.0, "argmax"}, {INFINITY, "uniform"}};
  // A hard-trained model's own set rule (attention = "hard"): the circuit can equal the model.
  if (cfg.attention_hard && cfg.attention_set == nets::AttentionSet::tolerance)
    c.push_back({cfg.attention_tolerance,
                 fmt::format("tolerance {:.3g} (the model's own)", cfg.attention_tolerance)});
  std::vector<double> ratios = options.ratios;
  std::sort(ratios.rbegin(), ratios.rend());  // ascending tolerance
  for (double rho : ratios)
    c.push_back({std::log(1 / rho),
                 fmt::format("tolerance {:.3g} (weights >= {:g} x max)", std::log(1 / rho), rho)});
  return c;
}

// Per head: the share of near-uniform rows and, per candidate, the mean total variation
// between the soft weights and that candidate's hard weights. The hard set of tolerance t is
// {j : w_j >= e^-t max w}, since w_j / max w = e^(s_j - max s).
struct SoftStats {
  std::vector<double> near_uniform;           // [head]
  std::vector<std::vector<double>> distance;  // [head][candidate]
};

SoftStats soft_statistics(nets::Transformer<double>& model, const std::vector<Example>& probes,
                          int num_symbols, const std::vector<Candidate>& cands,
                          double uniform_factor) {
  const auto& cfg = model.config();
  const int L = cfg.n_layers, H = cfg.n_heads;
  nets::AttentionSpec spec = model.attention();
  spec.hard = nets::HardAttention::none, spec.score_scale = cfg.attention_scale,
  spec.tolerance.clear();
  model.set_attention(spec);
  model.set_introspection(true);
  SoftStats s;
  s.near_uniform.assign(static_cast<std::size_t>(L) * H, 0.0);
  s.distance.assign(static_cast<std::size_t>(L) * H, std::vector<double>(cands.size(), 0.0));
  long rows = 0;
  constexpr std::size_t kBatch = 64;
  std::vector<double> hard;
  for (std::size_t start = 0; start < probes.size(); start += kBatch) {
    check_interrupt();
    const std::vector<Example> chunk(
        probes.begin() + static_cast<long>(start),
        probes.begin() + static_cast<long>(std::min(probes.size(), start + kBatch)));
    const auto batch = inference_batch(chunk, num_symbols, cfg.objective);
    model.forward(batch);
    const int Tn = batch.Tn;
    for (int b = 0; b < batch.B; ++b) rows += batch.lengths[b];
    for (int l = 0; l < L; ++l) {
      const auto& att = model.attention_weights(l);
      for (int b = 0; b < batch.B; ++b)
        for (int h = 0; h < H; ++h) {
          const std::size_t head = static_cast<std::size_t>(l) * H + h;
          const int len = batch.lengths[b];
          for (int i = 0; i < len; ++i) {
            const double* w = att.data() + ((static_cast<std::size_t>(b) * H + h) * Tn + i) * Tn;
            const int visible = cfg.causal ? i + 1 : len;
            const double top = *std::max_element(w, w + visible);
            const double low = *std::min_element(w, w + visible);
            s.near_uniform[head] += top <= uniform_factor * low;
            for (std::size_t c = 0; c < cands.size(); ++c) {
              const double floor =
                  std::isinf(cands[c].tolerance) ? 0.0 : top * std::exp(-cands[c].tolerance);
              int n = 0;
              for (int j = 0; j < visible; ++j) n += w[j] >= floor;
              double tv = 0;
              for (int j = 0; j < visible; ++j)
                tv += std::abs(w[j] - (w[j] >= floor ? 1.0 / n : 0.0));
              s.distance[head][c] += tv / 2;
            }
          }
        }
    }
  }
  model.set_introspection(false);
  const double n = static_cast<double>(std::max(1L, rows));
  for (auto& x : s.near_uniform) x /= n;
  for (auto& d : s.distance)
    for (auto& x : d) x /= n;
  return s;
}

// Decisions of the float saturated network under `tie` agreeing with `reference`.
long agreement(nets::Transformer<double>& model, const std::vector<Example>& probes,
               const TieRule& tie, const std::vector<bool>& reference) {
  tie.apply(model);
  const Outputs out = run_model(model, probes);
  long same = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) same += (out.decision[i] > 0) == reference[i];
  return same;
}

}  // namespace

std::vector<bool> soft_decisions(const nets::Checkpoint& checkpoint,
                                 const std::vector<Example>& probes) {
  nets::Transformer<double> model = double_model(checkpoint);
  const Outputs out = run_model(model, probes);
  std::vector<bool> accept;
  for (double z : out.decision) accept.push_back(z > 0);
  return accept;
}

Faithfulness faithfulness(const Circuit& circuit, const std::vector<Example>& probes,
                          const std::vector<bool>& reference, int train_max) {
  Faithfulness f;
  f.train_max = train_max;
  const ExactEvaluator exact(circuit);
  std::vector<Verdict> verdicts(probes.size());
#pragma omp parallel
  {
    ExactEvaluator::Cache cache(true);
#pragma omp for schedule(dynamic)
    for (std::size_t i = 0; i < probes.size(); ++i)
      verdicts[i] = exact.verdict(probes[i].word, cache);
  }
  for (std::size_t i = 0; i < probes.size(); ++i) {
    auto& c = f.per_length[static_cast<int>(probes[i].word.size())];
    ++c.words;
    if (verdicts[i] == Verdict::undecided)
      ++c.undecided;
    else
      c.agree += (verdicts[i] == Verdict::accept) == reference[i];
  }
  return f;
}

Extraction extract_circuit(const nets::Checkpoint& checkpoint, const Alphabet& alphabet,
                           const std::vector<Example>& probes, int train_max,
                           const ExtractOptions& options) {
  require_softmax(checkpoint.config.model);
  const auto& cfg = checkpoint.config.model;
  const int heads = cfg.n_layers * cfg.n_heads;
  Extraction x;
  x.probe_words = static_cast<long>(probes.size());
  const std::vector<bool> soft = soft_decisions(checkpoint, probes);
  for (std::size_t i = 0; i < probes.size(); ++i)
    x.soft_correct += soft[i] == (probes[i].label == 1);

  nets::Transformer<double> model = double_model(checkpoint);
  if (cfg.attention_sparsemax) {
    // A sparsemax model is its own circuit (exact zeros, piecewise linear): no attended sets to
    // search, only the rounding. The argmax limit (sparsemax(c s), c -> infinity, is the average
    // over the argmax set too) is reported for comparison.
    x.argmax_agree = agreement(model, probes, options.rule, soft);
    x.circuit =
        export_circuit(checkpoint, alphabet, probes, sparsemax_rule(options.rule), options.bits);
    nets::Transformer<double> rounded = circuit_model(x.circuit);
    x.float_agree = agreement(rounded, probes, x.circuit.tie, soft);
    for (int h = 0; h < heads; ++h) {
      HeadChoice hc;
      hc.layer = h / cfg.n_heads, hc.head = h % cfg.n_heads;
      hc.setting = "sparsemax";
      x.heads.push_back(hc);
    }
    x.circuit.train_lengths = checkpoint.config.train.train_lengths;
    x.circuit.faithfulness = faithfulness(x.circuit, probes, soft, train_max);
    return x;
  }
  const auto cands = candidates(options, cfg);
  const SoftStats stats =
      soft_statistics(model, probes, alphabet.size(), cands, options.uniform_factor);

  // Coordinate descent from a start: each head in turn takes its most faithful candidate.
  Progress progress("extract: search");
  int start = 0;
  auto descend = [&](std::vector<std::size_t> choice, int& rounds) {
    ++start;
    TieRule tie = options.rule;
    tie.tolerance.assign(static_cast<std::size_t>(heads), 0.0);
    for (int h = 0; h < heads; ++h) tie.tolerance[h] = cands[choice[h]].tolerance;
    long best = agreement(model, probes, tie, soft);
    for (rounds = 1; options.search && rounds <= 3 && best < x.probe_words; ++rounds) {
      bool changed = false;
      for (int h = 0; h < heads && best < x.probe_words; ++h)
        for (std::size_t c = 0; c < cands.size(); ++c) {
          if (c == choice[h]) continue;
          progress.update(fmt::format("start {}/2, round {}, head {}/{}, candidate {}/{}", start,
                                      rounds, h + 1, heads, c + 1, cands.size()));
          TieRule trial = tie;
          trial.tolerance[h] = cands[c].tolerance;
          const long a = agreement(model, probes, trial, soft);
          // Strictly better, or as good and simpler (earlier in the candidate order).
          if (a > best || (a == best && c < choice[h]))
            best = a, choice[h] = c, tie = std::move(trial), changed = true;
        }
      if (!changed) break;
    }
    return std::tuple{best, choice, tie};
  };
  // Two starts: every head at argmax (the c -> infinity limit), and every head at the candidate
  // closest to its soft weights (a head can need a partner's change before its own helps).
  const std::vector<std::size_t> argmax(static_cast<std::size_t>(heads), 0);
  std::vector<std::size_t> closest(static_cast<std::size_t>(heads), 0);
  for (int h = 0; h < heads; ++h)
    for (std::size_t c = 0; c < cands.size(); ++c)
      if (stats.distance[h][c] < stats.distance[h][closest[h]]) closest[h] = c;
  {
    TieRule all_argmax = options.rule;
    x.argmax_agree = agreement(model, probes, all_argmax, soft);
  }
  int rounds_a = 0, rounds_b = 0;
  // A hard-trained model starts from its own setting: every head at its set rule's candidate.
  const std::size_t own = cfg.attention_set == nets::AttentionSet::argmax    ? 0
                          : cfg.attention_set == nets::AttentionSet::uniform ? 1
                                                                             : 2;
  auto [best, choice, tie] = descend(
      cfg.attention_hard ? std::vector<std::size_t>(static_cast<std::size_t>(heads), own) : argmax,
      rounds_a);
  x.rounds = rounds_a;
  if (options.search && best < x.probe_words) {
    auto [best_b, choice_b, tie_b] = descend(closest, rounds_b);
    if (best_b > best) best = best_b, choice = choice_b, tie = tie_b, x.rounds = rounds_b;
  }
  x.float_agree = best;

  for (int h = 0; h < heads; ++h) {
    HeadChoice hc;
    hc.layer = h / cfg.n_heads, hc.head = h % cfg.n_heads;
    hc.tolerance = cands[choice[h]].tolerance;
    hc.setting = cands[choice[h]].name;
    hc.near_uniform = stats.near_uniform[h];
    hc.distance = stats.distance[h][choice[h]];
    hc.argmax_distance = stats.distance[h][0];
    x.heads.push_back(hc);
  }
  x.circuit = export_circuit(checkpoint, alphabet, probes, tie, options.bits);
  x.circuit.train_lengths = checkpoint.config.train.train_lengths;
  x.circuit.faithfulness = faithfulness(x.circuit, probes, soft, train_max);
  return x;
}

}  // namespace saturn::saturate
