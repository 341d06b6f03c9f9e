#include "cli/tie_option.h"

namespace saturn::cli {

saturate::TieRule parse_tie_rule(const std::string& tie, int tie_bits) {
  return saturate::parse_tie_rule(tie, tie_bits);  // the rule is the library's (python/ too)
}

}  // namespace saturn::cli
