// Hand-built saturated circuits: the theory papers' constructions as runnable, verifiable
// objects (examples/circuits/*.json are written from these builders by `saturn verify build`).
//   majority: one layer; BOS attends uniformly (all scores 0), so it averages the token signs
//             (#a - #b - 1/2) / (n + 2); accept when positive (Merrill et al. 2021: averaging
//             lets a transformer count).
//   dyck1:    layer 1 averages signs causally, giving each prefix's balance / (i + 1) and
//             1 / (i + 1); layer 2 at EOS attends hard to the most negative prefix; accept when
//             that minimum is >= 0 and the total balance is 0 (Bhattamishra et al. 2020 style).
//   anbn:     counting (#a - #b) by uniform attention, plus an order check: a head attending
//             to the previous position (scores -(j - (i - 1))^2 from learned positions t, t^2)
//             flags every "ba"; layer 2 averages the flags.
//   first:    a local head attending to position 1 (the first symbol), read from BOS.
// `broken` variants carry one deliberate bug (a wrong threshold or a missing check), so
// verification must find their shortest counterexample.
#pragma once

#include <string>
#include <vector>

#include "saturate/circuit.h"

namespace saturn::verify {

// The names above; `broken` gives the faulty variant. Throws InputError for an unknown name.
saturate::Circuit build_construction(const std::string& name, bool broken = false);
const std::vector<std::string>& construction_names();
// The built-in language each construction recognises.
std::string construction_language(const std::string& name);

}  // namespace saturn::verify
