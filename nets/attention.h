// Multi-head attention, one (sequence, head) at a time: the scores Q K^T and the weighted sum
// A V are Eigen matrix products over that head's slices; the weights live in a per-thread
// buffer and are kept only if the caller asks (backward recomputes them otherwise).
//   softmax:   a_ij = softmax_j(q_i . k_j / sqrt(dh))
//   pointwise: a_ij = n_i^(-alpha) h(q_i . k_j / sqrt(dh))   (Wortsman et al. 2023)
//   sparsemax: a_i. = sparsemax(s_i.), s_ij = q_i . k_j / sqrt(dh)  (Martins & Astudillo 2016)
// over the keys j that query i may see: j < length[b] (padding), and j <= i if causal;
// n_i is their number. Padded query rows give zero output.
#pragma once

#include <array>
#include <vector>

#include "nets/activation.h"

namespace saturn::nets {

// The c -> infinity limit of softmax attention (Merrill et al. 2021), for inference only:
// `average` spreads the weight uniformly over the argmax set (the limit of softmax(c s));
// `leftmost` / `rightmost` give it all to one position of that set (unique-hard attention).
enum class HardAttention { none, average, leftmost, rightmost };
inline constexpr std::array<const char*, 4> kHardAttentionNames = {"none", "average", "leftmost",
                                                                   "rightmost"};

struct AttentionSpec {
  bool softmax = true;  // else pointwise with `pointwise` (unless sparsemax)
  Activation pointwise = Activation::relu;
  double alpha = 1.0;  // length exponent for pointwise attention
  bool causal = false;
  // Inference-only knobs (saturate/): scores multiplied by score_scale before the softmax (a
  // temperature 1/c), or softmax replaced by its hard limit. Two scores tie when they are equal
  // after rounding each to tie_bits significant bits relative to the row's largest |score|.
  double score_scale = 1.0;
  HardAttention hard = HardAttention::none;
  int tie_bits = 16;
  // Per-head tolerances of hard attention, layer-major (n_layers * n_heads; empty: all 0): a
  // head attends to every key whose (rounded, scaled) score is within tolerance of the row's
  // maximum; +infinity attends to every visible key (uniform averaging). `layer` says whose
  // tolerances apply; the model sets it before each layer's attention.
  std::vector<double> tolerance{};
  int layer = 0;
  bool sparsemax = false;  // sparsemax instead of softmax or pointwise (hard still overrides)
  double head_tolerance(int H, int h) const {
    const std::size_t i = static_cast<std::size_t>(layer) * H + h;
    return i < tolerance.size() ? tolerance[i] : 0.0;
  }
};

// Rounds each score in s[0..n) to a multiple of 2^(e - tie_bits), with 2^e the row's largest
// |score| rounded up to a power of two: the tie tolerance of hard attention.
template <class T>
void round_scores(T* s, int n, int tie_bits);

// Martins & Astudillo (2016): a[0..n) = sparsemax(z) = argmin_{p in simplex} |p - z|^2, in
// place: max(0, z_j - tau), tau = (sum_{j<=k} z_(j) - 1) / k over the scores sorted descending,
// k = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}. O(n log n); nothing for n = 0.
template <class T>
void sparsemax_forward(T* a, int n);

// out (B,T,C) = attention over qkv (B,T,3C) laid out [q | k | v], each C = H * dh, heads
// contiguous inside. lengths (B): real lengths. att (B,H,T,T): the weights, if not null.
// With query_pos (B) given, only query position query_pos[b] of each sequence is computed (keys
// and values at every position): out is (B,C) and att (B,H,1,T). This is what a BOS/EOS
// readout needs from the last layer. scores (B,H,T,T) (or (B,H,1,T)), if not null: the scores
// the weights are computed from, spec.score_scale q.k / sqrt(dh) before the softmax (before
// hard attention's rounding), -inf where a key is not visible (TransformerLens's
// hook_attn_scores); null costs nothing.
// With spec.hard set the backward pass is straight-through: the hard weights carry the
// values' gradient, the softmax Jacobian at spec.score_scale the scores' (attention = "hard").
template <class T>
void attention_forward(T* out, T* att, const T* qkv, const int* lengths, const AttentionSpec& spec,
                       int B, int Tn, int C, int H, const int* query_pos = nullptr,
                       T* scores = nullptr);

// dqkv (B,T,3C) += gradients of q, k and v, from dout (B,T,C), or (B,C) with query_pos. att:
// the forward's weights, or null to recompute them.
template <class T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, const int* lengths,
                        const AttentionSpec& spec, int B, int Tn, int C, int H,
                        const int* query_pos = nullptr);

}  // namespace saturn::nets
