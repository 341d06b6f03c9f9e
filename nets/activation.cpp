#include "nets/activation.h"

namespace saturn::nets {

template <class T>
void activation_forward(T* out, const T* inp, Activation a, long N) {
  if (a == Activation::relu) {  // the common case, as a loop the compiler vectorises
#pragma omp parallel for simd schedule(static) if (N > 65536)
    for (long i = 0; i < N; ++i) out[i] = inp[i] > T(0) ? inp[i] : T(0);
    return;
  }
#pragma omp parallel for schedule(static) if (N > 4096)
  for (long i = 0; i < N; ++i) out[i] = activate(a, inp[i]);
}

template <class T>
void activation_backward(T* dinp, const T* dout, const T* inp, Activation a, long N) {
  if (a == Activation::relu) {
#pragma omp parallel for simd schedule(static) if (N > 65536)
    for (long i = 0; i < N; ++i) dinp[i] = inp[i] > T(0) ? dout[i] : T(0);
    return;
  }
#pragma omp parallel for schedule(static) if (N > 4096)
  for (long i = 0; i < N; ++i) dinp[i] = dout[i] * activate_grad(a, inp[i]);
}

template void activation_forward<float>(float*, const float*, Activation, long);
template void activation_forward<double>(double*, const double*, Activation, long);
template void activation_backward<float>(float*, const float*, const float*, Activation, long);
template void activation_backward<double>(double*, const double*, const double*, Activation, long);

}  // namespace saturn::nets
