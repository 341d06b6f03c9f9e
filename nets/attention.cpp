#include "nets/attention.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "nets/row_matrix.h"

namespace saturn::nets {

namespace {
// A (rows x dh) slice of q, k or v: rows `stride` elements apart.
template <class T>
using Slice = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using MutableSlice = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;

// Keys visible to query i of a sequence of real length len: [0, last).
inline int visible_keys(int i, int len, bool causal) {
  return causal ? std::min(i + 1, len) : len;
}

// Scores a[0..n) -> hard attention weights: the keys within `tolerance` of the maximum after
// rounding to the tie precision (all keys when it is infinite) get weight 1/|set| (average), or
// one of them gets 1 (leftmost / rightmost).
template <class T>
void hard_attention_row(T* a, int n, const AttentionSpec& spec, T tolerance) {
  if (std::isinf(tolerance)) {
    std::fill(a, a + n, T(0));
  } else {
    round_scores(a, n, spec.tie_bits);
  }
  const T floor = *std::max_element(a, a + n) - (std::isinf(tolerance) ? T(0) : tolerance);
  int winners = 0, first = -1, last = -1;
  for (int j = 0; j < n; ++j)
    if (a[j] >= floor) {
      ++winners;
      last = j;
      if (first < 0) first = j;
    }
  for (int j = 0; j < n; ++j) {
    const bool wins = a[j] >= floor;
    switch (spec.hard) {
      case HardAttention::average:
        a[j] = wins ? T(1) / T(winners) : T(0);
        break;
      case HardAttention::leftmost:
        a[j] = j == first ? T(1) : T(0);
        break;
      default:
        a[j] = j == last ? T(1) : T(0);
        break;
    }
  }
}

// Sparsemax's Jacobian (Martins & Astudillo 2016, §2.3): with S the support (a_j > 0),
// dL/ds_j = [j in S] (dL/da_j - mean_{i in S} dL/da_i), in place on da[0..n).
template <class T>
void sparsemax_backward_row(T* da, const T* a, int n) {
  T sum = 0;
  int support = 0;
  for (int j = 0; j < n; ++j)
    if (a[j] > T(0)) sum += da[j], ++support;
  const T mean = support ? sum / T(support) : T(0);
  for (int j = 0; j < n; ++j) da[j] = a[j] > T(0) ? da[j] - mean : T(0);
}

// The queries of one sequence: all of [0, len), or the single position query_pos[b].
struct Queries {
  int first, count;
};
inline Queries queries_of(int b, int len, const int* query_pos) {
  return query_pos ? Queries{query_pos[b], 1} : Queries{0, len};
}

// One (sequence, head): S = factor * Q K^T over the visible keys, into A (nq x len), then the
// weights in place; entries past a row's visible keys are 0. `scores`, when given, receives S.
template <class T>
void head_weights(RowMatrix<T>& A, const Slice<T>& Q, const Slice<T>& K, Queries qs, int len,
                  const AttentionSpec& spec, T factor, T tolerance,
                  RowMatrix<T>* scores = nullptr) {
  A.resize(qs.count, len);
  A.noalias() = factor * (Q * K.transpose());
  if (scores) *scores = A;
  for (int r = 0; r < qs.count; ++r) {
    const int n = visible_keys(qs.first + r, len, spec.causal);
    auto row = A.row(r);
    row.tail(len - n).setZero();
    auto a = row.head(n).array();
    if (spec.hard != HardAttention::none) {
      hard_attention_row(row.data(), n, spec, tolerance);
    } else if (spec.sparsemax) {
      sparsemax_forward(row.data(), n);
    } else if (spec.softmax) {
      a = (a - a.maxCoeff()).exp();
      a /= a.sum();
    } else {
      const T length_scale = std::pow(T(n), T(-spec.alpha));
      for (int j = 0; j < n; ++j) a[j] = length_scale * activate(spec.pointwise, a[j]);
    }
  }
}

}  // namespace

template <class T>
void sparsemax_forward(T* a, int n) {
  if (n <= 0) return;
  thread_local std::vector<T> sorted;  // reused: no allocation once warm
  sorted.assign(a, a + n);
  std::sort(sorted.begin(), sorted.end(), std::greater<T>());
  // The k satisfying the condition are exactly 1..k(z): the last one found is k(z).
  T cumulative = 0, support_sum = sorted[0];
  int support = 1;
  for (int k = 1; k <= n; ++k) {
    cumulative += sorted[k - 1];
    if (T(1) + T(k) * sorted[k - 1] > cumulative) support = k, support_sum = cumulative;
  }
  const T tau = (support_sum - T(1)) / T(support);
  for (int j = 0; j < n; ++j) a[j] = std::max(T(0), a[j] - tau);
}

template <class T>
void round_scores(T* s, int n, int tie_bits) {
  T largest = 0;
  for (int j = 0; j < n; ++j) largest = std::max(largest, std::abs(s[j]));
  if (largest == T(0) || !std::isfinite(largest)) return;
  int e;
  std::frexp(largest, &e);  // largest < 2^e
  const T quantum = std::ldexp(T(1), e - tie_bits);
  for (int j = 0; j < n; ++j) s[j] = std::nearbyint(s[j] / quantum) * quantum;
}

template <class T>
void attention_forward(T* out, T* att, const T* qkv, const int* lengths, const AttentionSpec& spec,
                       int B, int Tn, int C, int H, const int* query_pos, T* scores) {
  const int dh = C / H;
  const T factor = static_cast<T>(spec.score_scale) / std::sqrt(T(dh));
  const long C3 = 3L * C;
  const int out_rows = query_pos ? 1 : Tn;  // output rows per sequence
  // Each (b, h) is computed alone, so the threads change nothing in the results; a small batch
  // (one word, a few heads) stays on one thread, where waking another costs more than it saves.
  const bool parallel = static_cast<double>(B) * H * Tn * Tn * dh >= 65536;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      thread_local RowMatrix<T> A, S;  // reused across calls: no allocation once warm
      const int len = lengths[b];
      const Queries qs = queries_of(b, len, query_pos);
      const T* seq = qkv + static_cast<long>(b) * Tn * C3 + h * dh;
      const Slice<T> Q(seq + qs.first * C3, qs.count, dh, Eigen::OuterStride<>(C3));
      const Slice<T> K(seq + C, len, dh, Eigen::OuterStride<>(C3));
      const Slice<T> V(seq + 2 * C, len, dh, Eigen::OuterStride<>(C3));
      head_weights(A, Q, K, qs, len, spec, factor, static_cast<T>(spec.head_tolerance(H, h)),
                   scores ? &S : nullptr);
      MutableSlice<T> O(out + static_cast<long>(b) * out_rows * C + h * dh, out_rows, dh,
                        Eigen::OuterStride<>(C));
      O.topRows(qs.count).noalias() = A * V;
      O.bottomRows(out_rows - qs.count).setZero();  // padded query rows
      if (att) {
        MutableSlice<T> W(att + (static_cast<long>(b) * H + h) * out_rows * Tn, out_rows, Tn,
                          Eigen::OuterStride<>(Tn));
        W.setZero();
        W.topLeftCorner(qs.count, len) = A;
      }
      if (scores) {  // -inf where a key is not visible (padding, causal mask, padded queries)
        MutableSlice<T> W(scores + (static_cast<long>(b) * H + h) * out_rows * Tn, out_rows, Tn,
                          Eigen::OuterStride<>(Tn));
        W.setConstant(-std::numeric_limits<T>::infinity());
        for (int r = 0; r < qs.count; ++r) {
          const int n = visible_keys(qs.first + r, len, spec.causal);
          W.row(r).head(n) = S.row(r).head(n);
        }
      }
    }
}

