// Regular expressions over an alphabet, compiled to a minimal DFA.
// Syntax: symbols, concatenation, | * + ? ( ), [abc] [^abc] . {m} {m,} {m,n}; a symbol whose
// name is longer than one character is written <name>; \c is the one-character symbol c even
// where c is an operator (e.g. \( for a bracket symbol). White space is ignored.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/error.h"
#include "lang/alphabet.h"
#include "lang/dfa.h"

namespace saturn {

// A syntax error at a character offset (0-based) of the pattern.
class RegexError : public InputError {
 public:
  RegexError(std::string message, int offset) : InputError(std::move(message)), offset(offset) {}
  int offset;
};

// Limits of compile_regex (README, "Limits and errors"): automaton states estimated from the
// syntax tree, and DFA states of the subset construction. The fuzz target lowers them so that
// it spends its time on many inputs rather than a few huge automata.
struct RegexLimits {
  double nfa_states = 4e6;
  std::size_t dfa_states = 200000;
  // NFA states visited by the subset construction's closures and moves, summed: bounds its
  // time (under a second at the default) whatever the number of DFA states.
  double subset_work = 2e7;
};

// Minimal complete DFA for the whole-word language of `pattern`. Throws RegexError.
Dfa compile_regex(std::string_view pattern, const Alphabet& alphabet,
                  const RegexLimits& limits = {});

}  // namespace saturn
