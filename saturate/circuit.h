// Saturated circuits: a trained model's saturated network as a standalone object that can be
// evaluated exactly (exact_eval.h) and verified (verify/). Weights are dyadic rationals
// numerator / 2^denominator_bits; the tie rule is part of the circuit.
//
// JSON schema (version 1; README, "Saturate and extract circuits"):
//   format "saturn-circuit", version 1, language {name, spec}, alphabet [names],
//   architecture {model config keys: text values}, attention {rule, tie_bits, tolerance
//   (optional: per layer, per head, a numerator over 2^k of the tolerance on raw scores q.k, or
//   "uniform")},
//   rule: "average", "leftmost", "rightmost" (hard attention), or "sparsemax" (exactly when
//   the architecture has attention = "sparsemax": the model itself up to weight rounding,
//   sparsemax(attention_scale q.k / sqrt(dh)) per row; no tolerance). Readers that do not
//   know a rule refuse the file.
//   denominator_bits k, tensors {name: {shape [..], numerators [..]}} (value = numerator / 2^k),
//   heads [{layer, head, label, pattern, mean_attended, mean_fraction}],
//   agreement {probe_words, float_agree, exact_agree, undecided}, comment (optional text),
//   train_lengths "A:B" (optional), faithfulness (optional, see Faithfulness).
// Sinusoidal positions are stored as a tensor "embed.sinusoidal" (max_length + 2, C), rounded
// like every weight, so evaluation needs no transcendental function.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lang/alphabet.h"
#include "lang/dataset.h"
#include "nets/checkpoint.h"
#include "saturate/head_roles.h"

namespace saturn::saturate {

inline constexpr int kCircuitVersion = 1;
// The largest numerator in absolute value (2^62): larger ones are refused when a circuit is
// made or read, never wrapped.
inline constexpr long long kMaxNumerator = 1LL << 62;
// A head's tolerance numerator meaning "every visible key" (uniform averaging).
inline constexpr long long kUniform = -1;

struct DyadicTensor {
  std::vector<int> shape;
  std::vector<long long> numerators;  // row-major
};

struct CircuitAgreement {
  long probe_words = 0;
  long float_agree = 0;  // rounded float saturated network vs unrounded
  long exact_agree = 0;  // exact circuit vs float saturated network (decided words)
  long undecided = 0;    // exact evaluation could not decide
};

// Agreement of the circuit's exact decisions with the trained soft model's, per probe length:
// the number that says whether the circuit is the model's (issue: faithful extraction).
struct Faithfulness {
  struct Count {
    long words = 0, agree = 0, undecided = 0;
    double rate() const { return words ? double(agree) / words : 0.0; }
  };
  int train_max = 0;  // lengths <= train_max are "in range"
  std::map<int, Count> per_length;
  Count in_range() const;
  Count out_of_range() const;
};

struct Circuit {
  int version = kCircuitVersion;
  std::string language_name, language_spec;
  Alphabet alphabet;
  nets::ModelConfig config;
  TieRule tie;  // tie.tolerance is derived from `tolerance` (circuit_model uses it)
  // Per head (layer-major; empty: all 0): the attended set is every key j whose raw score q.k_j
  // is >= max - tolerance / 2^denominator_bits, or every visible key for kUniform.
  std::vector<long long> tolerance;
  int denominator_bits = 0;
  std::string train_lengths;  // of the model it came from ("A:B"), empty if unknown
  std::optional<Faithfulness> faithfulness;
  std::map<std::string, DyadicTensor> tensors;
  std::vector<HeadRole> heads;
  CircuitAgreement agreement;
  std::string comment;  // where it came from (hand-built circuits: the construction)

  const DyadicTensor* find(const std::string& name) const;
  long long head_tolerance(int layer, int head) const;  // 0 when none is recorded
};

// Tolerance numerators (raw-score units q.k over 2^bits) of float tolerances on the model's
// scores (attention_scale q.k / sqrt(dh)), rounded down; +infinity gives kUniform. And back.
std::vector<long long> tolerance_numerators(const std::vector<double>& scaled,
                                            const nets::ModelConfig& config, int bits);
std::vector<double> scaled_tolerances(const std::vector<long long>& numerators,
                                      const nets::ModelConfig& config, int bits);

// The rule of a sparsemax model's circuit: no hard attention (HardAttention::none: applying it
// leaves the model's sparsemax at its attention_scale), no tolerances.
TieRule sparsemax_rule(const TieRule& rule);

// The circuit as a floating-point model (double; its attention spec is soft until set).
nets::Transformer<double> circuit_model(const Circuit& circuit);

// Circuit of a model's parameters rounded to denominator 2^bits.
Circuit make_circuit(const nets::ModelConfig& config, std::span<const double> params,
                     const Alphabet& alphabet, int bits, const TieRule& tie);

// Exports a checkpoint: picks the smallest k in [1, 40] (or uses `bits` > 0) for which the
// rounded float saturated network agrees with the unrounded one on every probe word, then
// records head roles and the exact-vs-float agreement on the probes.
Circuit export_circuit(const nets::Checkpoint& checkpoint, const Alphabet& alphabet,
                       const std::vector<Example>& probes, const TieRule& tie, int bits = 0);

void save_circuit(const std::filesystem::path& path, const Circuit& circuit);
// Throws InputError naming the file and the field when it is not a valid version-1 circuit.
Circuit load_circuit(const std::filesystem::path& path);
Circuit parse_circuit(const std::string& json_text, const std::string& source);
std::string circuit_json(const Circuit& circuit);

// GraphViz DOT: the residual stream through the layers, each head with its role, FFNs,
// norms and the readout.
std::string circuit_dot(const Circuit& circuit);

}  // namespace saturn::saturate
