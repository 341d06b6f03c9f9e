#include "nets/loss.h"

#include <algorithm>
#include <cmath>

namespace saturn::nets {

namespace {
template <class T>
T softplus(T z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));  // stable both ways
}
template <class T>
T masked_count(const T* mask, long N) {
  if (!mask) return T(N);
  T n = 0;
  for (long i = 0; i < N; ++i) n += mask[i];
  return n;
}
}  // namespace

template <class T>
T bce_forward(const T* logits, const T* targets, const T* mask, long N) {
  T total = 0;
  for (long i = 0; i < N; ++i)
    if (!mask || mask[i] != 0) total += softplus(logits[i]) - targets[i] * logits[i];
  const T n = masked_count(mask, N);
  return n > 0 ? total / n : T(0);
}

template <class T>
void bce_backward(T* dlogits, const T* logits, const T* targets, const T* mask, long N) {
  const T n = masked_count(mask, N);
  if (n == 0) return;
  for (long i = 0; i < N; ++i)
    if (!mask || mask[i] != 0)
      dlogits[i] += (T(1) / (T(1) + std::exp(-logits[i])) - targets[i]) / n;
}

template <class T>
T softmax_ce_forward(const T* logits, const T* targets, const T* mask, long N, int K) {
  T total = 0;
  for (long r = 0; r < N; ++r) {
    if (mask && mask[r] == 0) continue;
    const T* z = logits + r * K;
    const T m = *std::max_element(z, z + K);
    T sum = 0;
    for (int c = 0; c < K; ++c) sum += std::exp(z[c] - m);
    total += m + std::log(sum) - z[static_cast<int>(targets[r])];
  }
  const T n = masked_count(mask, N);
  return n > 0 ? total / n : T(0);
}

template <class T>
void softmax_ce_backward(T* dlogits, const T* logits, const T* targets, const T* mask, long N,
                         int K) {
  const T n = masked_count(mask, N);
  if (n == 0) return;
  for (long r = 0; r < N; ++r) {
    if (mask && mask[r] == 0) continue;
    const T* z = logits + r * K;
    T* dz = dlogits + r * K;
    const T m = *std::max_element(z, z + K);
    T sum = 0;
    for (int c = 0; c < K; ++c) sum += std::exp(z[c] - m);
    const int y = static_cast<int>(targets[r]);
    for (int c = 0; c < K; ++c) dz[c] += (std::exp(z[c] - m) / sum - T(c == y)) / n;
  }
}

template float bce_forward<float>(const float*, const float*, const float*, long);
template double bce_forward<double>(const double*, const double*, const double*, long);
template void bce_backward<float>(float*, const float*, const float*, const float*, long);
template void bce_backward<double>(double*, const double*, const double*, const double*, long);

template float softmax_ce_forward<float>(const float*, const float*, const float*, long, int);
template double softmax_ce_forward<double>(const double*, const double*, const double*, long, int);
template void softmax_ce_backward<float>(float*, const float*, const float*, const float*, long,
                                         int);
template void softmax_ce_backward<double>(double*, const double*, const double*, const double*,
                                          long, int);

}  // namespace saturn::nets
