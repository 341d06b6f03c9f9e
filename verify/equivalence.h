// Bounded equivalence of a saturated circuit and a reference (a language's machine, or a
// second circuit): every word of every length M..N, decided by one of three methods.
//   enumerate: every word through the exact circuit evaluator and the reference, in parallel;
//   smt:       one Z3 query per length over symbolic words (encode_net.h);
//   counts:    one Z3 query over symbol counts for every length at once, when the circuit is
//              permutation-invariant and the language is defined by counts (encode_counts.h);
//   auto:      counts if it applies, in a child process racing the lengths one by one (the
//              first decisive answer wins); per length, by a cost estimate of each method
//              (equivalence.cpp, AutoPlanner): enumerate alone while it is cheaper than smt
//              can be, smt alone once smt's measured time is well below enumeration's (or past
//              race_limit words), and in between both at once (smt in a child process,
//              enumeration here), the first decisive answer winning.
// A counterexample is a shortest one and, whatever the method, the least word of its length in
// symbol order (canonical; smt and counts search for it after their first answer and say when
// time ran out first); it is replayed on the exact circuit and the reference before it is
// reported. Anything undecided is `unknown`, never `equivalent`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lang/language.h"
#include "saturate/circuit.h"

namespace saturn::verify {

enum class Method { automatic, enumerate, smt, counts };
inline constexpr std::array<const char*, 4> kMethodNames = {"auto", "enumerate", "smt", "counts"};

// What the circuit is compared against.
struct Reference {
  std::string name;
  std::shared_ptr<const Language> language;          // or
  std::shared_ptr<const saturate::Circuit> circuit;  // a second circuit
  Alphabet alphabet() const;
};

struct Options {
  int min_length = 0, max_length = 0;
  Method method = Method::automatic;
  double timeout_seconds = 0;  // 0: none
  bool progress = false;       // a progress line on stderr
  long race_limit = 1L << 40;  // auto: past this many words, smt alone
};

struct Verdict {
  enum Kind { equivalent, counterexample, unknown } kind = unknown;
  std::string method;  // the method that produced the verdict ("counts", "enumerate", "smt", ...)
  double seconds = 0;
  Word word;              // counterexample
  bool canonical = true;  // the least word of its length (false: the search ran out of time)
  bool circuit_accepts = false, reference_accepts = false;
  std::string reason;  // unknown: why
  int min_length = 0, max_length = 0;
  // Every length min_length..proved_up_to was checked and agreed (min_length - 1: none).
  int proved_up_to = -1;
};

// Throws InputError for bad input (alphabet mismatch, N < M, a method that does not apply
// when asked for explicitly names why).
Verdict check_equivalence(const saturate::Circuit& circuit, const Reference& reference,
                          const Options& options);

// The verdict as the command prints it (one line).
std::string describe(const Verdict& verdict, const saturate::Circuit& circuit,
                     const Reference& reference);

}  // namespace saturn::verify
