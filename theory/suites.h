// The suites (one file each) and what they share.
#pragma once

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

}  // namespace saturn::theory
