// Words to a padded batch: [BOS] w [EOS] then padding; targets for recognition (the label)
// or next-symbol prediction (for each prefix: allowed next symbols, and "end" = accepted).
#pragma once

#include <vector>

#include "lang/dataset.h"
#include "nets/model.h"

namespace saturn::nets {

// Examples need `next` targets for the next-symbol objective (InputError otherwise).
template <class T>
Batch<T> make_batch(const std::vector<const Example*>& examples, int num_symbols,
                    Objective objective);

}  // namespace saturn::nets