template <class T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, const int* lengths,
                        const AttentionSpec& spec, int B, int Tn, int C, int H,
                        const int* query_pos) {
  const int dh = C / H;
  const T factor = static_cast<T>(spec.score_scale) / std::sqrt(T(dh));
  const long C3 = 3L * C;
  const int out_rows = query_pos ? 1 : Tn;
  // Hard attention's backward is straight-through (Bengio et al. 2013): dV from the hard
  // weights, d(scores) from the softmax Jacobian at the same scale.
  const bool straight_through = spec.hard != HardAttention::none;
  AttentionSpec soft = spec;
  soft.hard = HardAttention::none, soft.softmax = true, soft.sparsemax = false;
  // Each (b, h) owns its slices of dq, dk, dv: no two threads write the same element.
  const bool parallel = static_cast<double>(B) * H * Tn * Tn * dh >= 65536;  // as in forward
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      // weights, dL/dA then dL/dscores, raw scores, softmax weights (straight-through)
      thread_local RowMatrix<T> A, dA, S, P;
      const int len = lengths[b];
      const Queries qs = queries_of(b, len, query_pos);
      const long base = static_cast<long>(b) * Tn * C3 + h * dh;
      const Slice<T> Q(qkv + base + qs.first * C3, qs.count, dh, Eigen::OuterStride<>(C3));
      const Slice<T> K(qkv + base + C, len, dh, Eigen::OuterStride<>(C3));
      const Slice<T> V(qkv + base + 2 * C, len, dh, Eigen::OuterStride<>(C3));
      MutableSlice<T> dQ(dqkv + base + qs.first * C3, qs.count, dh, Eigen::OuterStride<>(C3));
      MutableSlice<T> dK(dqkv + base + C, len, dh, Eigen::OuterStride<>(C3));
      MutableSlice<T> dV(dqkv + base + 2 * C, len, dh, Eigen::OuterStride<>(C3));
      const Slice<T> dO(dout + static_cast<long>(b) * out_rows * C + h * dh, qs.count, dh,
                        Eigen::OuterStride<>(C));
      if (att) {
        A = Slice<T>(att + (static_cast<long>(b) * H + h) * out_rows * Tn, out_rows, Tn,
                     Eigen::OuterStride<>(Tn))
                .topLeftCorner(qs.count, len);
      } else {
        // Recomputed: T x T per layer is not kept.
        head_weights(A, Q, K, qs, len, spec, factor, static_cast<T>(spec.head_tolerance(H, h)));
      }
      dA.noalias() = dO * V.transpose();
      dV.noalias() += A.transpose() * dO;
      if (straight_through) head_weights(P, Q, K, qs, len, soft, factor, T(0));
      if (spec.sparsemax) {
        for (int r = 0; r < qs.count; ++r) {
          const int n = visible_keys(qs.first + r, len, spec.causal);
          sparsemax_backward_row(dA.row(r).data(), A.row(r).data(), n);
          dA.row(r).tail(len - n).setZero();
        }
      } else if (spec.softmax || straight_through) {
        // dL/ds_ij = p_ij (dA_ij - sum_j' p_ij' dA_ij'), p the softmax weights
        const RowMatrix<T>& J = straight_through ? P : A;
        for (int r = 0; r < qs.count; ++r) {
          const T weighted = J.row(r).dot(dA.row(r));
          dA.row(r).array() = J.row(r).array() * (dA.row(r).array() - weighted);
        }
      } else {
        // a_ij = n_i^-alpha h(s_ij): dL/ds_ij = n_i^-alpha h'(s_ij) dA_ij on visible keys.
        S.resize(qs.count, len);
        S.noalias() = factor * (Q * K.transpose());
        for (int r = 0; r < qs.count; ++r) {
          const int n = visible_keys(qs.first + r, len, spec.causal);
          const T length_scale = std::pow(T(n), T(-spec.alpha));
          for (int j = 0; j < n; ++j)
            dA(r, j) *= length_scale * activate_grad(spec.pointwise, S(r, j));
          dA.row(r).tail(len - n).setZero();
        }
      }
      dQ.noalias() += factor * (dA * K);
      dK.noalias() += factor * (dA.transpose() * Q);
    }
}

template void sparsemax_forward<float>(float*, int);
template void sparsemax_forward<double>(double*, int);
template void round_scores<float>(float*, int, int);
template void round_scores<double>(double*, int, int);
template void attention_forward<float>(float*, float*, const float*, const int*,
                                       const AttentionSpec&, int, int, int, int, const int*,
                                       float*);
template void attention_forward<double>(double*, double*, const double*, const int*,
                                        const AttentionSpec&, int, int, int, int, const int*,
                                        double*);
template void attention_backward<float>(float*, const float*, const float*, const float*,
                                        const int*, const AttentionSpec&, int, int, int, int,
                                        const int*);
template void attention_backward<double>(double*, const double*, const double*, const double*,
                                         const int*, const AttentionSpec&, int, int, int, int,
                                         const int*);

}  // namespace saturn::nets
