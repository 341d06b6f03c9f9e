// Count terms: linear and mod constraints over symbol counts; coefficients stay within the
// stated bound.
#include "lang/count_expr.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const saturn::Alphabet alphabet({"a", "b", "(", "long_name"});
  const std::string t = saturn::fuzz::text(data, size);
  try {
    const auto c = saturn::parse_count_constraint(t, alphabet);
    for (auto v : c.coef) saturn::fuzz::require(v >= -1000000000 && v <= 1000000000, "coef bound");
    saturn::fuzz::require(c.rhs >= -1000000000 && c.rhs <= 1000000000, "rhs bound");
  } catch (const saturn::InputError&) {
  }
  try {
    const auto m = saturn::parse_mod_constraint(t, alphabet);
    saturn::fuzz::require(m.modulus >= 1, "modulus >= 1");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
