// Norm growth (Merrill et al. 2021): the parameter norm rho(t) logged by training, and least-
// squares fits rho(t) = a + b f(t) for f in {t, sqrt t, t^(1/4), log t}, and rho(t) = a + b t^p
// with the exponent p estimated (its 95% interval from the profile of the residual sum of
// squares: the p with RSS(p) <= RSS(p^) (1 + 3.84 / (n - 3))). Compared by adjusted R^2 (the
// power fit has one parameter more); a form is called best only when its R^2 reaches
// kGoodFit.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace saturn::saturate {

// metrics.jsonl's per-step lines: step, param_norm, weight_norm and every "norm.GROUP" column.
struct NormSeries {
  std::vector<double> step, norm;
  // param_norm without the LayerNorm gains and biases: the run's weight_norm, or for a run
  // written before that column, sqrt(param_norm^2 - norm.norm^2) (NAN when neither is logged).
  std::vector<double> weight;
  std::vector<std::string> group_names;         // e.g. "embed", "layer.0"
  std::vector<std::vector<double>> group_norm;  // [group][row]
};
// Throws InputError naming the file and line when a line is not JSON or has no param_norm.
NormSeries read_norm_series(const std::filesystem::path& run_dir);

inline constexpr double kGoodFit = 0.99;

struct NormFit {
  std::string f;  // "t", "sqrt(t)", "t^(1/4)", "log(t)", "t^p"
  double a = 0, b = 0, r2 = 0, adjusted_r2 = 0;
  double p = 0, p_lo = 0, p_hi = 0;  // t^p only: the exponent and its 95% interval
  double eval(double t) const;
};
// The five fits over the points with t > skip (and t > 0), best adjusted R^2 first.
// Throws InputError when fewer than 3 points remain.
std::vector<NormFit> norm_growth_fit(const std::vector<double>& t, const std::vector<double>& rho,
                                     double skip = 0);

}  // namespace saturn::saturate
