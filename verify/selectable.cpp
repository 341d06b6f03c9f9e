// Exact selectability of keys (selectable.h): deduplication, a rigorous double-precision test
// of candidate queries, and Z3 cutting planes for the rest.
#include "verify/selectable.h"

#include <fmt/format.h>
#include <omp.h>

#include <z3++.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "base/error.h"
#include "base/interrupt.h"
#include "verify/min_norm.h"

namespace saturn::verify {

namespace {

using boost::multiprecision::mpz_int;
constexpr double kMaxMagnitude = 1e280, kMinMagnitude = 1e-280;

// The distinct values, their double approximations, and the doubles' centroid.
struct Distinct {
  int d = 0;
  std::vector<std::size_t> first;   // a representative point of each distinct value
  std::vector<std::size_t> group;   // per point: its distinct value
  std::vector<std::size_t> copies;  // per distinct value: how many points have it
  std::vector<double> approx;       // (m, d)
  std::vector<double> centroid;     // (d)
  // Each distinct value k_j as integers: k_j = integer[j] / scale[j] (scale[j] > 0, the lcm of
  // the row's denominators), for fraction-free elimination.
  std::vector<mpz_int> integer, scale;
  std::size_t size() const { return first.size(); }
};

Distinct deduplicate(const PointSet& points) {
  const std::size_t n = points.size();
  const int d = points.d;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto less = [&](std::size_t a, std::size_t b) {
    for (int k = 0; k < d; ++k)
      if (points.at(a, k) != points.at(b, k)) return points.at(a, k) < points.at(b, k);
    return false;
  };
  std::stable_sort(order.begin(), order.end(), less);
  Distinct out;
  out.d = d;
  out.group.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    if (r == 0 || less(order[r - 1], order[r])) {
      out.first.push_back(order[r]);
      out.copies.push_back(0);
    }
    out.group[order[r]] = out.first.size() - 1;
    ++out.copies.back();
  }
  const std::size_t m = out.size();
  out.approx.resize(m * d);
  out.centroid.assign(d, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (int k = 0; k < d; ++k) {
      const Rational& x = points.at(out.first[i], k);
      const double a = x.convert_to<double>();
      if (x != 0 && !(std::fabs(a) >= kMinMagnitude && std::fabs(a) <= kMaxMagnitude))
        throw LimitError(fmt::format(
            "point {} coordinate {}: magnitude outside [1e-280, 1e280] (saturn keys decides "
            "coordinates of 0 or within that range)",
            out.first[i], k));
      out.approx[i * d + k] = a;
      out.centroid[k] += a / static_cast<double>(m);
    }
  out.integer.resize(m * d);
  out.scale.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    mpz_int l = 1;
    for (int k = 0; k < d; ++k) l = lcm(l, denominator(points.at(out.first[i], k)));
    out.scale[i] = l;
    for (int k = 0; k < d; ++k) {
      const Rational& x = points.at(out.first[i], k);
      out.integer[i * d + k] = numerator(x) * (l / denominator(x));
    }
  }
  return out;
}

// One thread's work: decides distinct values one at a time.
class Decider {
 public:
  Decider(const PointSet& points, const Distinct& distinct, SelectabilityStats& stats, bool fast)
      : points_(points), dist_(distinct), d_(distinct.d), stats_(stats), fast_paths_(fast) {
    margins_.resize(distinct.size());
    bounds_.resize(distinct.size());
  }

