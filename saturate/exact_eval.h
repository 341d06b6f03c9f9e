// Exact evaluation of a saturated circuit. Everything linear, attention maxima and averages in
// rational arithmetic (Boost.Multiprecision over GMP); the square root of a norm layer as a
// rigorous interval with dyadic endpoints (2^-128 grid, rounded outward). A decision that an
// interval cannot settle (an attention argmax, or the sign of the accept logit) makes the word
// `undecided`, never a guess.
//
// Fast path: the same evaluation over double intervals rounded outward (error-free transforms
// detect exact operations, so exact values stay points). Every decision it makes is rigorous;
// whatever it cannot decide is re-evaluated with rationals, which remain the reference.
//
// Sparsemax circuits (rule "sparsemax"): per row tau and the weights max(0, z_j - tau) over the
// scaled scores z, exact rationals when the scale attention_scale / sqrt(dh) is rational, else
// intervals; a support that the intervals cannot prove is `undecided` too.
//
// Ties between scores are settled exactly: two scores are equal when both are exact and equal,
// or when they come from identical key rows (the same function of equal inputs: each row
// carries an id that equal rows share), so intervals never hide a tie of average-hard attention.
#pragma once

#include <boost/multiprecision/gmp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "saturate/circuit.h"
#include "saturate/small_rational.h"

namespace saturn::saturate {

using Rational = boost::multiprecision::mpq_rational;

// 1/sqrt(q) for q >= 0 when it is rational (q = a/b in lowest terms with a and b perfect
// squares); 0 for q = 0 (nets' output for a zero row at eps = 0); nothing otherwise.
inline std::optional<Rational> rational_rsqrt(const Rational& q) {
  if (q == 0) return Rational(0);
  using boost::multiprecision::mpz_int;
  const mpz_int a = numerator(q), b = denominator(q);
  const mpz_int ra = boost::multiprecision::sqrt(a), rb = boost::multiprecision::sqrt(b);
  if (ra * ra != a || rb * rb != b) return std::nullopt;
  return Rational(rb, ra);
}

template <class T>
struct BasicInterval {
  T lo, hi;
  bool exact() const { return lo == hi; }
};
using Interval = BasicInterval<Rational>;

enum class Verdict { accept, reject, undecided };
inline const char* to_string(Verdict v) {
  return v == Verdict::accept ? "accept" : v == Verdict::reject ? "reject" : "undecided";
}

struct ExactResult {
  Verdict verdict = Verdict::undecided;
  Interval logit;      // the accept logit (> 0 accepts)
  std::string reason;  // why undecided
};

class ExactEvaluator {
 public:
  // Throws InputError for what cannot be evaluated exactly (pointwise attention, gelu FFNs).
  explicit ExactEvaluator(const Circuit& circuit);
  // Thread-safe (const, no shared mutable state). Throws InputError for a word longer than
  // the circuit's positions or with a symbol outside its alphabet.
  ExactResult run(const Word& word) const;
  // The same, with a per-thread cache: the first layer's rows and scores per (position, symbol)
  // for the current length; where the circuit is causal, the rows of the previous word's
  // common prefix (enumeration in symbol order); and, for two or more layers, a memo of rows
  // by structure (an attention output by the multiset of rows its heads select, a block's
  // output by its inputs' ids), so words that select alike share the rest of the computation.
  // Results are bit-identical to a fresh evaluation. A cache serves one evaluator; one per
  // thread.
  class Cache {
   public:
    // many_words = false: for one word, where tables per length would not pay.
    explicit Cache(bool many_words = true);
    ~Cache();
    struct Impl;
    std::unique_ptr<Impl> impl;
  };
  ExactResult run(const Word& word, Cache& cache) const;
  // The verdict alone, without converting the logit to a rational: enumeration's inner loop.
  Verdict verdict(const Word& word, Cache& cache) const;
  // The rational reference alone (no fast path).
  ExactResult run_rational(const Word& word) const;
  const Circuit& circuit() const { return circuit_; }

  template <class T>
  struct Matrix {
    int rows = 0, cols = 0;
    std::vector<T> w;        // row-major
    std::vector<T> row_abs;  // sum_c |w_rc|, for the double path's error bounds
  };
  // The circuit's tensors in one number type, resolved by role once (exact_pass.h).
  template <class T>
  struct Weights;

 private:
  void check_word(const Word& word) const;
  ExactResult run(const Word& word, Cache& cache, bool with_logit) const;
  Circuit circuit_;
  std::shared_ptr<const Weights<Rational>> rational_;
  std::shared_ptr<const Weights<double>> double_;  // null when a weight is not a double
  // 64-bit rationals: between the two, for norm-free circuits (ties of the double path are
  // settled exactly here). Null where they do not apply.
  std::shared_ptr<const Weights<detail::SmallRational>> small_;
};

}  // namespace saturn::saturate
