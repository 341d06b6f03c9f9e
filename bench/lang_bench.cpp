// lang/ speed (issue "Foundation + lang/", §7), on one core:
//  1. count tables of every built-in at length 500 (goal < 2 s each);
//  2. sampling throughput for dyck-2 at lengths 1..500 once tables are built (goal >= 1e6
//  symbols/s);
//  3. 100k words of majority at lengths 1..500 (tables included).
// Each figure is the median of --runs runs (default 5).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include "lang/builtin.h"
#include "lang/sample.h"

using namespace saturn;
using Clock = std::chrono::steady_clock;

static double seconds(const std::function<void()>& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  int runs = 5;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);

  fmt::print("## count tables at length 500 (median of {} runs, one core)\n\n", runs);
  fmt::print("| language | class | seconds | table entries |\n|---|---|---|---|\n");
  double worst = 0;
  std::string worst_name;
  for (const auto& name : builtin_names()) {
    auto lang = builtin(name);
    std::vector<double> t;
    std::size_t entries = 0;
    for (int r = 0; r < runs; ++r)
      t.push_back(seconds([&] {
        Sampler s(lang);
        s.count_accepted(500);
        entries = s.table().entries();
      }));
    double m = median(t);
    if (m > worst) worst = m, worst_name = name;
    fmt::print("| {} | {} | {:.4f} | {} |\n", name, lang->language_class(), m, entries);
  }
  fmt::print("\nslowest: {} at {:.3f} s (goal < 2 s)\n\n", worst_name, worst);

  {
    Sampler s(builtin("dyck-2"));
    for (int n = 1; n <= 500; ++n) s.count_accepted(n);  // build the tables first
    Rng rng(1);
    std::vector<double> rates;
    for (int r = 0; r < runs; ++r) {
      long long symbols = 0;
      double sec = seconds([&] {
        for (int rep = 0; rep < 4; ++rep)
          for (int n = 1; n <= 500; ++n)
            if (auto w = s.accepted(n, rng)) symbols += static_cast<long long>(w->size());
      });
      rates.push_back(symbols / sec);
    }
    fmt::print(
        "## sampling dyck-2, lengths 1..500, tables built\n\n{:.3g} symbols/s (median of {} runs; "
        "goal >= 1e6)\n\n",
        median(rates), runs);
  }
  {
    std::vector<double> t;
    for (int r = 0; r < runs; ++r)
      t.push_back(seconds([&] {
        Sampler s(builtin("majority"));
        Rng rng(2);
        for (int i = 0; i < 100000; ++i) s.accepted(1 + i % 500, rng);
      }));
    fmt::print(
        "## 100k majority words, lengths 1..500 (tables included)\n\n{:.3f} s (median of {} "
        "runs)\n",
        median(t), runs);
  }
}
