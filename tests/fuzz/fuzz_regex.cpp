// Regexes: parse and compile any text over {a, b, c, (, )}; a compiled DFA must be minimal and
// complete (recompiling its own language's minimisation changes nothing). The automaton limits
// are lowered (10^4 states, 10^6 steps) so that the fuzzer explores many inputs instead of a few
// huge automata; the limits' own behaviour is tested in tests/lang/test_limits.cpp.
#include "lang/dfa.h"
#include "lang/regex.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const saturn::Alphabet alphabet({"a", "b", "c", "(", ")"});
  try {
    const saturn::Dfa dfa =
        saturn::compile_regex(saturn::fuzz::text(data, size), alphabet, {1e4, 10000, 1e6});
    saturn::fuzz::require(saturn::minimize(dfa).num_states() == dfa.num_states(),
                          "compile_regex returns a minimal DFA");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
