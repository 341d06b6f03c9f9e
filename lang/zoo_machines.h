// Built-in languages that are C++ machines rather than spec files: they need a stack read in
// reverse or a whole tape. Examples of the public Machine interface for users' own machines.
#pragma once

#include <memory>

#include "lang/machine.h"

namespace saturn {

// w # w^R over {0, 1, #}: push until '#', then pop and match. A deterministic pushdown machine.
std::shared_ptr<Machine> make_marked_reversal();
// w w^R over {0, 1} (even palindromes) or, without even_only, all palindromes. The machine keeps
// the whole word on a tape: no deterministic pushdown machine accepts these.
std::shared_ptr<Machine> make_palindrome(bool even_only);
// w # w over {0, 1, #}: a queue; context-sensitive.
std::shared_ptr<Machine> make_marked_copy();

}  // namespace saturn
