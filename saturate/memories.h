// FFN layers as key-value memories (Geva et al. 2021) for formal languages. In layer l,
// FF(x) = f(x W1^T + b1) W2^T + b2: hidden unit i is a memory whose *key* is row i of W1 and
// whose *value* is column i of W2; m_i = f(x . k_i + b_i) is its coefficient.
//
// - Triggers of a key: the K probe prefixes (next-symbol models: w[:t], t = 0..|w|, read at
//   position t) or probe words (recognisers: the largest coefficient over the word's positions)
//   with the largest coefficient. Identical prefixes count once (their largest coefficient).
// - A value's prediction: the value projected through the output layer, head.w v_i (the final
//   norm is left out, as in Geva et al.): next-symbol models predict the output (symbol or
//   "end") with the largest score; recognisers predict accept when the accept logit's weight
//   direction scores it above 0.
// - Agreement of a key: the fraction of its triggers for which the prediction is right: a
//   symbol that may legally follow the prefix, or "end" for an accepted prefix (next-symbol); the
//   word's label (recognisers).
// - Chance, exactly, over the same triggers: the agreement of a prediction drawn uniformly
//   from the outputs (|legal(t)| / (k+1) averaged; 1/2 for recognisers); and the best constant
//   prediction (the output legal for the most triggers); and a permutation baseline, the
//   expected agreement when the layer's values are shuffled across its active keys (each key
//   gets the prediction of a uniformly drawn active key): sum_o q_o a_o, q_o the share of active
//   keys predicting o and a_o the agreement of the constant o on all their triggers. It is never
//   above the best constant.
// - Shallow patterns: whether all K triggers of a key end in the same symbol (BOS for the empty
//   prefix), or the same two; chance: K prefixes drawn independently from the probe prefixes,
//   sum_c p_c^K.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/dataset.h"
#include "lang/sample.h"
#include "nets/checkpoint.h"

namespace saturn::saturate {

struct Trigger {
  std::size_t word = 0;  // index into the probes
  int length = 0;        // the prefix w[:length] (recognisers: the whole word)
  double coefficient = 0;
  bool agrees = false;
};

struct Memory {
  int layer = 0, unit = 0;
  std::vector<double> value_scores;  // head.w v_i: k+1 outputs, or the accept direction
  int prediction = 0;                // an output index (k = end), or 1 accept / 0 reject
  std::vector<Trigger> triggers;     // largest coefficient first
  double agreement = 0;
  bool same_last = false, same_bigram = false;
  bool active = false;  // all K triggers have a positive coefficient (else: a dead unit)
};

// Layer means are over the active keys only (a dead ReLU unit's "triggers" are arbitrary ties).
struct LayerMemories {
  int layer = 0, active = 0;
  double agreement = 0, chance = 0, best_constant = 0;  // means over the layer's keys
  double permuted = 0;  // values shuffled across the active keys (expected agreement)
  double same_last = 0, same_bigram = 0;  // fractions of keys
  double chance_same_last = 0, chance_same_bigram = 0;
};

struct MemoryReport {
  bool next_symbol = false;
  std::vector<Example> probes;  // with next-symbol targets when next_symbol
  std::vector<Memory> memories;
  std::vector<LayerMemories> layers;
};

// Probe words for memories: for each length in [lo, hi], up to per_length distinct uniform
// accepted words (next-symbol models learn from accepted words) or, for recognisers, as many
// accepted as rejected (probe_set). Next-symbol targets look ahead to `target_length`.
std::vector<Example> memory_probes(Sampler& sampler, bool next_symbol, int lo, int hi,
                                   int per_length, int target_length, std::uint64_t seed);

MemoryReport ffn_memories(const nets::Checkpoint& checkpoint, std::vector<Example> probes,
                          int top_k);

}  // namespace saturn::saturate
