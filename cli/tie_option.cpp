#include "cli/tie_option.h"

#include <fmt/format.h>

#include "base/error.h"
#include "base/names.h"

namespace saturn::cli {

saturate::TieRule parse_tie_rule(const std::string& tie, int tie_bits) {
  saturate::TieRule t;
  t.hard = parse_name<nets::HardAttention>(nets::kHardAttentionNames, "--tie", tie);
  if (t.hard == nets::HardAttention::none)
    throw InputError("--tie: expected average, leftmost or rightmost (got 'none')");
  if (tie_bits < 1 || tie_bits > 52)
    throw InputError(fmt::format("--tie-bits: expected 1..52 (got {})", tie_bits));
  t.tie_bits = tie_bits;
  return t;
}

}  // namespace saturn::cli
