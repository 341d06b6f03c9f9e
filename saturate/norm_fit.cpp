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
double basis(const std::string& f, double t) {
  if (f == "t") return t;
  if (f == "sqrt(t)") return std::sqrt(t);
  if (f == "t^(1/4)") return std::pow(t, 0.25);
  return std::log(t);
}
}  // namespace

double NormFit::eval(double t) const {
  return a + b * basis(f, t);
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
  for (const char* f : {"t", "sqrt(t)", "t^(1/4)", "log(t)"}) {
    // Simple linear regression of rho on x = f(t).
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] <= skip || t[i] <= 0) continue;
      const double x = basis(f, t[i]), y = rho[i];
      n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    if (n < 3)
      throw InputError(
          fmt::format("norm fit: {} points after --skip {}; need at least 3", n, skip));
    NormFit fit;
    fit.f = f;
    const double var = sxx - sx * sx / n;
    fit.b = var > 0 ? (sxy - sx * sy / n) / var : 0;
    fit.a = (sy - fit.b * sx) / n;
    double ss_res = 0, ss_tot = 0;
    const double mean = sy / n;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] <= skip || t[i] <= 0) continue;
      ss_res += std::pow(rho[i] - fit.eval(t[i]), 2);
      ss_tot += std::pow(rho[i] - mean, 2);
    }
    fit.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
    fits.push_back(fit);
  }
  std::stable_sort(fits.begin(), fits.end(),
                   [](const NormFit& x, const NormFit& y) { return x.r2 > y.r2; });
  return fits;
}

}  // namespace saturn::saturate
