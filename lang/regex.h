// Regular expressions over an alphabet, compiled to a minimal DFA.
// Syntax: symbols, concatenation, | * + ? ( ), [abc] [^abc] . {m} {m,} {m,n}; a symbol whose
// name is longer than one character is written <name>; \c is the one-character symbol c even
// where c is an operator (e.g. \( for a bracket symbol). White space is ignored.
#pragma once

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

// Minimal complete DFA for the whole-word language of `pattern`. Throws RegexError.
Dfa compile_regex(std::string_view pattern, const Alphabet& alphabet);

}  // namespace saturn
