// Hand-built models for the [saturate] tests: weights set by hand so their saturated behaviour
// is known in closed form.
#pragma once

#include "nets/model.h"

namespace saturn::test {

// Majority (#a > #b over {a, b}): one layer, one head with zero queries and keys, so every
// position attends uniformly (average-hard with all scores tied); values copy the +1/-1 token
// coordinate (BOS carries -1/2), so the BOS row holds (#a - #b - 1/2) / (n + 2), whose sign
// is the answer and which is never 0, so float rounding cannot flip it.
// d_model 4: dim 0 = token sign, dim 1 = BOS, dim 2 = EOS, dim 3 = the attention's average.
inline nets::Transformer<double> uniform_majority_model() {
  nets::ModelConfig c;
  c.d_model = 4, c.n_heads = 1, c.n_layers = 1, c.d_ff = 4;
  c.norm_position = nets::NormPosition::none;
  c.positional = nets::Positional::none;
  c.bias = false;
  c.readout = nets::Readout::bos;
  nets::Transformer<double> m(c, 2);
  auto set = [&](const char* name, int row, int col, int cols, double v) {
    m.param(name)[row * cols + col] = v;
  };
  set("embed.wte", 0, 0, 4, 1.0);   // a
  set("embed.wte", 1, 0, 4, -1.0);  // b
  set("embed.wte", 2, 0, 4, -0.5);  // BOS
  set("embed.wte", 2, 1, 4, 1.0);
  set("embed.wte", 3, 2, 4, 1.0);                   // EOS
  set("layers.0.attn.wqkv", 2 * 4 + 3, 0, 4, 1.0);  // v[3] = x[0]
  set("layers.0.attn.wo", 3, 3, 4, 1.0);            // out[3] = avg v[3]
  set("head.w", 0, 3, 4, 1.0);
  return m;
}

// A causal head that attends to the previous position: one-hot learned positions, q_i = e_i,
// k_j = e_{j+1}, so q_i . k_j = 1 exactly when j = i - 1 (and position 0 sees only itself).
// With `constant_scores`, queries are zero instead: every visible position ties.
inline nets::Transformer<double> positional_head_model(bool constant_scores) {
  const int C = 16;
  nets::ModelConfig c;
  c.d_model = C, c.n_heads = 1, c.n_layers = 1, c.d_ff = 4;
  c.norm_position = nets::NormPosition::none;
  c.positional = nets::Positional::learned;
  c.max_length = C - 3;
  c.bias = false;
  c.causal = true;
  nets::Transformer<double> m(c, 2);
  double* wpe = m.param("embed.wpe");
  double* wqkv = m.param("layers.0.attn.wqkv");
  for (int t = 0; t < C - 1; ++t) {
    wpe[t * C + t] = 1.0;
    if (!constant_scores) wqkv[t * C + t] = 4.0;  // q rows
    wqkv[(C + t + 1) * C + t] = 4.0;              // k rows
  }
  return m;
}

}  // namespace saturn::test
