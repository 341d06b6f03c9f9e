// Wolfe's (1976) minimum-norm-point algorithm in doubles, the fast path of exact selectability
// (selectable.cpp). For point i of a set, it looks for the point x of least norm in the convex
// hull of the differences p_j = a_j - a_i (j != i). Either some iterate x has x.p_j > 0 for every
// j, so the query q = -x scores a_i strictly highest (a candidate "selectable" certificate), or x
// reaches 0 as a convex combination of a few p_j (a candidate "un-selectable" certificate: its
// support). Both are only candidates: the caller checks them in exact arithmetic.
#pragma once

#include <cstddef>
#include <vector>

namespace saturn::verify::detail {

struct MinNormResult {
  enum Kind { separated, contains, failed } kind = failed;
  std::vector<double> query;         // separated: q = -x
  std::vector<std::size_t> support;  // contains: the indices j whose combination is ~0
};

// `a`: m points of dimension d, row-major; `i`: the point whose differences are taken.
// `max_iterations` bounds the major and minor cycles together.
MinNormResult min_norm_point(const double* a, std::size_t m, int d, std::size_t i,
                             int max_iterations);

}  // namespace saturn::verify::detail
