// Z3 encodings of saturated circuits and reference machines (the only place z3++.h is used is
// verify/*.cpp). Each function answers one bounded question.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lang/language.h"
#include "saturate/circuit.h"

namespace saturn::verify {

struct SolverAnswer {
  enum Kind { unsat, sat, unknown } kind = unknown;
  Word word;  // sat: a word on which the two sides differ, the least in symbol order of its
              // length unless canonical is false (the search for it ran out of time)
  std::string reason;  // unknown: the solver's reason (timeout, incomplete, ...)
  bool canonical = true;
};

// Why smt does not apply to the circuit (or to `other`), or nullopt when it does: sparsemax
// attention is not encoded (its per-row threshold needs a case split over supports, and the
// scores' factor 1/sqrt(dh) is irrational unless dh is a perfect square).
std::optional<std::string> smt_inapplicable(const saturate::Circuit& circuit,
                                            const saturate::Circuit* other = nullptr);

// Is there a word of exactly `length` on which the circuit and the reference (a language, or
// a second circuit) differ? Inputs are one Boolean per (position, symbol) with exactly-one
// constraints; the circuit's rows are real-valued terms (layer-1 scores as constant tables
// over symbol pairs), hard attention as a max with tie flags and a linear average; the language
// as its configuration graph unrolled to the length. Throws InputError for circuits the
// encoding does not cover (norm layers).
// The query runs in a child process (verify/isolated.h) that is killed at the deadline or on
// Ctrl-C.
SolverAnswer smt_differs_at_length(const saturate::Circuit& circuit, const Language* language,
                                   const saturate::Circuit* other, int length,
                                   double timeout_seconds);
// The same query in this process (Z3's own timeout only): what the child runs.
SolverAnswer smt_query_at_length(const saturate::Circuit& circuit, const Language* language,
                                 const saturate::Circuit* other, int length,
                                 double timeout_seconds);

// Why the counts method does not apply, or nullopt when it does: the circuit must be
// permutation-invariant at its readout (no positions, not causal, bos/eos readout, average-
// hard, one layer, no norms) and the language defined by symbol counts (counts/mod).
std::optional<std::string> counts_inapplicable(const saturate::Circuit& circuit,
                                               const Language& language);

// Over symbol counts: the shortest length in [min_length, max_length] with a count vector on
// which circuit and language differ (answer.word: the symbols in alphabet order).
// The query runs in a child process (verify/isolated.h) that is killed at the deadline or on
// Ctrl-C, as smt's do.
SolverAnswer counts_differ(const saturate::Circuit& circuit, const Language& language,
                           int min_length, int max_length, double timeout_seconds);
// The same query in this process (Z3's own timeout only): what the child runs.
SolverAnswer counts_query(const saturate::Circuit& circuit, const Language& language,
                          int min_length, int max_length, double timeout_seconds);

// The language's configuration graph for words of exactly `length`: layer t holds the
// distinct configurations reachable after t symbols, with transitions. Used by the SMT
// encoding; tests check it against the machine on random words.
struct UnrolledMachine {
  std::vector<std::vector<std::vector<int>>> next;  // [t][state][symbol] -> state in layer t+1
  std::vector<bool> accepting;                      // states of layer `length`
  bool accepts(const Word& w) const;
};
UnrolledMachine unroll(const Language& language, int length);

}  // namespace saturn::verify
