// Linear (in)equalities over symbol counts, as written in spec files:
//   "2#a - #b + 1 > 0", "#'(' >= #')'", "#a % 3 == 0", "(#a - #b) % 4 == 1".
// Terms: #name for a name of letters, digits and _; #'x' (quoted) for any other name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "lang/alphabet.h"

namespace saturn {

enum class CmpOp { eq, ne, lt, le, gt, ge };
bool compare(std::int64_t lhs, CmpOp op, std::int64_t rhs);
const char* to_string(CmpOp op);

// sum_s coef[s] * #s  op  rhs
struct CountConstraint {
  std::vector<std::int64_t> coef;
  CmpOp op = CmpOp::eq;
  std::int64_t rhs = 0;
};

// ((sum_s coef[s] * #s + offset) mod modulus)  op  rhs, with the residue in [0, modulus).
struct ModConstraint {
  std::vector<std::int64_t> coef;
  std::int64_t offset = 0;
  std::int64_t modulus = 1;
  CmpOp op = CmpOp::eq;
  std::int64_t rhs = 0;
};

// A syntax or meaning error at a character offset (0-based) of the expression.
class ExprError : public InputError {
 public:
  ExprError(std::string message, int offset) : InputError(std::move(message)), offset(offset) {}
  int offset;
};

CountConstraint parse_count_constraint(std::string_view text, const Alphabet& alphabet);
ModConstraint parse_mod_constraint(std::string_view text, const Alphabet& alphabet);

// "#a - #b" style rendering of a linear form (for summaries).
std::string format_form(const std::vector<std::int64_t>& coef, const Alphabet& alphabet);

}  // namespace saturn
