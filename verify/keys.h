// Un-selectable keys of a trained model (Brody et al. 2023): for each probe word, layer and
// head, the keys the head's attention scores (every position of the word: BOS, the symbols,
// EOS; a causal head's last query sees them all) are classified by selectability (selectable.h)
// among that word's keys. Keys are computed in double precision from the checkpoint's float32
// weights; each double is an exact dyadic rational, used as is (the one rounding is the
// forward pass's own).
#pragma once

#include <string>
#include <vector>

#include "lang/dataset.h"
#include "nets/checkpoint.h"

namespace saturn::verify {

struct HeadKeys {
  int layer = 0, head = 0;
  std::size_t keys = 0, selectable = 0, tied = 0, unselectable = 0;  // selectable excludes tied
  double unselectable_fraction() const {
    return keys == 0 ? 0.0 : static_cast<double>(unselectable) / static_cast<double>(keys);
  }
};

// Per head, layer-major, summed over the probes. Runs words on `threads` threads.
std::vector<HeadKeys> key_selectability(const nets::Checkpoint& checkpoint,
                                        const std::vector<Example>& probes, int threads = 1);

}  // namespace saturn::verify
