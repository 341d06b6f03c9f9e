// Probe sets and batched inference for the analyses of saturate/: the same words go through the
// soft model, its scaled versions and its saturated network, so their outputs line up.
#pragma once

#include <cstdint>
#include <vector>

#include "lang/dataset.h"
#include "lang/sample.h"
#include "nets/checkpoint.h"
#include "nets/model.h"

namespace saturn::saturate {

// For each length in [lo, hi]: every word when there are at most 2 * per_length of them, else
// per_length uniform accepted and per_length uniform rejected words (fewer if a class is
// smaller). Labels from the language.
std::vector<Example> probe_set(Sampler& sampler, int lo, int hi, int per_length,
                               std::uint64_t seed);

// The checkpoint's model in double precision (scaled networks reach c^L-sized values).
nets::Transformer<double> double_model(const nets::Checkpoint& checkpoint);

// A padded batch for inference: next-symbol models get placeholder targets (only outputs are read).
nets::Batch<double> inference_batch(const std::vector<Example>& examples, int num_symbols,
                                    nets::Objective objective);

// One forward over the probes, in batches.
struct Outputs {
  std::vector<double> decision;  // per word: its accept logit (> 0 accepts)
  std::vector<double> states;    // the readout's input at every real position, words in order
};
// Recognition: the classifier's logit. Next-symbol: the "end" logit after the whole word.
Outputs run_model(nets::Transformer<double>& model, const std::vector<Example>& probes,
                  int batch_size = 32);

// Throws InputError when attention is pointwise: such models have no argmax limit. Sparsemax
// passes: its c -> infinity limit is the same average over the argmax set, and a sparsemax
// model is its own circuit (exact zeros, piecewise linear).
void require_softmax(const nets::ModelConfig& config);

}  // namespace saturn::saturate
