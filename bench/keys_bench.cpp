// Exact selectability (verify/selectable.h) on random point sets: `keys_bench N D [THREADS]
// [gauss|sphere|cube]`. Prints the time, the counts and how the decisions were made.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>

#include "verify/selectable.h"

int main(int argc, char** argv) {
  using namespace saturn::verify;
  const int n = argc > 1 ? std::stoi(argv[1]) : 10000, d = argc > 2 ? std::stoi(argv[2]) : 16;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 1;
  const std::string kind = argc > 4 ? argv[4] : "gauss";
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(-1, 1);
  PointSet points;
  points.d = d;
  for (int i = 0; i < n; ++i) {
    std::vector<double> x(d);
    double norm = 0;
    for (double& v : x) {
      v = kind == "cube" ? uniform(rng) : normal(rng);
      norm += v * v;
    }
    for (double v : x) points.coords.emplace_back(kind == "sphere" ? v / std::sqrt(norm) : v);
  }
  SelectabilityStats stats;
  const auto t0 = std::chrono::steady_clock::now();
  const auto status = selectability(points, threads, &stats);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t unsel = 0;
  for (auto x : status) unsel += x == Selectability::unselectable;
  fmt::print(
      "{} points {} d={} threads={}: {:.2f} s, un-selectable {}, decided by the first query {}, "
      "min-norm certificates {}, Z3 checks {}\n",
      n, kind, d, threads, s, unsel, stats.float_only, stats.min_norm, stats.z3_checks);
}
