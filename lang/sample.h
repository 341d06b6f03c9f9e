// Exact uniform sampling of accepted and rejected words of a given length, from the count
// tables (one big random integer per word, walked down the tables: no rejection sampling,
// no bias). Also near-miss negatives and next-symbol targets. This is the API the trainer
// (nets/) calls directly.
#pragma once

#include <optional>
#include <random>

#include "lang/count.h"
#include "lang/shuffle.h"

namespace saturn {

using Rng = std::mt19937_64;

// A uniform integer in [0, bound), bound > 0, exact (rejection on random bits).
BigInt uniform_below(Rng& rng, const BigInt& bound);

// For every prefix w[:i], i = 0..|w|: the symbols s such that w[:i] s can be completed to an
// accepted word of length <= max_length, and whether w[:i] itself is accepted.
struct NextTargets {
  std::vector<std::vector<Symbol>> next;
  std::vector<bool> prefix_accepted;
};

enum class EditKind { substitute, insert, remove, swap };

// Exact counts and uniform samples of one language. Not thread-safe: one per thread.
class Sampler {
 public:
  explicit Sampler(std::shared_ptr<const Language> language,
                   std::size_t max_entries = CountTable::kDefaultMaxEntries);
  ~Sampler();

  // Accepted / rejected words of length n (by the fastest exact method for the language).
  const BigInt& count_accepted(int n);
  BigInt count_rejected(int n) {
    BigInt total = count_accepted(n);
    return table_.power(n) - total;
  }

  // Throws LimitError at once when counting length n would exceed the budgets (the count
  // table's predicted size, a shuffle's binomial table): for a range A..B, check B before
  // sampling A, so that a range too long is refused before its first word.
  void check_length(int n);

  // A uniform accepted (rejected) word of length n, or nullopt if there is none.
  std::optional<Word> accepted(int n, Rng& rng);
  std::optional<Word> rejected(int n, Rng& rng);
  // The index-th accepted (rejected) word of length n, 0 <= index < count: a bijection (in
  // symbol order, except for shuffles; see shuffle.h). Sampling unranks a uniform index.
  Word unrank_accepted(int n, BigInt index);
  Word unrank_rejected(int n, BigInt index);

  // A near-miss negative of length n: a uniform accepted word (of length n, n-1 or n+1) with
  // one uniform random edit that leaves the language. The edit kind is uniform among those
  // possible at n; draws that stay in the language are redrawn (at most max_tries times).
  std::optional<Word> near_miss(int n, Rng& rng, int max_tries = 1000);

  NextTargets next_targets(const Word& w, int max_length);

  CountTable& table() { return table_; }
  const Language& language() const { return table_.language(); }

 private:
  Word unrank(int n, BigInt index, bool want_accepted);
  CountTable table_;
  std::unique_ptr<ShuffleCounts> shuffle_;
  std::vector<Config> candidates_;
  BigInt rejected_weight_;  // scratch, reused across steps
};

// --table-limit of `lang count` and `lang sample`: throws InputError unless 1..10^10 entries.
void check_table_limit(long long entries);

// `saturn lang count`: the exact number of accepted (or rejected) words of length n. Regular
// languages: two layers of the DFA's table, whatever the length; others: a Sampler whose count
// table holds at most table_limit entries (LimitError past it). Throws InputError naming
// --length for n < 0 and --table-limit outside 1..10^10.
BigInt count_words_of_length(std::shared_ptr<const Language> language, int n, bool rejected,
                             long long table_limit = CountTable::kDefaultMaxEntries);

}  // namespace saturn
