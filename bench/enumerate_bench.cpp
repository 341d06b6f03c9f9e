// Enumeration speed (issue "verify/", §2): (word x position) evaluations per second of
// `saturn verify --method enumerate` for a random 1-layer d_model 16 circuit (4 heads, d_ff 16,
// pre-LN, learned positions, BOS readout, weights / 2^12), over every word of one length, on
// all cores; median of 5 runs. The circuit's output bias is raised until it accepts every
// word and the reference is the language of all words, so every run enumerates the whole
// length (the bias changes no work: the evaluator never stops early).
// With `uniform`, queries and keys are zeroed: every head averages every position, so no two
// words select the same keys (the worst case for sharing readouts between words).
// Usage: enumerate_bench [length] [causal 0|1] [layers] [uniform]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "lang/spec.h"
#include "saturate/circuit.h"
#include "verify/equivalence.h"

using namespace saturn;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 18;
  nets::ModelConfig cfg;
  cfg.d_model = 16, cfg.n_heads = 4, cfg.d_ff = 16, cfg.max_length = std::max(n, 20);
  cfg.n_layers = argc > 3 ? std::atoi(argv[3]) : 1;
  cfg.causal = argc > 2 && std::atoi(argv[2]) != 0;
  cfg.init_std = 0.3;
  nets::Transformer<double> model(cfg, 2);
  model.init();
  auto circuit = saturate::make_circuit(cfg, model.params, Alphabet({"a", "b"}), 12, {});
  circuit.tensors.at("head.b").numerators[0] = 1000LL << 12;  // accept every word
  const bool uniform = argc > 4 && std::string(argv[4]) == "uniform";
  if (uniform)
    for (int l = 0; l < cfg.n_layers; ++l) {
      auto& wqkv = circuit.tensors.at(fmt::format("layers.{}.attn.wqkv", l)).numerators;
      auto& bqkv = circuit.tensors.at(fmt::format("layers.{}.attn.bqkv", l)).numerators;
      std::fill(wqkv.begin(), wqkv.begin() + 2 * cfg.d_model * cfg.d_model, 0);
      std::fill(bqkv.begin(), bqkv.begin() + 2 * cfg.d_model, 0);
    }
  verify::Reference all;
  all.name = "all";
  all.language = load_spec(R"(name = "all"
alphabet = ["a", "b"]
[accept]
dfa = { start = 0, accept = [0], delta = [[0, 0]] }
)",
                           "<all words>");
  verify::Options options;
  options.min_length = options.max_length = n;
  options.method = verify::Method::enumerate;
  std::vector<double> rates;
  verify::Verdict v;
  for (int run = 0; run < 5; ++run) {
    v = verify::check_equivalence(circuit, all, options);
    rates.push_back(std::ldexp(1.0, n) * n / v.seconds);
  }
  std::sort(rates.begin(), rates.end());
  fmt::print(
      "enumerate, {} layer(s), d_model 16, {}{}, length {} ({} words), {} threads: {:.3g} "
      "(word x position)/s = {:.0f} words/s (median of 5; verdict: {})\n",
      cfg.n_layers, cfg.causal ? "causal" : "not causal", uniform ? ", uniform attention" : "", n,
      1L << n, omp_get_max_threads(), rates[2], rates[2] / n, verify::describe(v, circuit, all));
}
