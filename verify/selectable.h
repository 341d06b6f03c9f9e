// Selectable keys (Brody, Alon & Yahav 2023, §4), decided exactly.
//
// Key k_i of a set is *selectable* when some query q scores it strictly highest:
// q.k_i > q.k_j for every j != i. For a finite set that is "k_i is a vertex of the convex hull
// and no other key equals it". Identical keys are never strictly highest; saturn calls a key
// *tied* when its value is a vertex of the hull of the distinct values but another key equals it
// (attention that selects it gives the copies the same weight: "selectable in a tie"), and
// *un-selectable* when its value lies in the convex hull of the other distinct values, so that
// no query, hard or soft, can make it the one key with the highest score.
//
// The decision is exact: coordinates are rationals (GMP), and each answer carries a certificate
// checked in exact arithmetic. Selectable: a query q with q.(k_i - k_j) > 0 for every other
// distinct value k_j. Un-selectable: weights l_j >= 0 summing to 1 with sum_j l_j k_j = k_i,
// solved exactly, or Z3's linear real arithmetic (exact simplex) proving {q.(k_i - k_j) >= 1 for
// j in S} unsatisfiable for a subset S of the keys, which makes the full system unsatisfiable.
// Floating point only chooses candidates: the centroid direction, then Wolfe's minimum-norm
// point (min_norm.h), then Z3 cutting planes (S grows by the constraints the last query violates
// most). A double query is accepted when rigorous error bounds prove every margin positive; the
// margins the bounds cannot settle are computed in rationals.
#pragma once

#include <boost/multiprecision/gmp.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace saturn::verify {

using Rational = boost::multiprecision::mpq_rational;

// n points of dimension d, row-major.
struct PointSet {
  int d = 0;
  std::vector<Rational> coords;  // n * d
  std::size_t size() const { return d == 0 ? 0 : coords.size() / static_cast<std::size_t>(d); }
  const Rational& at(std::size_t i, int k) const { return coords[i * d + k]; }
};

// Reads `{"points": [[x, ...], ...]}`. A coordinate is a JSON number, read from its text exactly
// (0.1 is 1/10, 1e-3 is 1/1000), or a string "p/q", "p" or a decimal. Throws InputError naming
// the source and the JSON path on anything else (ragged rows, an empty set, q = 0, exponents
// beyond +-4000, a file over the memory budget).
PointSet read_points(std::string_view text, const std::string& source);

// A decimal ("-1.25e-3") or fraction ("3/7") as an exact rational; throws InputError naming
// `where` when it is neither.
Rational parse_exact_number(std::string_view text, const std::string& where);

enum class Selectability { selectable, tied, unselectable };
inline const char* to_string(Selectability s) {
  return s == Selectability::selectable ? "selectable"
         : s == Selectability::tied     ? "tied"
                                        : "unselectable";
}

struct SelectabilityStats {
  std::size_t distinct = 0;    // distinct values
  std::size_t float_only = 0;  // decided by the first double query alone
  std::size_t min_norm = 0;    // decided by a certificate from Wolfe's minimum-norm point
  std::size_t z3_checks = 0;   // exact LP feasibility checks
};

// The status of every point. Coordinates must be 0 or of magnitude in [1e-280, 1e280] (double's
// range with room for the error bounds); throws LimitError otherwise. Runs on `threads` threads
// (each its own Z3 context) and stops on Ctrl-C (Interrupted).
// `fast = false` skips the double-precision certificates and decides every point with Z3 alone
// (for tests: both paths must agree).
std::vector<Selectability> selectability(const PointSet& points, int threads = 1,
                                         SelectabilityStats* stats = nullptr, bool fast = true);

// What `saturn keys --points FILE --json` prints for a point set, as JSON text: points,
// dimension, distinct, num_selectable, num_tied, num_unselectable, and the indices (from 0) of
// the selectable (tied included), tied and un-selectable points.
std::string point_selectability_json(const PointSet& points, int threads);

}  // namespace saturn::verify
