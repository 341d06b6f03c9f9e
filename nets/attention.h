// Multi-head attention, fused per query row: scores, normaliser and weighted sum in one pass,
// so the T x T weights are materialised once per head (and kept for the backward pass).
//   softmax:   a_ij = softmax_j(q_i . k_j / sqrt(dh))
//   pointwise: a_ij = n_i^(-alpha) h(q_i . k_j / sqrt(dh))   (Wortsman et al. 2023)
// over the keys j that query i may see: j < length[b] (padding), and j <= i if causal;
// n_i is their number. Padded query rows give zero output.
#pragma once

#include "nets/activation.h"

namespace saturn::nets {

struct AttentionSpec {
  bool softmax = true;  // else pointwise with `pointwise`
  Activation pointwise = Activation::relu;
  double alpha = 1.0;  // length exponent for pointwise attention
  bool causal = false;
};

// out (B,T,C) = attention over qkv (B,T,3C) laid out [q | k | v], each C = H * dh, heads
// contiguous inside. att (B,H,T,T): the weights, saved for backward. lengths (B): real lengths.
template <class T>
void attention_forward(T* out, T* att, const T* qkv, const int* lengths, const AttentionSpec& spec,
                       int B, int Tn, int C, int H);

// dqkv (B,T,3C) += gradients of q, k and v, from dout (B,T,C).
template <class T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, const int* lengths,
                        const AttentionSpec& spec, int B, int Tn, int C, int H);

}  // namespace saturn::nets
