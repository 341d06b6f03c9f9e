// Normalisation layers over rows of C features (Brody et al. 2023, §3; Zhang & Sennrich 2019):
//   layernorm:  y = (x - mean(x)) / sqrt(var(x) + eps)    = sqrt(C) P x / |P x| at eps = 0
//   projection: y = x - mean(x)                            (P x: onto the subspace orthogonal to 1)
//   scale:      y = sqrt(C) x / sqrt(|x|^2 + eps)           (norm sqrt(C), no centering)
//   rms:        y = x / sqrt(mean(x^2) + eps)               (RMSNorm; equals `scale` at eps = 0)
//   none:       y = x
// then, if affine, y = gain * y + bias.
#pragma once

#include <array>
#include <string>

#include "base/names.h"

namespace saturn::nets {

enum class NormKind { layernorm, projection, scale, rms, none };
inline constexpr std::array<const char*, 5> kNormNames = {"layernorm", "projection", "scale", "rms",
                                                          "none"};
inline const char* to_string(NormKind kind) {
  return name_of(kNormNames, kind);
}

// Every kind is y = (x - m) r with m the row mean (centred kinds) or 0, and r = 1/sqrt(q) for
// the scaled kinds (else 1), q = |x - m|^2 / C + norm_eps_term(kind, eps, C).
inline bool centred(NormKind kind) {
  return kind == NormKind::layernorm || kind == NormKind::projection;
}
inline bool scaled(NormKind kind) {
  return kind == NormKind::layernorm || kind == NormKind::scale || kind == NormKind::rms;
}
// eps as it enters q: eps, or eps / C for `scale`.
template <class T>
T norm_eps_term(NormKind kind, const T& eps, int C) {
  return kind == NormKind::scale ? T(eps / C) : eps;
}

// out, inp (N,C); gain, bias (C) or null (no affine); rstd (N): saved 1/sqrt(q) for backward
// (1 for projection and none); mean (N): saved row means (layernorm, projection).
template <class T>
void norm_forward(T* out, T* mean, T* rstd, const T* inp, const T* gain, const T* bias,
                  NormKind kind, T eps, int N, int C);

// dinp (N,C) += ...; dgain, dbias (C) += ... when non-null. Uses the saved mean and rstd.
template <class T>
void norm_backward(T* dinp, T* dgain, T* dbias, const T* dout, const T* inp, const T* mean,
                   const T* rstd, const T* gain, NormKind kind, int N, int C);

}  // namespace saturn::nets
