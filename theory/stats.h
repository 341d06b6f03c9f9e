// The statistics the theory suites decide with: means with 95% t-intervals over seeds, least-
// squares slopes, Kendall's tau, and the verdict rule every claim uses (an interval inside the
// expected region holds, one outside it fails, one across its edge is inconclusive).
#pragma once

#include <string>
#include <vector>

namespace saturn::theory {

struct Interval {
  double lo = 0, hi = 0;
  bool contains(double x) const { return lo <= x && x <= hi; }
  double width() const { return hi - lo; }
};

// Mean, sample standard deviation and the 95% t-interval of the mean of n values. With n < 2
// the interval is unbounded (one seed cannot tell anything).
struct Summary {
  int n = 0;
  double mean = 0, sd = 0;
  Interval ci;
};
Summary summarize(const std::vector<double>& x);

// The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1).
double t975(int df);

// Least-squares slope of y on x (at least two distinct x).
double slope(const std::vector<double>& x, const std::vector<double>& y);

// Kendall's tau-b between x and y (ties in either count as neither concordant nor discordant);
// 0 when either is constant.
double kendall_tau(const std::vector<double>& x, const std::vector<double>& y);

enum class Verdict { holds, fails, inconclusive };
const char* to_string(Verdict v);

// holds when `measured` lies inside `region`, fails when the two do not meet, inconclusive
// otherwise (the interval is too wide to tell).
Verdict decide(const Interval& measured, const Interval& region);
// All parts must hold; any failing part fails the whole; otherwise inconclusive.
Verdict all_of(const std::vector<Verdict>& parts);

// "0.512 [0.431, 0.593]" (the mean and its interval), with `digits` decimals.
std::string format_summary(const Summary& s, int digits = 3);

}  // namespace saturn::theory
