// Languages whose constraints split over disjoint sub-alphabets are interleavings (shuffles)
// of independent parts, e.g. shuffle-Dyck-k. Their words of length n number
//   A(n) = sum over l_1 + ... + l_m = n of  n! / (l_1! ... l_m!) * prod_i c_i(l_i),
// where c_i counts part i's words, so counting is a binomial convolution of 1-counter tables
// (O(m n^2)) instead of a DP over m counters at once (O(n^(m+1))). Unranking (hence uniform
// sampling) splits an index over: the part lengths, the positions of the last part, its word,
// and the interleaving of the rest, recursively.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "lang/count.h"

namespace saturn {

class Sampler;

class ShuffleCounts {
 public:
  // Parts of a language whose machine is a single counts constraint that splits, else null.
  static std::unique_ptr<ShuffleCounts> try_make(const std::shared_ptr<const Language>& language,
                                                 std::size_t max_entries);
  ~ShuffleCounts();

  const BigInt& accepted(int n);
  // Throws LimitError when accepted(n) would exceed the budgets (binomials, parts' tables).
  void check_length(int n);
  // A bijection from [0, accepted(n)) to the accepted words of length n.
  Word unrank(int n, BigInt index);
  // The shortest accepted continuation of the prefix `w` has length <= budget.
  bool can_complete_within(const Word& w, int budget);
  int num_parts() const { return static_cast<int>(parts_.size()); }

 private:
  struct Part {
    std::vector<Symbol> symbols;       // local symbol -> full-alphabet symbol
    std::unique_ptr<Sampler> sampler;  // over the part's own alphabet
  };
  ShuffleCounts() = default;
  const BigInt& binomial(int n, int k);
  const BigInt& part_count(int i, int n);
  // Words of length n interleaving parts 0..j.
  const BigInt& prefix_count(int j, int n);
  Word unrank_prefix(int j, int n, BigInt index);

  std::vector<Part> parts_;
  std::vector<int> part_of_;  // full-alphabet symbol -> part, or -1 (free symbol)
  std::vector<std::vector<BigInt>> binomials_;
  std::vector<std::vector<std::optional<BigInt>>> prefix_counts_;  // [j][n]
};

}  // namespace saturn