  bool is_vertex(std::size_t i) {
    const std::size_t m = dist_.size();
    if (m == 1) return true;
    std::vector<double> q(d_);
    for (int k = 0; k < d_; ++k) q[k] = dist_.approx[i * d_ + k] - dist_.centroid[k];
    std::vector<std::size_t> violated = violations(i, q);
    if (!fast_paths_) return z3_decides(i, q, std::move(violated));
    if (violated.empty()) {
      ++float_only_;
      return true;
    }
    // Wolfe's minimum-norm point: a separating query, or a few points whose convex hull holds
    // this one. Each is checked exactly; what neither settles goes to Z3.
    const detail::MinNormResult wolfe =
        detail::min_norm_point(dist_.approx.data(), m, d_, i, 40 * (d_ + 2));
    if (wolfe.kind == detail::MinNormResult::separated) {
      std::vector<std::size_t> v = violations(i, wolfe.query);
      if (v.empty()) {
        ++fast_;
        return true;
      }
      violated.insert(violated.begin(), v.begin(), v.end());
    } else if (wolfe.kind == detail::MinNormResult::contains) {
      if (in_hull(i, wolfe.support)) {
        ++fast_;
        return false;
      }
      violated.insert(violated.begin(), wolfe.support.begin(), wolfe.support.end());
    }
    return z3_decides(i, q, std::move(violated));
  }

  // Cutting planes: S grows by the constraints the last query violates most, starting with
  // `violated`; q is scratch.
  bool z3_decides(std::size_t i, std::vector<double>& q, std::vector<std::size_t> violated) {
    const std::size_t m = dist_.size();
    if (violated.empty()) violated.push_back(i == 0 ? 1 : 0);
    if (!z3_) z3_.emplace();
    z3::context& ctx_ = *z3_;
    z3::solver solver(ctx_);
    std::vector<z3::expr> qv;
    for (int k = 0; k < d_; ++k) qv.push_back(ctx_.real_const(fmt::format("q{}", k).c_str()));
    std::vector<char> in_s(m, 0);
    const std::size_t batch = static_cast<std::size_t>(2 * d_ + 2);
    for (;;) {
      std::size_t added = 0;
      for (std::size_t j : violated) {
        if (in_s[j] || added == batch) continue;
        in_s[j] = 1, ++added;
        z3::expr_vector terms(ctx_);
        for (int k = 0; k < d_; ++k) {
          const Rational diff = point(i, k) - point(j, k);
          if (diff != 0) terms.push_back(ctx_.real_val(diff.str().c_str()) * qv[k]);
        }
        solver.add(terms.empty() ? ctx_.bool_val(false) : z3::sum(terms) >= 1);
      }
      ++z3_checks_;
      const z3::check_result r = solver.check();
      if (r == z3::unsat) return false;
      if (r != z3::sat) throw std::runtime_error("selectability: Z3 returned unknown on QF_LRA");
      // The exact query, scaled to max |q_k| = 1 before rounding to doubles.
      const z3::model model = solver.get_model();
      std::vector<Rational> exact(d_);
      Rational largest = 0;
      for (int k = 0; k < d_; ++k) {
        const z3::expr v = model.eval(qv[k], true);
        exact[k] = Rational(Z3_get_numeral_string(ctx_, v));
        largest = std::max<Rational>(largest, abs(exact[k]));
      }
      for (int k = 0; k < d_; ++k) {
        if (largest != 0) exact[k] /= largest;
        q[k] = exact[k].convert_to<double>();
      }
      violated = violations(i, q);
      if (violated.empty()) return true;
      if (std::any_of(violated.begin(), violated.end(), [&](std::size_t j) { return in_s[j]; })) {
        // Rounding q broke a constraint that q satisfies exactly: test q itself, exactly.
        violated = exact_violations(i, exact);
        if (violated.empty()) return true;
      }
    }
  }

  void flush() {
    stats_.float_only += float_only_;  // under omp critical
    stats_.min_norm += fast_;
    stats_.z3_checks += z3_checks_;
  }

 private:
  const Rational& point(std::size_t distinct, int k) const {
    return points_.at(dist_.first[distinct], k);
  }

