// Exact circuit evaluation speed (issue "saturate/", §6): words per second for a random
// 2-layer d_model 64 circuit (pre-LN, learned positions, weights / 2^12) at length 20, over
// both cores; median of 5 runs. Usage: exact_bench [words] [d_model] [layers]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "saturate/circuit.h"
#include "saturate/exact_eval.h"

using namespace saturn;

int main(int argc, char** argv) {
  const int words = argc > 1 ? std::atoi(argv[1]) : 200;
  nets::ModelConfig cfg;
  cfg.d_model = argc > 2 ? std::atoi(argv[2]) : 64;
  cfg.n_layers = argc > 3 ? std::atoi(argv[3]) : 2;
  cfg.n_heads = 4, cfg.d_ff = cfg.d_model, cfg.max_length = 20, cfg.init_std = 0.3;
  nets::Transformer<double> model(cfg, 2);
  model.init();
  const auto circuit = saturate::make_circuit(cfg, model.params, Alphabet({"a", "b"}), 12, {});
  const saturate::ExactEvaluator exact(circuit);
  std::mt19937 rng(1);
  std::vector<Word> batch(words, Word(20));
  for (auto& w : batch)
    for (auto& s : w) s = static_cast<Symbol>(rng() & 1);
  std::vector<double> rates;
  long undecided = 0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    long u = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : u)
    for (int i = 0; i < words; ++i)
      u += exact.run(batch[i]).verdict == saturate::Verdict::undecided;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(words / s);
    undecided = u;
  }
  std::sort(rates.begin(), rates.end());
  fmt::print(
      "exact evaluation, {} layers, d_model {}, length 20, {} threads: {:.1f} words/s "
      "(median of 5; {} of {} undecided)\n",
      cfg.n_layers, cfg.d_model, omp_get_max_threads(), rates[2], undecided, words);
}
