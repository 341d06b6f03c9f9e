#include "saturate/saturation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/names.h"

namespace saturn::saturate {

TieRule parse_tie_rule(const std::string& tie, int tie_bits) {
  TieRule t;
  t.hard = parse_name<nets::HardAttention>(nets::kHardAttentionNames, "--tie", tie);
  if (t.hard == nets::HardAttention::none)
    throw InputError("--tie: expected average, leftmost or rightmost (got 'none')");
  if (tie_bits < 1 || tie_bits > 52)
    throw InputError(fmt::format("--tie-bits: expected 1..52 (got {})", tie_bits));
  t.tie_bits = tie_bits;
  return t;
}

TieRule model_set_rule(const nets::ModelConfig& config) {
  TieRule t;
  if (config.set_tolerance() != 0)
    t.tolerance.assign(static_cast<std::size_t>(config.n_layers) * config.n_heads,
                       config.set_tolerance());
  return t;
}

std::string TieRule::describe() const {
  if (hard == nets::HardAttention::none) return "sparsemax (the model's own attention)";
  const char* rule = hard == nets::HardAttention::average    ? "average-hard"
                     : hard == nets::HardAttention::leftmost ? "unique-hard (leftmost)"
                                                             : "unique-hard (rightmost)";
  std::string text =
      fmt::format("{}, scores tie when equal to {} significant bits", rule, tie_bits);
  if (std::any_of(tolerance.begin(), tolerance.end(), [](double t) { return t != 0; }))
    text += ", per-head tolerances";
  return text;
}

void TieRule::apply(nets::Transformer<double>& model) const {
  nets::AttentionSpec spec = model.attention();
  spec.hard = hard;
  spec.tie_bits = tie_bits;
  spec.tolerance = tolerance;
  spec.score_scale = model.config().attention_scale;
  model.set_attention(spec);
}

void set_scale(nets::Transformer<double>& model, const std::vector<double>& base, Scaling scaling,
               double c) {
  nets::AttentionSpec spec = model.attention();
  spec.hard = nets::HardAttention::none;
  if (scaling == Scaling::all) {
    for (std::size_t i = 0; i < base.size(); ++i) model.params[i] = c * base[i];
    spec.score_scale = model.config().attention_scale;
  } else {
    model.params.assign(base.begin(), base.end());
    spec.score_scale = c * model.config().attention_scale;
  }
  model.set_attention(spec);
}

double mean_cosine(const std::vector<double>& a, const std::vector<double>& b, int C) {
  const std::size_t rows = a.size() / C;
  if (rows == 0) return 1.0;
  double sum = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (int c = 0; c < C; ++c) {
      const double x = a[r * C + c], y = b[r * C + c];
      ab += x * y, aa += x * x, bb += y * y;
    }
    sum += aa == 0 && bb == 0 ? 1.0 : aa == 0 || bb == 0 ? 0.0 : ab / std::sqrt(aa * bb);
  }
  return sum / rows;
}

SaturationRow saturation_report(const nets::Checkpoint& checkpoint,
                                const std::vector<Example>& probes, const TieRule& tie,
                                const std::vector<double>& cs,
                                const std::function<void(int, int)>& on_pass) {
  require_softmax(checkpoint.config.model);
  nets::Transformer<double> model = double_model(checkpoint);
  const std::vector<double> base(model.params.begin(), model.params.end());
  const int C = checkpoint.config.model.d_model;
  SaturationRow row;
  row.step = checkpoint.step;
  row.norm = nets::parameter_norm(model.layout(), checkpoint.params.data());
  row.cs = cs;

  const int passes = 2 + 2 * static_cast<int>(std::count_if(cs.begin(), cs.end(),
                                                            [](double c) { return c != 1; }));
  int done = 0;
  auto passed = [&] {
    if (on_pass) on_pass(++done, passes);
  };
  const Outputs soft = run_model(model, probes);
  passed();
  for (Scaling scaling : {Scaling::all, Scaling::logits}) {
    auto& curve = scaling == Scaling::all ? row.cosine_all : row.cosine_logits;
    for (double c : cs) {
      if (c == 1) {
        curve.push_back(1.0);
        continue;
      }
      set_scale(model, base, scaling, c);
      curve.push_back(mean_cosine(soft.states, run_model(model, probes).states, C));
      passed();
    }
  }
  set_scale(model, base, Scaling::logits, 1);
  tie.apply(model);
  const Outputs hard = run_model(model, probes);
  passed();

  for (std::size_t i = 0; i < probes.size(); ++i) {
    const bool s = soft.decision[i] > 0, h = hard.decision[i] > 0, label = probes[i].label == 1;
    for (LengthStats* st : {&row.per_length[static_cast<int>(probes[i].word.size())], &row.total}) {
      ++st->words;
      st->soft_correct += s == label;
      st->hard_correct += h == label;
      st->agree += s == h;
    }
  }
  return row;
}

}  // namespace saturn::saturate