  // The distinct values j whose margin q.(k_i - k_j) is not positive, most violated first. The
  // double margin is trusted when it exceeds a bound on its error (the coordinates' rounding to
  // doubles, relative 2^-52, and the dot products' rounding, gamma_d, both doubled for safety);
  // margins within the bound are computed exactly with q's doubles as rationals.
  std::vector<std::size_t> violations(std::size_t i, const std::vector<double>& q) {
    const std::size_t m = dist_.size();
    const double* a = dist_.approx.data();
    for (std::size_t j = 0; j < m; ++j) {
      double s = 0, mag = 0;
      const double* row = a + j * d_;
      for (int k = 0; k < d_; ++k) {
        const double t = q[k] * row[k];
        s += t;
        mag += std::fabs(t);
      }
      margins_[j] = s;
      bounds_[j] = mag;
    }
    const double rel = 2.0 * (d_ + 4) * std::ldexp(1.0, -52), tiny = 1e-290;
    std::vector<std::pair<double, std::size_t>> bad;
    std::vector<Rational> q_exact;
    for (std::size_t j = 0; j < m; ++j) {
      if (j == i) continue;
      const double margin = margins_[i] - margins_[j];
      const double bound = 2.0 * rel * (bounds_[i] + bounds_[j]) + tiny;
      if (margin > bound) continue;
      if (margin < -bound) {
        bad.emplace_back(margin, j);
        continue;
      }
      if (q_exact.empty())
        for (double x : q) q_exact.emplace_back(x);
      Rational exact = 0;
      for (int k = 0; k < d_; ++k) exact += q_exact[k] * (point(i, k) - point(j, k));
      if (exact <= 0) bad.emplace_back(margin, j);
    }
    std::sort(bad.begin(), bad.end());
    std::vector<std::size_t> out;
    for (const auto& b : bad) out.push_back(b.second);
    return out;
  }

  // Whether distinct value i is a convex combination of the values in `support`, exactly: one
  // solution of sum_j l_j (k_j - k_i) = 0, sum_j l_j = 1 (free variables 0), accepted when every
  // l_j >= 0. Column j is multiplied by s_i s_j > 0 to make it integer (which scales l_j by a
  // positive factor, keeping its sign), and the system is solved by fraction-free Gauss-Jordan
  // elimination (Bareiss): every division is exact, so no gcd is ever taken.
  bool in_hull(std::size_t i, const std::vector<std::size_t>& support) const {
    const int t = static_cast<int>(support.size()), rows = d_ + 1, cols = t + 1;
    std::vector<mpz_int> A(static_cast<std::size_t>(rows) * cols);
    const auto at = [&](int r, int c) -> mpz_int& {
      return A[static_cast<std::size_t>(r) * cols + c];
    };
    const mpz_int& si = dist_.scale[i];
    for (int c = 0; c < t; ++c) {
      const std::size_t j = support[c];
      const mpz_int& sj = dist_.scale[j];
      for (int k = 0; k < d_; ++k)
        at(k, c) = si * dist_.integer[j * d_ + k] - sj * dist_.integer[i * d_ + k];
      at(d_, c) = si * sj;
    }
    at(d_, t) = 1;
    const std::vector<mpz_int> original = A;
    std::vector<int> pivot_col;
    mpz_int previous = 1;
    int r = 0;
    for (int c = 0; c < t && r < rows; ++c) {
      int piv = r;
      while (piv < rows && at(piv, c) == 0) ++piv;
      if (piv == rows) continue;
      for (int k = 0; k < cols; ++k) std::swap(at(r, k), at(piv, k));
      const mpz_int p = at(r, c);
      for (int row = 0; row < rows; ++row) {
        if (row == r) continue;
        const mpz_int f = at(row, c);
        for (int k = 0; k < cols; ++k) {
          if (k == c) continue;
          at(row, k) = (p * at(row, k) - f * at(r, k)) / previous;  // exact
        }
        at(row, c) = 0;
      }
      // Rows above the pivot row were updated too (Gauss-Jordan); their earlier pivots are now
      // p times larger over `previous`, consistent with the other entries.
      previous = p;
      pivot_col.push_back(c);
      ++r;
    }
    for (int row = r; row < rows; ++row)
      if (at(row, t) != 0) return false;  // inconsistent
    // Gauss-Jordan leaves every pivot equal to the last one, D: l_c = at(u, t) / D. The
    // certificate itself is checked in integers: sum_c l_c A(:, c) = b, every l_c >= 0.
    const mpz_int& D = previous;
    std::vector<mpz_int> num(t, mpz_int(0));
    for (int u = 0; u < r; ++u) {
      if (at(u, pivot_col[u]) != D) return false;
      num[pivot_col[u]] = at(u, t);
      if (num[pivot_col[u]] != 0 && (num[pivot_col[u]] < 0) != (D < 0)) return false;
    }
    for (int row = 0; row < rows; ++row) {
      mpz_int sum = 0;
      for (int c = 0; c < t; ++c)
        if (num[c] != 0) sum += num[c] * original[static_cast<std::size_t>(row) * cols + c];
      if (sum != D * original[static_cast<std::size_t>(row) * cols + t]) return false;
    }
    return true;
  }

