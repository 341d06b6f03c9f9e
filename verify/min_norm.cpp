// Wolfe's minimum-norm-point algorithm (min_norm.h): major cycles add the point most opposed to
// x; minor cycles move to the affine minimiser of the current support, or as far toward it as
// convexity allows, dropping the points whose weight reaches zero.
#include "verify/min_norm.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace saturn::verify::detail {

namespace {

// Solves the (n x n) system M y = r in place (partial pivoting); false when singular.
bool solve(std::vector<double>& M, std::vector<double>& r, int n) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int row = c + 1; row < n; ++row)
      if (std::fabs(M[row * n + c]) > std::fabs(M[piv * n + c])) piv = row;
    if (!(std::fabs(M[piv * n + c]) > 1e-300)) return false;
    if (piv != c) {
      for (int k = 0; k < n; ++k) std::swap(M[c * n + k], M[piv * n + k]);
      std::swap(r[c], r[piv]);
    }
    for (int row = c + 1; row < n; ++row) {
      const double f = M[row * n + c] / M[c * n + c];
      if (f == 0) continue;
      for (int k = c; k < n; ++k) M[row * n + k] -= f * M[c * n + k];
      r[row] -= f * r[c];
    }
  }
  for (int c = n - 1; c >= 0; --c) {
    double s = r[c];
    for (int k = c + 1; k < n; ++k) s -= M[c * n + k] * r[k];
    r[c] = s / M[c * n + c];
  }
  return std::all_of(r.begin(), r.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

MinNormResult min_norm_point(const double* a, std::size_t m, int d, std::size_t i,
                             int max_iterations) {
  const double* ai = a + i * d;
  const auto p = [&](std::size_t j, int k) { return a[j * d + k] - ai[k]; };
  const auto dot = [&](const double* row, const std::vector<double>& x) {
    double s = 0;
    for (int k = 0; k < d; ++k) s += x[k] * row[k];
    return s;
  };
  // Start at the nearest point; scale^2 is the largest squared difference.
  std::size_t start = m;
  double best = std::numeric_limits<double>::infinity(), scale2 = 0;
  for (std::size_t j = 0; j < m; ++j) {
    if (j == i) continue;
    double s = 0;
    for (int k = 0; k < d; ++k) s += p(j, k) * p(j, k);
    scale2 = std::max(scale2, s);
    if (s < best) best = s, start = j;
  }
  MinNormResult out;
  if (start == m) return out;
  std::vector<std::size_t> S{start};
  std::vector<double> lambda{1.0}, x(d);
  for (int k = 0; k < d; ++k) x[k] = p(start, k);
  const double zero2 = 1e-24 * scale2, gap = 1e-13 * scale2;
  int iterations = 0;
  while (iterations++ < max_iterations) {
    double xx = 0;
    for (int k = 0; k < d; ++k) xx += x[k] * x[k];
    // x.p_j = x.a_j - x.a_i: one pass over the points.
    std::size_t jmin = m;
    double lo = std::numeric_limits<double>::infinity();
    const double xi = dot(ai, x);
    for (std::size_t j = 0; j < m; ++j) {
      const double v = dot(a + j * d, x) - xi;
      if (j != i && v < lo) lo = v, jmin = j;
    }
    if (lo > 0) {
      out.kind = MinNormResult::separated;
      for (double v : x) out.query.push_back(-v);
      return out;
    }
    if (xx <= zero2 || xx - lo <= gap || std::find(S.begin(), S.end(), jmin) != S.end()) {
      out.kind = MinNormResult::contains;
      out.support = S;
      return out;
    }
    S.push_back(jmin);
    lambda.push_back(0.0);
    // Minor cycles.
    while (iterations++ < max_iterations) {
      const int t = static_cast<int>(S.size()), n = t + 1;
      std::vector<double> M(static_cast<std::size_t>(n) * n, 0.0), r(n, 0.0);
      for (int u = 0; u < t; ++u) {
        for (int v = u; v < t; ++v) {
          double g = 0;
          for (int k = 0; k < d; ++k) g += p(S[u], k) * p(S[v], k);
          M[u * n + v] = M[v * n + u] = g;
        }
        M[u * n + t] = M[t * n + u] = 1.0;
      }
      r[t] = 1.0;
      if (!solve(M, r, n)) return out;  // failed
      const double tiny = 1e-12;
      if (std::all_of(r.begin(), r.begin() + t, [&](double v) { return v > tiny; })) {
        lambda.assign(r.begin(), r.begin() + t);
        break;
      }
      double theta = 1.0;
      for (int u = 0; u < t; ++u)
        if (r[u] <= tiny) theta = std::min(theta, lambda[u] / (lambda[u] - r[u]));
      for (int u = 0; u < t; ++u) lambda[u] += theta * (r[u] - lambda[u]);
      // Drop the points whose weight reached zero (at least the one that set theta).
      std::size_t drop = 0;
      for (int u = 1; u < t; ++u)
        if (lambda[u] < lambda[drop]) drop = u;
      std::vector<std::size_t> S2;
      std::vector<double> l2;
      for (int u = 0; u < t; ++u)
        if (static_cast<std::size_t>(u) != drop && lambda[u] > 1e-15)
          S2.push_back(S[u]), l2.push_back(lambda[u]);
      S = std::move(S2), lambda = std::move(l2);
      if (S.empty()) return out;
    }
    double total = 0;
    for (double l : lambda) total += l;
    std::fill(x.begin(), x.end(), 0.0);
    for (std::size_t u = 0; u < S.size(); ++u)
      for (int k = 0; k < d; ++k) x[k] += lambda[u] / total * p(S[u], k);
  }
  return out;
}

}  // namespace saturn::verify::detail
