// --tie and --tie-bits, shared by the commands that build a saturated network.
#pragma once

#include <string>

#include "saturate/saturation.h"

namespace saturn::cli {

// The tie rule for `--tie NAME` (average, leftmost or rightmost) and `--tie-bits B` (1..52);
// throws InputError naming the flag.
saturate::TieRule parse_tie_rule(const std::string& tie, int tie_bits = 16);

}  // namespace saturn::cli
