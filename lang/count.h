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

  // Accepted / rejected words of length n. Throws LimitError past max_entries table entries.
  const BigInt& accepted(int n) { return accepted_from(language_->runner().start(), n); }
  BigInt rejected(int n) { return power(n) - accepted(n); }
  // Accepted words w of length `remaining` such that (prefix leading to c) + w is accepted.
  const BigInt& accepted_from(const Config& c, int remaining);
  // |Σ|^r.
  const BigInt& power(int r);

  const Language& language() const { return *language_; }
  std::size_t entries() const { return memo_.size(); }

 private:
  const BigInt& count(const Config& c, int r);

  std::shared_ptr<const Language> language_;
  std::size_t max_entries_;
  std::unordered_map<Key, BigInt, KeyHash> memo_;
  std::vector<BigInt> powers_;
  std::vector<Config> scratch_;  // one successor configuration per recursion depth
  Key key_;
  SymbolSet all_;
};

}  // namespace saturn
