#include "nets/norm.h"

#include <cmath>
#include <vector>

namespace saturn::nets {

template <class T>
void norm_forward(T* out, T* mean, T* rstd, const T* inp, const T* gain, const T* bias,
                  NormKind kind, T eps, int N, int C) {
  const bool centred = nets::centred(kind), scaled = nets::scaled(kind);
  const T c_term = norm_eps_term(kind, eps, C);
  // Rows are independent (threads change nothing in the results); a few thousand numbers are
  // normalised faster than a sleeping thread wakes.
  const bool parallel = static_cast<long>(N) * C > 16384;
#pragma omp parallel for schedule(static) if (parallel)
  for (int n = 0; n < N; ++n) {
    const T* x = inp + static_cast<long>(n) * C;
    T* y = out + static_cast<long>(n) * C;
    T m = 0;
    if (centred) {
      for (int i = 0; i < C; ++i) m += x[i];
      m /= C;
    }
    T r = 1;
    if (scaled) {
      T ss = 0;
      for (int i = 0; i < C; ++i) ss += (x[i] - m) * (x[i] - m);
      // A zero row at eps = 0 (padding) has no direction: output 0 rather than NaN.
      const T q = ss / C + c_term;
      r = q > 0 ? T(1) / std::sqrt(q) : T(0);
    }
    if (mean) mean[n] = m;
    if (rstd) rstd[n] = r;
    for (int i = 0; i < C; ++i) {
      T v = (x[i] - m) * r;
      y[i] = gain ? v * gain[i] + (bias ? bias[i] : T(0)) : v;
    }
  }
}

template <class T>
void norm_backward(T* dinp, T* dgain, T* dbias, const T* dout, const T* inp, const T* mean,
                   const T* rstd, const T* gain, NormKind kind, int N, int C) {
  const bool centred = nets::centred(kind), scaled = nets::scaled(kind);
  // Parameter gradients: a reduction over rows, kept serial for determinism.
  if (dgain || dbias)
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < C; ++i) {
        const long at = static_cast<long>(n) * C + i;
        if (dgain) dgain[i] += dout[at] * (inp[at] - mean[n]) * rstd[n];
        if (dbias) dbias[i] += dout[at];
      }
  if (!dinp) return;
  const bool parallel = static_cast<long>(N) * C > 16384;  // as in forward
#pragma omp parallel for schedule(static) if (parallel)
  for (int n = 0; n < N; ++n) {
    const long row = static_cast<long>(n) * C;
    const T m = mean[n], r = rstd[n];
    // g = dL/d(normalised x): through the gain if affine.
    T sum_g = 0, sum_gx = 0;
    for (int i = 0; i < C; ++i) {
      T g = gain ? dout[row + i] * gain[i] : dout[row + i];
      sum_g += g;
      sum_gx += g * (inp[row + i] - m);
    }
    // y = u r with u = x - m (or x), r = (a|u|^2 + c)^(-1/2):  dy/du = r (I - a r^2 u u^T);
    // then centring subtracts the mean of the result.
    const T a = scaled ? T(1) / C : T(0);
    const T coef = a * r * r * sum_gx;
    // Centring: subtract the mean of du, which is r * sum_g / C because sum_i u_i = 0.
    const T mean_du = centred ? sum_g / C : T(0);
    for (int i = 0; i < C; ++i) {
      T g = gain ? dout[row + i] * gain[i] : dout[row + i];
      T du = r * (g - coef * (inp[row + i] - m));
      dinp[row + i] += centred ? du - r * mean_du : du;
    }
  }
}

template void norm_forward<float>(float*, float*, float*, const float*, const float*, const float*,
                                  NormKind, float, int, int);
template void norm_forward<double>(double*, double*, double*, const double*, const double*,
                                   const double*, NormKind, double, int, int);
template void norm_backward<float>(float*, float*, float*, const float*, const float*, const float*,
                                   const float*, const float*, NormKind, int, int);
template void norm_backward<double>(double*, double*, double*, const double*, const double*,
                                    const double*, const double*, const double*, NormKind, int,
                                    int);

}  // namespace saturn::nets
