#include "theory/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace saturn::theory {

double t975(int df) {
  // Exact to three decimals for df <= 30 (standard tables), then the normal approximation
  // with the first Cornish-Fisher correction.
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) throw std::invalid_argument("t975: df < 1");
  if (df <= 30) return table[df - 1];
  const double z = 1.959964;
  return z + (z * z * z + z) / (4.0 * df);
}

Summary summarize(const std::vector<double>& x) {
  Summary s;
  s.n = static_cast<int>(x.size());
  if (s.n == 0) return s;
  for (double v : x) s.mean += v;
  s.mean /= s.n;
  const double inf = std::numeric_limits<double>::infinity();
  if (s.n < 2) {
    s.ci = {-inf, inf};
    return s;
  }
  double ss = 0;
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / (s.n - 1));
  const double half = t975(s.n - 1) * s.sd / std::sqrt(static_cast<double>(s.n));
  s.ci = {s.mean - half, s.mean + half};
  return s;
}

double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  if (sxx == 0) throw std::invalid_argument("slope: x is constant");
  return sxy / sxx;
}

double kendall_tau(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  double concordant = 0, discordant = 0, ties_x = 0, ties_y = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) continue;
      if (dx == 0) {
        ++ties_x;
      } else if (dy == 0) {
        ++ties_y;
      } else if ((dx > 0) == (dy > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  const double d =
      std::sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y));
  return d == 0 ? 0.0 : (concordant - discordant) / d;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::holds:
      return "holds";
    case Verdict::fails:
      return "fails";
    case Verdict::inconclusive:
      return "inconclusive";
  }
  return "?";
}

Verdict decide(const Interval& m, const Interval& region) {
  if (m.lo >= region.lo && m.hi <= region.hi) return Verdict::holds;
  if (m.hi < region.lo || m.lo > region.hi) return Verdict::fails;
  return Verdict::inconclusive;
}

Verdict all_of(const std::vector<Verdict>& parts) {
  if (std::find(parts.begin(), parts.end(), Verdict::fails) != parts.end()) return Verdict::fails;
  if (std::all_of(parts.begin(), parts.end(), [](Verdict v) { return v == Verdict::holds; }))
    return Verdict::holds;
  return Verdict::inconclusive;
}

std::string format_summary(const Summary& s, int digits) {
  if (s.n < 2) return fmt::format("{:.{}f} (one value)", s.mean, digits);
  return fmt::format("{:.{}f} [{:.{}f}, {:.{}f}]", s.mean, digits, s.ci.lo, digits, s.ci.hi,
                     digits);
}

}  // namespace saturn::theory
