// Language equivalence: exact for two regular languages (minimal DFAs, product BFS), bounded
// by a length otherwise (breadth-first over pairs of machine configurations).
#pragma once

#include <optional>

#include "lang/language.h"

namespace saturn {

struct EquivalenceResult {
  std::optional<Word> witness;  // a shortest word in exactly one language (least in symbol order)
  bool exact = false;           // true: for all lengths; false: up to checked_length only
  int checked_length = -1;
  bool equivalent() const { return !witness.has_value(); }
};

// The longest bound for the bounded search (a stated limit; memory and Ctrl-C also stop it).
inline constexpr int kMaxBoundedLength = 100000;

// Both languages must have the same alphabet (the same symbol names; the order may differ,
// and the witness is over a's symbols). Throws InputError otherwise. The bounded search stops
// early, exact, when a length brings no new pair of configurations; it is held to the memory
// budget, shows progress and stops on Ctrl-C.
EquivalenceResult check_equivalence(const Language& a, const Language& b, int max_length);

}  // namespace saturn
