// Faithful extraction: the saturated circuit a trained model implements, and how far it is from
// the model.
//
// Merrill et al. (2021) take the c -> infinity limit of softmax attention: each head attends to
// the argmax set of its scores. A counting head is trained to average (its soft weights are
// near-uniform: scores differ by noise), and the limit turns that noise into a hard choice, so
// the argmax circuit is not the model's. Here each head gets the attended set the model's own
// soft weights support:
//   argmax     tolerance 0: the keys with the maximal score (the c -> infinity limit);
//   tolerance  every key whose score s_j = q.k_j / sqrt(dh) is >= max - t, i.e. whose soft weight
//              is at least e^-t times the row's largest (t = ln(1/rho) for a weight ratio rho);
//   uniform    every visible key (global averaging, Merrill et al.'s "global" heads, and the
//              c = 1 limit of a head whose scores do not depend on the key).
// Each is an average-hard (or unique-hard) attention in the sense of Merrill et al. 2022 over a
// set of keys defined by the scores, so the circuit stays exactly evaluable and verifiable.
//
// The search: faithfulness = agreement of the float saturated network's decisions with the
// trained soft model's, on probe words in the training range and beyond it (up to twice the
// longest training length when max_length allows). Starting from every head at argmax, each
// head in turn takes the candidate with the highest faithfulness (ties: the simpler, in the
// order argmax, uniform, tolerances ascending), for up to three rounds until nothing changes.
// The weights are then rounded (export_circuit) and the exact circuit's faithfulness measured.
//
// A sparsemax model (attention = "sparsemax", Martins & Astudillo 2016) is its own circuit:
// no search, its weights rounded, every head's setting "sparsemax".
#pragma once

#include <string>
#include <vector>

#include "saturate/circuit.h"

namespace saturn::saturate {

struct ExtractOptions {
  TieRule rule;  // average / leftmost / rightmost, tie bits
  int bits = 0;  // 0: the smallest that keeps the decisions
  std::vector<double> ratios = {0.99, 0.9, 0.75, 0.5, 0.25, 0.1, 0.01, 0.001};  // ln(1/rho)
  double uniform_factor = 2.0;  // a row is near-uniform when max w / min w <= this
  bool search = true;           // false: every head at argmax (Merrill et al.'s limit)
};

// What the search chose for one head, with the soft model's statistics.
struct HeadChoice {
  int layer = 0, head = 0;
  double tolerance = 0;        // on scaled scores; +infinity: uniform
  std::string setting;         // "argmax", "uniform", "tolerance 0.693 (weights >= 0.5 x max)"
  double near_uniform = 0;     // share of rows whose soft weights are within uniform_factor
  double distance = 0;         // mean total variation between soft and chosen hard weights
  double argmax_distance = 0;  // the same for the argmax limit, for comparison
};

struct Extraction {
  Circuit circuit;  // with faithfulness filled in
  std::vector<HeadChoice> heads;
  long float_agree = 0, probe_words = 0;  // float saturated network vs soft model, all probes
  long argmax_agree = 0;                  // the same with every head at argmax
  long soft_correct = 0;                  // soft model vs the language's labels
  int rounds = 0;
};

// The soft model's decisions (> 0 accepts) on the probes.
std::vector<bool> soft_decisions(const nets::Checkpoint& checkpoint,
                                 const std::vector<Example>& probes);

// The exact circuit's agreement with `reference` decisions, per probe length.
Faithfulness faithfulness(const Circuit& circuit, const std::vector<Example>& probes,
                          const std::vector<bool>& reference, int train_max);

// Searches per-head attended sets (see above) on the probes, rounds, and measures faithfulness.
// train_max: the longest training length (probes longer are "out of range").
Extraction extract_circuit(const nets::Checkpoint& checkpoint, const Alphabet& alphabet,
                           const std::vector<Example>& probes, int train_max,
                           const ExtractOptions& options);

}  // namespace saturn::saturate
