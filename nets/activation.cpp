#include "nets/activation.h"

#include <fmt/format.h>

#include "lang/error.h"

namespace saturn::nets {

Activation parse_activation(const std::string& name) {
  static const std::pair<const char*, Activation> names[] = {
      {"relu", Activation::relu},         {"relu2", Activation::relu2},
      {"gelu", Activation::gelu},         {"softplus", Activation::softplus},
      {"identity", Activation::identity}, {"relu6", Activation::relu6},
      {"sigmoid", Activation::sigmoid}};
  for (auto [n, a] : names)
    if (name == n) return a;
  throw InputError(fmt::format(
      "unknown activation '{}' (expected relu, relu2, gelu, softplus, identity, relu6, sigmoid)",
      name));
}

const char* to_string(Activation a) {
  static const char* names[] = {"relu",     "relu2", "gelu",   "softplus",
                                "identity", "relu6", "sigmoid"};
  return names[static_cast<int>(a)];
}

template <class T>
void activation_forward(T* out, const T* inp, Activation a, long N) {
#pragma omp parallel for schedule(static) if (N > 4096)
  for (long i = 0; i < N; ++i) out[i] = activate(a, inp[i]);
}

template <class T>
void activation_backward(T* dinp, const T* dout, const T* inp, Activation a, long N) {
#pragma omp parallel for schedule(static) if (N > 4096)
  for (long i = 0; i < N; ++i) dinp[i] += dout[i] * activate_grad(a, inp[i]);
}

template void activation_forward<float>(float*, const float*, Activation, long);
template void activation_forward<double>(double*, const double*, Activation, long);
template void activation_backward<float>(float*, const float*, const float*, Activation, long);
template void activation_backward<double>(double*, const double*, const double*, Activation, long);

}  // namespace saturn::nets
