// Token embeddings plus positional information:
//   none:       x_t = wte[tok_t]
//   learned:    x_t = wte[tok_t] + wpe[t]
//   sinusoidal: x_t = wte[tok_t] + PE(t), PE(t)_{2i} = sin(t / 10000^(2i/C)), PE(t)_{2i+1} =
//   cos(...) fraction:   x_t = wte[tok_t] + (t / n) u      (n: the sequence's real length; u
//   learned)
// Padded positions (t >= length) are zero.
#pragma once

#include <array>
#include <string>

#include "base/names.h"

namespace saturn::nets {

enum class Positional { none, sinusoidal, learned, fraction };
inline constexpr std::array<const char*, 4> kPositionalNames = {"none", "sinusoidal", "learned",
                                                                "fraction"};
inline const char* to_string(Positional p) {
  return name_of(kPositionalNames, p);
}

// out (B,T,C); tokens (B,T); wte (V,C); pos: wpe (maxT,C) for learned, u (C) for fraction,
// unused otherwise; lengths (B).
template <class T>
void embedding_forward(T* out, const int* tokens, const int* lengths, const T* wte, const T* pos,
                       Positional kind, int B, int Tn, int C);

// out (B,T,C) = the positional term alone (what embedding_forward adds to wte[tok_t]; zero for
// none and at padded positions), computed as embedding_forward computes it: wte[tok_t] + out_t
// is embedding_forward's x_t bit for bit. Introspection only (the TransformerLens-style cache).
template <class T>
void position_forward(T* out, const int* lengths, const T* pos, Positional kind, int B, int Tn,
                      int C);

// dwte (V,C) += ...; dpos += ... (learned, fraction). Serial: tokens repeat across rows.
template <class T>
void embedding_backward(T* dwte, T* dpos, const T* dout, const int* tokens, const int* lengths,
                        Positional kind, int B, int Tn, int C);

}  // namespace saturn::nets
