// Exact counting of accepted and rejected words by dynamic programming over the reference
// machine's configurations, with big integers. Tables are indexed by Machine::key — what
// determines a configuration's future — so they stay small (Dyck: the stack height; counts:
// the linear forms clipped to what the remaining length can still change).
#pragma once

#include <boost/multiprecision/cpp_int.hpp>

#include <unordered_map>

#include "lang/language.h"

namespace saturn {

using BigInt = boost::multiprecision::cpp_int;

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept;
};

// Memoised counts of accepted continuations. Not thread-safe: one per thread.
class CountTable {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 20'000'000;

  explicit CountTable(std::shared_ptr<const Language> language,
                      std::size_t max_entries = kDefaultMaxEntries);

  // Accepted / rejected words of length n. Throws LimitError past max_entries table entries or
  // the memory budget (base/budget.h).
  // Before the first count of a length, the table's size is predicted (without big integers)
  // and a length over the budgets is refused at once.
  const BigInt& accepted(int n);
  // The check accepted(n) makes first, alone: throws LimitError when the table for length n
  // would exceed the budgets (predicted without counting). A caller about to count a range of
  // lengths A..B calls it with B first: B's table holds most of the shorter lengths' entries.
  void check_length(int n);
  BigInt rejected(int n) { return power(n) - accepted(n); }
  // Accepted words w of length `remaining` such that (prefix leading to c) + w is accepted.
  const BigInt& accepted_from(const Config& c, int remaining);
  // |Σ|^r. The reference is valid until the next call.
  const BigInt& power(int r);

  const Language& language() const { return *language_; }
  std::size_t entries() const { return memo_.size(); }

 private:
  const BigInt& count(const Config& c, int r);
  // The memoised count of (c, r), kZero when c is dead for r, or nullptr (with key_ set) when
  // it is still to be computed.
  const BigInt* lookup(const Config& c, int r);
  // Throws LimitError when counting length n from `start` would exceed the table's budgets.
  void predict(const Config& start, int n);

  static constexpr int kPredictFrom = 256;  // shorter lengths are not sized in advance
  struct Frame {                            // of the depth-first count
    Config c;
    Key key;
    int r = 0;
    int next_symbol = 0;
    BigInt total = 0;
  };

  std::shared_ptr<const Language> language_;
  std::size_t max_entries_;
  int predicted_length_ = 0;
  std::vector<Frame> frames_;
  Config next_;
  std::unordered_map<Key, BigInt, KeyHash> memo_;
  std::size_t bytes_ = 0;  // held by memo_, checked against the memory budget
  BigInt power_;
  int power_exponent_ = -1;
  Key key_;
  SymbolSet all_;
};

// Accepted words of length n of a language with a DFA, in O(|Q|) big integers (two layers of
// the DP instead of the whole table): for long lengths of regular languages. O(n |Q| |Σ|)
// additions. Ctrl-C stops it.
BigInt count_accepted_words(const Language& language, int n);

}  // namespace saturn
