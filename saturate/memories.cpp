// FFN key-value memories (memories.h).
#include "saturate/memories.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "saturate/probe.h"

namespace saturn::saturate {

namespace {

// One trigger candidate: a distinct prefix (next-symbol) or a probe word (recogniser).
struct Unit {
  std::size_t word = 0;
  int length = 0;
  std::vector<char> legal;        // next-symbol: k+1 outputs
  int label = 0;                  // recogniser
  int last = 0, before_last = 0;  // token ids; BOS = k where the prefix is too short
};

std::vector<Unit> trigger_units(const std::vector<Example>& probes, bool next_symbol, int k,
                                std::vector<std::vector<std::size_t>>& unit_of) {
  std::vector<Unit> units;
  std::map<Word, std::size_t> seen;
  unit_of.assign(probes.size(), {});
  const auto tail = [&](const Word& w, int len, Unit& u) {
    u.last = len >= 1 ? w[len - 1] : k;
    u.before_last = len >= 2 ? w[len - 2] : k;
  };
  for (std::size_t p = 0; p < probes.size(); ++p) {
    const Example& e = probes[p];
    const int n = static_cast<int>(e.word.size());
    if (!next_symbol) {
      Unit u;
      u.word = p, u.length = n, u.label = e.label;
      tail(e.word, n, u);
      unit_of[p].assign(1, units.size());
      units.push_back(std::move(u));
      continue;
    }
    for (int t = 0; t <= n; ++t) {
      Word prefix(e.word.begin(), e.word.begin() + t);
      auto [it, fresh] = seen.emplace(std::move(prefix), units.size());
      unit_of[p].push_back(it->second);
      if (!fresh) continue;
      Unit u;
      u.word = p, u.length = t;
      u.legal.assign(k + 1, 0);
      for (Symbol s : e.next->next[t]) u.legal[s] = 1;
      u.legal[k] = e.next->prefix_accepted[t] ? 1 : 0;
      tail(e.word, t, u);
      units.push_back(std::move(u));
    }
  }
  return units;
}

}  // namespace

std::vector<Example> memory_probes(Sampler& sampler, bool next_symbol, int lo, int hi,
                                   int per_length, int target_length, std::uint64_t seed) {
  if (!next_symbol) return probe_set(sampler, lo, hi, per_length, seed);
  std::vector<Example> out;
  Rng rng(seed);
  for (int n = lo; n <= hi; ++n) {
    check_interrupt();
    const BigInt count = sampler.count_accepted(n);
    std::set<Word> words;
    if (count <= per_length) {
      for (BigInt i = 0; i < count; ++i) words.insert(sampler.unrank_accepted(n, i));
    } else {
      for (int tries = 0; tries < 8 * per_length && static_cast<int>(words.size()) < per_length;
           ++tries)
        words.insert(*sampler.accepted(n, rng));
    }
    for (const Word& w : words) out.push_back({w, 1, sampler.next_targets(w, target_length)});
  }
  return out;
}

MemoryReport ffn_memories(const nets::Checkpoint& checkpoint, std::vector<Example> probes,
                          int top_k) {
  const nets::ModelConfig& mc = checkpoint.config.model;
  const bool next_symbol = mc.objective == nets::Objective::next_symbol;
  const int k = checkpoint.num_symbols, L = mc.n_layers, F = mc.d_ff, C = mc.d_model;
  const int outputs = next_symbol ? k + 1 : 1;
  if (probes.empty()) throw InputError("memories: no probe words");
  for (const auto& e : probes)
    if (next_symbol && !e.next) throw InputError("memories: next-symbol probes need targets");
  std::vector<std::vector<std::size_t>> unit_of;
  const std::vector<Unit> units = trigger_units(probes, next_symbol, k, unit_of);
  const std::size_t U = units.size();
  require_memory(8.0 * U * F * L, "--per-length", "the FFN coefficients of the probes");
  // coeff[l][i * U + u]: the largest coefficient of unit i on trigger u.
  std::vector<std::vector<double>> coeff(
      L, std::vector<double>(static_cast<std::size_t>(F) * U,
                             -std::numeric_limits<double>::infinity()));
  nets::Transformer<double> model = double_model(checkpoint);
  model.set_introspection(true);
  const std::size_t chunk = 32;
  for (std::size_t start = 0; start < probes.size(); start += chunk) {
    check_interrupt();
    const std::size_t end = std::min(probes.size(), start + chunk);
    const std::vector<Example> part(probes.begin() + start, probes.begin() + end);
    const auto batch = inference_batch(part, k, mc.objective);
    model.forward(batch);
    for (int l = 0; l < L; ++l) {
      const auto& hidden = *model.layer_states(l).ffn_hidden;  // (B, Tn, F)
      for (std::size_t b = 0; b < part.size(); ++b) {
        const std::size_t p = start + b;
        const int n = static_cast<int>(probes[p].word.size());
        for (int t = 0; t <= (next_symbol ? n : n + 1); ++t) {
          const std::size_t u = next_symbol ? unit_of[p][t] : unit_of[p][0];
          const double* h = hidden.data() + (b * batch.Tn + t) * F;
          for (int i = 0; i < F; ++i) {
            double& c = coeff[l][static_cast<std::size_t>(i) * U + u];
            c = std::max(c, h[i]);
          }
        }
      }
    }
  }

  const double* head = model.param("head.w");
  MemoryReport report;
  report.next_symbol = next_symbol;
  const int K = std::max(1, std::min<int>(top_k, static_cast<int>(U)));
  // Chance of K independent triggers sharing their last symbol / bigram.
  std::map<int, double> p_last;
  std::map<std::pair<int, int>, double> p_bigram;
  for (const Unit& u : units) {
    p_last[u.last] += 1.0 / U;
    p_bigram[{u.before_last, u.last}] += 1.0 / U;
  }
  double chance_last = 0, chance_bigram = 0;
  for (const auto& [c, p] : p_last) chance_last += std::pow(p, K);
  for (const auto& [c, p] : p_bigram) chance_bigram += std::pow(p, K);

  for (int l = 0; l < L; ++l) {
    const double* w2 = model.param(fmt::format("layers.{}.ffn.w2", l));
    LayerMemories lm;
    lm.layer = l;
    lm.chance_same_last = chance_last, lm.chance_same_bigram = chance_bigram;
    std::vector<double> constant(outputs == 1 ? 2 : outputs, 0.0);
    std::vector<double> predicted(constant.size(), 0.0);  // active keys per prediction
    std::vector<std::size_t> order(U);
    for (int i = 0; i < F; ++i) {
      Memory m;
      m.layer = l, m.unit = i;
      m.value_scores.assign(outputs, 0.0);
      for (int o = 0; o < outputs; ++o)
        for (int c = 0; c < C; ++c)
          m.value_scores[o] += head[static_cast<std::size_t>(o) * C + c] * w2[c * F + i];
      m.prediction =
          next_symbol
              ? static_cast<int>(std::max_element(m.value_scores.begin(), m.value_scores.end()) -
                                 m.value_scores.begin())
              : (m.value_scores[0] > 0 ? 1 : 0);
      const double* ci = coeff[l].data() + static_cast<std::size_t>(i) * U;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(
          order.begin(), order.begin() + K, order.end(),
          [&](std::size_t a, std::size_t b) { return ci[a] != ci[b] ? ci[a] > ci[b] : a < b; });
      double agree = 0, chance = 0;
      std::vector<double> counted(constant.size(), 0.0);
      bool same_last = true, same_bigram = true;
      for (int r = 0; r < K; ++r) {
        const Unit& u = units[order[r]];
        Trigger t{u.word, u.length, ci[order[r]], false};
        if (next_symbol) {
          t.agrees = u.legal[m.prediction] != 0;
          chance += static_cast<double>(std::count(u.legal.begin(), u.legal.end(), 1)) / outputs;
          for (int o = 0; o < outputs; ++o) counted[o] += u.legal[o];
        } else {
          t.agrees = u.label == m.prediction;
          chance += 0.5;
          counted[u.label] += 1;
        }
        agree += t.agrees;
        const Unit& first = units[order[0]];
        same_last = same_last && u.last == first.last;
        same_bigram = same_bigram && u.last == first.last && u.before_last == first.before_last;
        m.triggers.push_back(t);
      }
      m.agreement = agree / K;
      m.same_last = same_last, m.same_bigram = same_bigram;
      m.active = ci[order[K - 1]] > 0;
      if (m.active) {
        ++lm.active;
        lm.agreement += m.agreement;
        lm.chance += chance / K;
        lm.same_last += same_last ? 1.0 : 0.0;
        lm.same_bigram += same_bigram ? 1.0 : 0.0;
        for (int o = 0; o < static_cast<int>(constant.size()); ++o) constant[o] += counted[o];
        predicted[m.prediction] += 1;
      }
      report.memories.push_back(std::move(m));
    }
    const double a = std::max(1, lm.active);
    lm.agreement /= a, lm.chance /= a, lm.same_last /= a, lm.same_bigram /= a;
    lm.best_constant = *std::max_element(constant.begin(), constant.end()) / (K * a);
    for (std::size_t o = 0; o < constant.size(); ++o)
      lm.permuted += predicted[o] / a * constant[o] / (K * a);
    report.layers.push_back(lm);
  }
  report.probes = std::move(probes);
  return report;
}

}  // namespace saturn::saturate
