// The score margin of issue 24 §1: a hinge on the gap between a row's attended set and the best
// key outside it, so that softmax at a growing scale approaches average-hard attention (Yang,
// Strobl, Chiang & Angluin 2024, "Simulating hard attention using soft attention", need such a
// gap). Over the same buffers as attention_forward / attention_backward (nets/attention.h).
#pragma once

#include "nets/attention.h"

namespace saturn::nets {

// For every (sequence b, head h, query row i): s_j = spec.score_scale q_i.k_j / sqrt(dh) over
// the visible keys j; S = the keys whose score, rounded to spec.tie_bits (round_scores), is
// within `tolerance` of the row's rounded maximum; the row's hinge is
//   max(0, gap - (min_{j in S} s_j - max_{k not in S} s_k)),   0 when S is every visible key.
// head_sums (H) = the hinges summed over rows, per head; returns the number of rows (real query
// positions, or one per sequence with query_pos as in attention_forward). O(B H T^2 dh).
template <class T>
long margin_forward(T* head_sums, const T* qkv, const int* lengths, const AttentionSpec& spec,
                    T tolerance, T gap, int B, int Tn, int C, int H,
                    const int* query_pos = nullptr);

// dqkv (B,T,3C) += weight * d(sum of every row's hinge)/d(q, k): a positive hinge sends
// -weight to its set's lowest score and +weight to the best outside score.
template <class T>
void margin_backward(T* dqkv, const T* qkv, const int* lengths, const AttentionSpec& spec,
                     T tolerance, T gap, T weight, int B, int Tn, int C, int H,
                     const int* query_pos = nullptr);

}  // namespace saturn::nets