  std::vector<std::size_t> exact_violations(std::size_t i, const std::vector<Rational>& q) const {
    std::vector<std::size_t> out;
    for (std::size_t j = 0; j < dist_.size(); ++j) {
      if (j == i) continue;
      Rational exact = 0;
      for (int k = 0; k < d_; ++k) exact += q[k] * (point(i, k) - point(j, k));
      if (exact <= 0) out.push_back(j);
    }
    return out;
  }

  const PointSet& points_;
  const Distinct& dist_;
  int d_;
  SelectabilityStats& stats_;
  bool fast_paths_;
  std::optional<z3::context> z3_;  // made on first use (a context costs milliseconds)
  std::vector<double> margins_, bounds_;
  std::size_t float_only_ = 0, fast_ = 0, z3_checks_ = 0;
};

}  // namespace

std::vector<Selectability> selectability(const PointSet& points, int threads,
                                         SelectabilityStats* stats, bool fast) {
  SelectabilityStats local;
  SelectabilityStats& st = stats ? *stats : local;
  const Distinct distinct = deduplicate(points);
  const std::size_t m = distinct.size();
  st.distinct = m;
  std::vector<char> vertex(m, 0);
  std::exception_ptr error;
  std::atomic<bool> stop{false};
#pragma omp parallel num_threads(std::max(1, threads))
  {
    Decider decider(points, distinct, st, fast);
#pragma omp for schedule(dynamic, 8)
    for (std::size_t i = 0; i < m; ++i) {
      if (stop.load(std::memory_order_relaxed)) continue;
      if (interrupted()) {
        stop = true;
        continue;
      }
      try {
        vertex[i] = decider.is_vertex(i);
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
        stop = true;
      }
    }
#pragma omp critical
    decider.flush();
  }
  if (error) std::rethrow_exception(error);
  check_interrupt();
  std::vector<Selectability> out(points.size());
  for (std::size_t p = 0; p < points.size(); ++p) {
    const std::size_t g = distinct.group[p];
    out[p] = !vertex[g]               ? Selectability::unselectable
             : distinct.copies[g] > 1 ? Selectability::tied
                                      : Selectability::selectable;
  }
  return out;
}

std::string point_selectability_json(const PointSet& points, int threads) {
  SelectabilityStats stats;
  const auto status = selectability(points, threads, &stats);
  std::vector<std::size_t> selectable, tied, unselectable;
  for (std::size_t i = 0; i < status.size(); ++i) {
    if (status[i] == Selectability::unselectable)
      unselectable.push_back(i);
    else
      selectable.push_back(i);
    if (status[i] == Selectability::tied) tied.push_back(i);
  }
  nlohmann::ordered_json j;
  j["points"] = points.size();
  j["dimension"] = points.d;
  j["distinct"] = stats.distinct;
  j["num_selectable"] = selectable.size();
  j["num_tied"] = tied.size();
  j["num_unselectable"] = unselectable.size();
  j["selectable"] = selectable;
  j["tied"] = tied;
  j["unselectable"] = unselectable;
  return j.dump();
}

}  // namespace saturn::verify
