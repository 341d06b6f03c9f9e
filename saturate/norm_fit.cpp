#include "saturate/norm_fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_read.h"
#include "base/lines.h"

namespace saturn::saturate {

namespace {
double basis(const std::string& f, double t, double p) {
  if (f == "t") return t;
  if (f == "sqrt(t)") return std::sqrt(t);
  if (f == "t^(1/4)") return std::pow(t, 0.25);
  if (f == "t^p") return std::pow(t, p);
  return std::log(t);
}

// Least squares of rho on x = f(t) over the points with t > skip: a, b, R^2 and the residual
// sum of squares.
struct Line {
  double a = 0, b = 0, r2 = 0, rss = 0, n = 0;
};
Line regress(const std::vector<double>& t, const std::vector<double>& rho, double skip,
             const std::string& f, double p) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] <= skip || t[i] <= 0) continue;
    const double x = basis(f, t[i], p), y = rho[i];
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  Line l;
  l.n = n;
  if (n < 3) return l;
  const double var = sxx - sx * sx / n;
  l.b = var > 0 ? (sxy - sx * sy / n) / var : 0;
  l.a = (sy - l.b * sx) / n;
  double ss_tot = 0;
  const double mean = sy / n;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] <= skip || t[i] <= 0) continue;
    l.rss += std::pow(rho[i] - (l.a + l.b * basis(f, t[i], p)), 2);
    ss_tot += std::pow(rho[i] - mean, 2);
  }
  l.r2 = ss_tot > 0 ? 1 - l.rss / ss_tot : 1;
  return l;
}
}  // namespace

double NormFit::eval(double t) const {
  return a + b * basis(f, t, p);
}

NormSeries read_norm_series(const std::filesystem::path& run_dir) {
  const auto path = run_dir / "metrics.jsonl";
  std::ifstream in(path);
  if (!in)
    throw InputError(
        fmt::format("{}: cannot open (is {} a run directory?)", path.string(), run_dir.string()));
  NormSeries s;
  LineReader lines(in, path.string());
  std::string line;
  while (lines.next(line)) {
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", path.string(), lines.line_number());
    const auto j = parse_json(line, where);
    const JsonNode row(j, where);
    if (!j.is_object()) row.fail("expected a JSON object");
    if (!j.contains("step")) continue;  // evaluation lines
    const double step = row.at("step").number(), norm = row.at("param_norm").number();
    if (s.step.empty())
      for (const auto& [key, value] : j.items())
        if (key.rfind("norm.", 0) == 0) s.group_names.push_back(key.substr(5));
    s.group_norm.resize(s.group_names.size());
    s.step.push_back(step);
    s.norm.push_back(norm);
    if (row.has("weight_norm"))
      s.weight.push_back(row.at("weight_norm").number());
    else if (row.has("norm.norm"))
      s.weight.push_back(
          std::sqrt(std::max(0.0, norm * norm - std::pow(row.at("norm.norm").number(), 2))));
    else
      s.weight.push_back(NAN);
    for (std::size_t g = 0; g < s.group_names.size(); ++g) {
      const auto key = "norm." + s.group_names[g];
      s.group_norm[g].push_back(row.has(key) ? row.at(key).number() : NAN);
    }
  }
  if (s.step.empty()) throw InputError(fmt::format("{}: no training steps logged", path.string()));
  return s;
}

std::vector<NormFit> norm_growth_fit(const std::vector<double>& t, const std::vector<double>& rho,
                                     double skip) {
  std::vector<NormFit> fits;
  auto adjusted = [](double r2, double n, int k) {
    return n - k - 1 > 0 ? 1 - (1 - r2) * (n - 1) / (n - k - 1) : r2;
  };
  for (const char* f : {"t", "sqrt(t)", "t^(1/4)", "log(t)"}) {
    const Line l = regress(t, rho, skip, f, 0);
    if (l.n < 3)
      throw InputError(
          fmt::format("norm fit: {} points after --skip {}; need at least 3", l.n, skip));
    NormFit fit;
    fit.f = f, fit.a = l.a, fit.b = l.b, fit.r2 = l.r2, fit.adjusted_r2 = adjusted(l.r2, l.n, 1);
    fits.push_back(fit);
  }
  // t^p: the residual sum of squares profiled over p on a grid of 0.005 in [0.005, 2].
  std::vector<std::pair<double, Line>> profile;
  for (int i = 1; i <= 400; ++i) {
    const double p = 0.005 * i;
    profile.emplace_back(p, regress(t, rho, skip, "t^p", p));
  }
  const auto best =
      std::min_element(profile.begin(), profile.end(),
                       [](const auto& x, const auto& y) { return x.second.rss < y.second.rss; });
  NormFit power;
  power.f = "t^p", power.p = best->first, power.a = best->second.a, power.b = best->second.b;
  power.r2 = best->second.r2, power.adjusted_r2 = adjusted(power.r2, best->second.n, 2);
  const double n = best->second.n;
  const double limit = best->second.rss * (1 + 3.84 / std::max(1.0, n - 3));
  power.p_lo = power.p_hi = power.p;
  for (const auto& [p, l] : profile)
    if (l.rss <= limit) power.p_lo = std::min(power.p_lo, p), power.p_hi = std::max(power.p_hi, p);
  fits.push_back(power);
  std::stable_sort(fits.begin(), fits.end(), [](const NormFit& x, const NormFit& y) {
    return x.adjusted_r2 > y.adjusted_r2;
  });
  return fits;
}

}  // namespace saturn::saturate
