#include "nets/margin.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace saturn::nets {

namespace {

// One row's hinge: the lowest-scoring key of the set, the best key outside it, and the hinge
// (0 and no keys when the set is every visible key or the margin is met).
template <class T>
struct RowHinge {
  int inside = -1, outside = -1;
  T value = 0;
};

// scores s[0..n) (scaled); rounded: scratch of n.
template <class T>
RowHinge<T> row_hinge(const T* s, T* rounded, int n, int tie_bits, T tolerance, T gap) {
  std::copy(s, s + n, rounded);
  round_scores(rounded, n, tie_bits);
  const T floor = *std::max_element(rounded, rounded + n) - tolerance;
  RowHinge<T> r;
  for (int j = 0; j < n; ++j) {
    if (rounded[j] >= floor) {
      if (r.inside < 0 || s[j] < s[r.inside]) r.inside = j;
    } else if (r.outside < 0 || s[j] > s[r.outside]) {
      r.outside = j;
    }
  }
  if (r.outside < 0) return {};
  r.value = gap - (s[r.inside] - s[r.outside]);
  if (r.value <= 0) return {};
  return r;
}

// Calls f(b, h, i, hinge, q_i, keys) for every row; the scaled scores are computed here.
template <class T, class F>
void for_each_row(const T* qkv, const int* lengths, const AttentionSpec& spec, T tolerance, T gap,
                  int B, int Tn, int C, int H, const int* query_pos, F&& f) {
  const int dh = C / H;
  const T factor = static_cast<T>(spec.score_scale) / std::sqrt(T(dh));
  const long C3 = 3L * C;
  const bool parallel = static_cast<double>(B) * H * Tn * Tn * dh >= 65536;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      thread_local std::vector<T> s, rounded;
      const int len = lengths[b];
      const T* seq = qkv + static_cast<long>(b) * Tn * C3 + h * dh;
      const int first = query_pos ? query_pos[b] : 0, count = query_pos ? 1 : len;
      s.resize(len), rounded.resize(len);
      for (int i = first; i < first + count; ++i) {
        const int n = spec.causal ? std::min(i + 1, len) : len;
        const T* q = seq + i * C3;
        for (int j = 0; j < n; ++j) {
          const T* k = seq + C + j * C3;
          T dot = 0;
          for (int d = 0; d < dh; ++d) dot += q[d] * k[d];
          s[j] = factor * dot;
        }
        f(b, h, i, row_hinge(s.data(), rounded.data(), n, spec.tie_bits, tolerance, gap), factor);
      }
    }
}

}  // namespace

template <class T>
long margin_forward(T* head_sums, const T* qkv, const int* lengths, const AttentionSpec& spec,
                    T tolerance, T gap, int B, int Tn, int C, int H, const int* query_pos) {
  // Per (b, h) sums, added in a fixed order afterwards: the result does not depend on threads.
  std::vector<T> sums(static_cast<std::size_t>(B) * H, T(0));
  for_each_row(qkv, lengths, spec, tolerance, gap, B, Tn, C, H, query_pos,
               [&](int b, int h, int, const RowHinge<T>& r, T) {
                 sums[static_cast<std::size_t>(b) * H + h] += r.value;
               });
  long rows = 0;
  std::fill(head_sums, head_sums + H, T(0));
  for (int b = 0; b < B; ++b) {
    rows += query_pos ? 1 : lengths[b];
    for (int h = 0; h < H; ++h) head_sums[h] += sums[static_cast<std::size_t>(b) * H + h];
  }
  return rows;
}

template <class T>
void margin_backward(T* dqkv, const T* qkv, const int* lengths, const AttentionSpec& spec,
                     T tolerance, T gap, T weight, int B, int Tn, int C, int H,
                     const int* query_pos) {
  const int dh = C / H;
  const long C3 = 3L * C;
  // Each (b, h) writes only its own slices of dq and dk.
  for_each_row(qkv, lengths, spec, tolerance, gap, B, Tn, C, H, query_pos,
               [&](int b, int h, int i, const RowHinge<T>& r, T factor) {
                 if (r.inside < 0) return;
                 const long base = static_cast<long>(b) * Tn * C3 + h * dh;
                 const T* q = qkv + base + i * C3;
                 const T* k_in = qkv + base + C + r.inside * C3;
                 const T* k_out = qkv + base + C + r.outside * C3;
                 T* dq = dqkv + base + i * C3;
                 T* dk_in = dqkv + base + C + r.inside * C3;
                 T* dk_out = dqkv + base + C + r.outside * C3;
                 // hinge = gap - s_in + s_out, s = factor q.k
                 const T g = weight * factor;
                 for (int d = 0; d < dh; ++d) {
                   dq[d] += g * (k_out[d] - k_in[d]);
                   dk_in[d] -= g * q[d];
                   dk_out[d] += g * q[d];
                 }
               });
}

template long margin_forward<float>(float*, const float*, const int*, const AttentionSpec&, float,
                                    float, int, int, int, int, const int*);
template long margin_forward<double>(double*, const double*, const int*, const AttentionSpec&,
                                     double, double, int, int, int, int, const int*);
template void margin_backward<float>(float*, const float*, const int*, const AttentionSpec&, float,
                                     float, float, int, int, int, int, const int*);
template void margin_backward<double>(double*, const double*, const int*, const AttentionSpec&,
                                      double, double, double, int, int, int, int, const int*);

}  // namespace saturn::nets
