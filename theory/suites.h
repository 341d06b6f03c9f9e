// The suites (one file each) and what they share.
#pragma once

#include "lang/dataset.h"
#include "nets/model.h"
#include "theory/suite.h"

namespace saturn::theory {

Suite merrill_suite();
Suite xiong_suite();
Suite wortsman_suite();
Suite brody_suite();
Suite geva_suite();

// xiong's measurement: per layer, ||dL/d(ffn.w1, ffn.w2)|| on one batch at the model's current
// parameters (forward and backward in double precision).
std::vector<double> ffn_gradient_norms(nets::Transformer<double>& model,
                                       const nets::Batch<double>& batch);

// A finished run's final checkpoint scored by nets::evaluate: `per_length` accepted and
// `per_length` rejected words per length in [lo, hi], rejected ones drawn as `negatives` says,
// from the evaluation seed `seed` (the same words for every run given the same seed). Kept in
// c.cached, so a second suite run reads it back.
double final_accuracy(Context& c, const std::filesystem::path& run_dir, const std::string& language,
                      int lo, int hi, int per_length, Negatives negatives, std::uint64_t seed);

// xiong.warmup: the index of the largest learning rate of an increasing grid whose run trains
// (accuracy[i] >= threshold), whether or not the smaller ones do; -1 when none does.
int largest_trained(const std::vector<double>& accuracy, double threshold);

// xiong.grad-by-layer: a per-layer profile's fitted last/first ratio, exp((L - 1) s) with s the
// least-squares slope of log g(l) on l = 0..L-1 (at least two layers, every g > 0).
double fitted_last_first_ratio(const std::vector<double>& per_layer);

}  // namespace saturn::theory
