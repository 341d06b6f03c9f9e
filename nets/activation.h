// Scalar activations shared by the FFN and pointwise attention (Wortsman et al. 2023):
// relu, relu2 (relu squared), gelu (exact, erf), softplus, identity, relu6, sigmoid.
#pragma once

#include <array>
#include <cmath>
#include <string>

#include "base/names.h"

namespace saturn::nets {

enum class Activation { relu, relu2, gelu, softplus, identity, relu6, sigmoid };
inline constexpr std::array<const char*, 7> kActivationNames = {
    "relu", "relu2", "gelu", "softplus", "identity", "relu6", "sigmoid"};
inline const char* to_string(Activation a) {
  return name_of(kActivationNames, a);
}

template <class T>
inline T activate(Activation a, T x) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440);
  switch (a) {
    case Activation::relu:
      return x > 0 ? x : T(0);
    case Activation::relu2:
      return x > 0 ? x * x : T(0);
    case Activation::gelu:
      return T(0.5) * x * (T(1) + std::erf(x * kInvSqrt2));
    case Activation::softplus:
      return x > 20 ? x : std::log1p(std::exp(x));
    case Activation::identity:
      return x;
    case Activation::relu6:
      return x <= 0 ? T(0) : x >= 6 ? T(6) : x;
    case Activation::sigmoid:
      return T(1) / (T(1) + std::exp(-x));
  }
  return x;
}

// d activate(a, x) / dx
template <class T>
inline T activate_grad(Activation a, T x) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440), kInvSqrt2Pi = T(0.39894228040143267794);
  switch (a) {
    case Activation::relu:
      return x > 0 ? T(1) : T(0);
    case Activation::relu2:
      return x > 0 ? 2 * x : T(0);
    case Activation::gelu:
      return T(0.5) * (T(1) + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-x * x / 2);
    case Activation::softplus:
      return T(1) / (T(1) + std::exp(-x));
    case Activation::identity:
      return T(1);
    case Activation::relu6:
      return x > 0 && x < 6 ? T(1) : T(0);
    case Activation::sigmoid: {
      T s = T(1) / (T(1) + std::exp(-x));
      return s * (1 - s);
    }
  }
  return T(1);
}

// out (N) = act(inp (N)); dinp (N) = dout * act'(inp) (overwritten, not accumulated).
template <class T>
void activation_forward(T* out, const T* inp, Activation a, long N);
template <class T>
void activation_backward(T* dinp, const T* dout, const T* inp, Activation a, long N);

}  // namespace saturn::nets
