#include "nets/embedding.h"

#include <cmath>

namespace saturn::nets {

namespace {
// The positional term of coordinate c at position t of a sequence of real length len.
template <class T>
T position_value(const T* pos, Positional kind, int t, int len, int c, int C) {
  switch (kind) {
    case Positional::learned:
      return pos[static_cast<long>(t) * C + c];
    case Positional::fraction:
      return pos[c] * T(t) / T(len);
    case Positional::sinusoidal: {
      const T freq = std::pow(T(10000), -T(2 * (c / 2)) / T(C));
      return c % 2 == 0 ? std::sin(t * freq) : std::cos(t * freq);
    }
    default:
      return T(0);
  }
}
}  // namespace

template <class T>
void embedding_forward(T* out, const int* tokens, const int* lengths, const T* wte, const T* pos,
                       Positional kind, int B, int Tn, int C) {
#pragma omp parallel for collapse(2) schedule(static) if (B * Tn > 256)
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t) {
      T* x = out + (static_cast<long>(b) * Tn + t) * C;
      if (t >= lengths[b]) {
        for (int c = 0; c < C; ++c) x[c] = 0;
        continue;
      }
      const T* e = wte + static_cast<long>(tokens[b * Tn + t]) * C;
      for (int c = 0; c < C; ++c) x[c] = e[c] + position_value(pos, kind, t, lengths[b], c, C);
    }
}

template <class T>
void position_forward(T* out, const int* lengths, const T* pos, Positional kind, int B, int Tn,
                      int C) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t) {
      T* x = out + (static_cast<long>(b) * Tn + t) * C;
      for (int c = 0; c < C; ++c)
        x[c] = t < lengths[b] ? position_value(pos, kind, t, lengths[b], c, C) : T(0);
    }
}

template <class T>
void embedding_backward(T* dwte, T* dpos, const T* dout, const int* tokens, const int* lengths,
                        Positional kind, int B, int Tn, int C) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < lengths[b]; ++t) {
      const T* g = dout + (static_cast<long>(b) * Tn + t) * C;
      T* de = dwte + static_cast<long>(tokens[b * Tn + t]) * C;
      for (int c = 0; c < C; ++c) {
        de[c] += g[c];
        if (kind == Positional::learned) dpos[static_cast<long>(t) * C + c] += g[c];
        if (kind == Positional::fraction) dpos[c] += g[c] * T(t) / T(lengths[b]);
      }
    }
}

template void embedding_forward<float>(float*, const int*, const int*, const float*, const float*,
                                       Positional, int, int, int);
template void embedding_forward<double>(double*, const int*, const int*, const double*,
                                        const double*, Positional, int, int, int);
template void position_forward<float>(float*, const int*, const float*, Positional, int, int, int);
template void position_forward<double>(double*, const int*, const double*, Positional, int, int,
                                       int);
template void embedding_backward<float>(float*, float*, const float*, const int*, const int*,
                                        Positional, int, int, int);
template void embedding_backward<double>(double*, double*, const double*, const int*, const int*,
                                         Positional, int, int, int);

}  // namespace saturn::nets
