#include "nets/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace saturn::nets {

namespace {
// Keys visible to query i of a sequence of real length len: [0, last).
inline int visible_keys(int i, int len, bool causal) {
  return causal ? std::min(i + 1, len) : len;
}
// Scores a[0..n) -> hard attention weights: the argmax set after rounding to the tie tolerance
// gets weight 1/|set| (average) or one member gets 1 (leftmost / rightmost).
template <class T>
void hard_attention_row(T* a, int n, const AttentionSpec& spec) {
  round_scores(a, n, spec.tie_bits);
  const T top = *std::max_element(a, a + n);
  int winners = 0, first = -1, last = -1;
  for (int j = 0; j < n; ++j)
    if (a[j] == top) {
      ++winners;
      last = j;
      if (first < 0) first = j;
    }
  for (int j = 0; j < n; ++j) {
    const bool wins = a[j] == top;
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

}  // namespace

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
                       int B, int Tn, int C, int H) {
  const int dh = C / H;
  const T scale = T(1) / std::sqrt(T(dh));
  const T score_scale = static_cast<T>(spec.score_scale);
  const long C3 = 3L * C;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const int len = lengths[b];
      for (int i = 0; i < Tn; ++i) {
        T* o = out + (static_cast<long>(b) * Tn + i) * C + h * dh;
        T* a = att + ((static_cast<long>(b) * H + h) * Tn + i) * Tn;
        std::fill(a, a + Tn, T(0));
        std::fill(o, o + dh, T(0));
        if (i >= len) continue;
        const T* q = qkv + (static_cast<long>(b) * Tn + i) * C3 + h * dh;
        const int n = visible_keys(i, len, spec.causal);
        T max_score = -INFINITY;
        for (int j = 0; j < n; ++j) {
          const T* k = qkv + (static_cast<long>(b) * Tn + j) * C3 + C + h * dh;
          T s = 0;
          for (int d = 0; d < dh; ++d) s += q[d] * k[d];
          a[j] = s * scale * score_scale;
          max_score = std::max(max_score, a[j]);
        }
        if (spec.hard != HardAttention::none) {
          hard_attention_row(a, n, spec);
        } else if (spec.softmax) {
          T z = 0;
          for (int j = 0; j < n; ++j) z += (a[j] = std::exp(a[j] - max_score));
          for (int j = 0; j < n; ++j) a[j] /= z;
        } else {
          const T length_scale = std::pow(T(n), T(-spec.alpha));
          for (int j = 0; j < n; ++j) a[j] = length_scale * activate(spec.pointwise, a[j]);
        }
        for (int j = 0; j < n; ++j) {
          const T* v = qkv + (static_cast<long>(b) * Tn + j) * C3 + 2 * C + h * dh;
          for (int d = 0; d < dh; ++d) o[d] += a[j] * v[d];
        }
      }
    }
}

template <class T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, const int* lengths,
                        const AttentionSpec& spec, int B, int Tn, int C, int H) {
  const int dh = C / H;
  const T scale = T(1) / std::sqrt(T(dh));
  const long C3 = 3L * C;
  // Each (b, h) owns its slices of dq, dk, dv: no two threads write the same element.
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const int len = lengths[b];
      // dL/da for one query row; per thread, reused across steps (no allocation once warm).
      thread_local std::vector<T> da;
      da.resize(Tn);
      for (int i = 0; i < len; ++i) {
        const T* g = dout + (static_cast<long>(b) * Tn + i) * C + h * dh;
        const T* a = att + ((static_cast<long>(b) * H + h) * Tn + i) * Tn;
        const T* q = qkv + (static_cast<long>(b) * Tn + i) * C3 + h * dh;
        T* dq = dqkv + (static_cast<long>(b) * Tn + i) * C3 + h * dh;
        const int n = visible_keys(i, len, spec.causal);
        T weighted = 0;  // sum_j a_j da_j, for the softmax Jacobian
        for (int j = 0; j < n; ++j) {
          const T* v = qkv + (static_cast<long>(b) * Tn + j) * C3 + 2 * C + h * dh;
          T* dv = dqkv + (static_cast<long>(b) * Tn + j) * C3 + 2 * C + h * dh;
          T s = 0;
          for (int d = 0; d < dh; ++d) {
            s += g[d] * v[d];
            dv[d] += a[j] * g[d];
          }
          da[j] = s;
          weighted += a[j] * s;
        }
        const T length_scale = spec.softmax ? T(1) : std::pow(T(n), T(-spec.alpha));
        for (int j = 0; j < n; ++j) {
          const T* k = qkv + (static_cast<long>(b) * Tn + j) * C3 + C + h * dh;
          T* dk = dqkv + (static_cast<long>(b) * Tn + j) * C3 + C + h * dh;
          T ds;  // dL/d(score_j), score_j = scale * q.k_j
          if (spec.softmax) {
            ds = a[j] * (da[j] - weighted);
          } else {
            T s = 0;
            for (int d = 0; d < dh; ++d) s += q[d] * k[d];
            ds = length_scale * activate_grad(spec.pointwise, s * scale) * da[j];
          }
          ds *= scale;
          for (int d = 0; d < dh; ++d) {
            dq[d] += ds * k[d];
            dk[d] += ds * q[d];
          }
        }
      }
    }
}

template void round_scores<float>(float*, int, int);
template void round_scores<double>(double*, int, int);
template void attention_forward<float>(float*, float*, const float*, const int*,
                                       const AttentionSpec&, int, int, int, int);
template void attention_forward<double>(double*, double*, const double*, const int*,
                                        const AttentionSpec&, int, int, int, int);
template void attention_backward<float>(float*, const float*, const float*, const float*,
                                        const int*, const AttentionSpec&, int, int, int, int);
template void attention_backward<double>(double*, const double*, const double*, const double*,
                                         const int*, const AttentionSpec&, int, int, int, int);

}  // namespace saturn::nets
