// Saturation of a trained model (Merrill et al. 2021): how close it is to its c -> infinity
// limit, and how its saturated (hard-attention) network behaves.
//   scaling `all`:    every parameter multiplied by c (Merrill et al.);
//   scaling `logits`: only the attention scores multiplied by c (a temperature 1/c -> 0).
//   saturation(c):    mean over positions of cos(h_1, h_c), h the readout's input.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nets/attention.h"
#include "saturate/probe.h"

namespace saturn::saturate {

enum class Scaling { all, logits };
inline constexpr std::array<const char*, 2> kScalingNames = {"all", "logits"};

// The hard-attention limit used for the saturated network, always reported with its results.
struct TieRule {
  nets::HardAttention hard = nets::HardAttention::average;
  int tie_bits = 16;  // ties: scores equal after rounding to this many significant bits
  // Per-head tolerances (layer-major; empty: every head 0, the c -> infinity limit): a head
  // attends to the keys whose score q.k/sqrt(dh) is within its tolerance of the row's maximum;
  // +infinity means every visible key (uniform averaging). See saturate/extract.h.
  std::vector<double> tolerance{};
  std::string describe() const;  // e.g. "average-hard, ties within 16 bits"
  // The model's attention spec with this rule (hard, score scale 1).
  void apply(nets::Transformer<double>& model) const;
};

// The model's own attended-set rule (its attention_set: argmax, the c -> infinity limit;
// tolerance, the keys within attention_tolerance of the row's maximum; uniform, every visible
// key) for every head, average-hard, ties within 16 bits: the set a hard-attention model
// attends and extraction starts from (extract.h). For attention_set = argmax it is TieRule{}.
TieRule model_set_rule(const nets::ModelConfig& config);

// The tie rule for `--tie NAME` (average, leftmost or rightmost) and `--tie-bits B` (1..52);
// throws InputError naming the flag.
TieRule parse_tie_rule(const std::string& tie, int tie_bits = 16);

// The same model at scale c: parameters times c (all), or scores times c (logits).
void set_scale(nets::Transformer<double>& model, const std::vector<double>& base_params,
               Scaling scaling, double c);

// Mean over positions of cos(a_row, b_row) for two (rows, C) state blocks; a pair of zero rows
// counts as 1, one zero row as 0.
double mean_cosine(const std::vector<double>& a, const std::vector<double>& b, int C);

struct LengthStats {
  long words = 0, soft_correct = 0, hard_correct = 0, agree = 0;
};

struct SaturationRow {
  long step = 0;
  double norm = 0;  // parameter_norm (non-scalar parameters)
  std::vector<double> cs;
  std::vector<double> cosine_all, cosine_logits;  // saturation at each c, both scalings
  std::map<int, LengthStats> per_length;
  LengthStats total;
  double soft_accuracy() const { return ratio(total.soft_correct); }
  double hard_accuracy() const { return ratio(total.hard_correct); }
  double agreement() const { return ratio(total.agree); }
  double ratio(long x) const { return total.words ? double(x) / total.words : 0.0; }
};

inline const std::vector<double> kDefaultScales = {1, 2, 5, 10, 100, 1000};

// The report for one checkpoint over the probe words (labels from the language): a forward
// pass over the probes for the soft model, for each c != 1 in both scalings, and for the
// saturated network. `on_pass(done, total)`, when given, is called after each (for
// progress; it may throw to stop).
SaturationRow saturation_report(const nets::Checkpoint& checkpoint,
                                const std::vector<Example>& probes, const TieRule& tie,
                                const std::vector<double>& cs = kDefaultScales,
                                const std::function<void(int, int)>& on_pass = {});

}  // namespace saturn::saturate
