// Finite-difference gradient checks in double precision for the [nets] tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace saturn::test {

inline std::vector<double> random_vector(std::size_t n, std::mt19937& rng, double scale = 1.0) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Largest relative error between `analytic` (dL/dx) and central differences of `loss` (which
// reads x), over every element of x. |a - n| / max(1, |a|, |n|).
inline double gradient_error(std::span<double> x, std::span<const double> analytic,
                             const std::function<double()>& loss, double h = 1e-5) {
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double plus = loss();
    x[i] = saved - h;
    const double minus = loss();
    x[i] = saved;
    const double numeric = (plus - minus) / (2 * h);
    worst = std::max(worst, std::abs(numeric - analytic[i]) /
                                std::max({1.0, std::abs(numeric), std::abs(analytic[i])}));
  }
  return worst;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace saturn::test
