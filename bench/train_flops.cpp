// Hardware efficiency of a training step (issue "nets/", §6): GFLOP/s counting only the FLOPs
// the kernels perform, for d_model 256, d_ff 1024, 4 heads, 2 layers, batch 32, words of
// length 62 (64 tokens with BOS/EOS), objective next-symbol, causal. A fixed batch: data
// sampling is not timed. Median of --runs runs of --steps steps each.
//   linear (N,C)->(N,OC): 2 N C OC forward, 4 N C OC backward (input and weight gradients)
//   attention, causal: T(T+1)/2 visible pairs per head and sequence; 2 dh each for the scores
//   and 2 dh for the weighted sum forward, twice that backward.
// Norms, activations, embeddings, the loss and Adam are counted too (a few FLOPs per element)
// but are under 2% of the total here.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "lang/builtin.h"
#include "lang/sample.h"
#include "nets/batch.h"
#include "nets/model.h"
#include "nets/optim.h"

using namespace saturn;
using namespace saturn::nets;

int main(int argc, char** argv) {
  int runs = 5, steps = 10;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
  }
  ModelConfig c;
  for (auto [k, v] : {std::pair{"d_model", "256"},
                      {"n_heads", "4"},
                      {"n_layers", "2"},
                      {"d_ff", "1024"},
                      {"objective", "next-symbol"},
                      {"causal", "true"},
                      {"max_length", "64"}})
    c.set(k, v);
  auto lang = builtin("dyck-2");
  const int k = lang->alphabet().size(), B = 32, n = 62, T = n + 2;
  Sampler sampler(lang);
  Rng rng(1);
  std::vector<Example> examples;
  for (int i = 0; i < B; ++i) {
    Word w = *sampler.accepted(n, rng);
    examples.push_back({w, 1, sampler.next_targets(w, n)});
  }
  std::vector<const Example*> ptrs;
  for (auto& e : examples) ptrs.push_back(&e);
  auto batch = make_batch<float>(ptrs, k, c.objective);
  Transformer<float> model(c, k);
  model.init();
  OptimizerConfig oc;
  Optimizer opt(oc, model.params.size());

  const double N = double(B) * T, C = c.d_model, F = c.d_ff, H = c.n_heads, dh = C / H,
               L = c.n_layers;
  const double linear_fwd = 2 * N * C * (3 * C + C + 2 * F) * L + 2 * N * C * (k + 1);
  const double pairs = B * H * T * (T + 1) / 2.0;
  const double attention_fwd = pairs * 4 * dh * L;
  const double elementwise = N * (C * 30 * L + F * 4 * L) + 10.0 * model.params.size();
  const double flops = 3 * linear_fwd + 3 * attention_fwd + elementwise;

  for (int i = 0; i < 2; ++i) {  // warm up: buffers sized, caches warm
    model.forward(batch);
    model.zero_grad();
    model.backward(batch);
    opt.step(model.params, model.grads);
  }
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      model.forward(batch);
      model.zero_grad();
      model.backward(batch);
      opt.step(model.params, model.grads);
    }
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(flops * steps / sec / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  fmt::print(
      "{:.2f} GFLOP/step ({:.0f}% linear, {:.0f}% attention); median {:.1f} GFLOP/s over {} runs "
      "of {} steps\n",
      flops / 1e9, 100 * 3 * linear_fwd / flops, 100 * 3 * attention_fwd / flops,
      rates[rates.size() / 2], runs, steps);
}
