// Saturated circuits: a trained model's saturated network as a standalone object that can be
// evaluated exactly (exact_eval.h) and verified (verify/). Weights are dyadic rationals
// numerator / 2^denominator_bits; the tie rule is part of the circuit.
//
// JSON schema (version 1; README, "Saturate and extract circuits"):
//   format "saturn-circuit", version 1, language {name, spec}, alphabet [names],
//   architecture {model config keys: text values}, attention {rule, tie_bits},
//   denominator_bits k, tensors {name: {shape [..], numerators [..]}} (value = numerator / 2^k),
//   heads [{layer, head, label, pattern, mean_attended, mean_fraction}],
//   agreement {probe_words, float_agree, exact_agree, undecided}, comment (optional text).
// Sinusoidal positions are stored as a tensor "embed.sinusoidal" (max_length + 2, C), rounded
// like every weight, so evaluation needs no transcendental function.
#pragma once

#include <filesystem>
#include <map>
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

struct Circuit {
  int version = kCircuitVersion;
  std::string language_name, language_spec;
  Alphabet alphabet;
  nets::ModelConfig config;
  TieRule tie;
  int denominator_bits = 0;
  std::map<std::string, DyadicTensor> tensors;
  std::vector<HeadRole> heads;
  CircuitAgreement agreement;
  std::string comment;  // where it came from (hand-built circuits: the construction)

  const DyadicTensor* find(const std::string& name) const;
};

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
