// Un-selectable keys of a model (keys.h).
#include "verify/keys.h"

#include <omp.h>

#include <atomic>
#include <exception>

#include "base/interrupt.h"
#include "saturate/probe.h"
#include "verify/selectable.h"

namespace saturn::verify {

std::vector<HeadKeys> key_selectability(const nets::Checkpoint& checkpoint,
                                        const std::vector<Example>& probes, int threads) {
  const nets::ModelConfig& mc = checkpoint.config.model;
  const int L = mc.n_layers, H = mc.n_heads, C = mc.d_model, dh = C / H;
  std::vector<HeadKeys> total(static_cast<std::size_t>(L) * H);
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) total[l * H + h].layer = l, total[l * H + h].head = h;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(std::max(1, threads))
  {
    nets::Transformer<double> model = saturate::double_model(checkpoint);
    model.set_introspection(true);
    std::vector<HeadKeys> mine = total;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t w = 0; w < probes.size(); ++w) {
      if (failed.load(std::memory_order_relaxed) || interrupted()) continue;
      try {
        const std::vector<Example> one{probes[w]};
        model.forward(saturate::inference_batch(one, model.num_symbols(), mc.objective));
        const std::size_t n = probes[w].word.size() + 2;
        for (int l = 0; l < L; ++l) {
          const auto& qkv = *model.layer_states(l).qkv;
          for (int h = 0; h < H; ++h) {
            PointSet keys;
            keys.d = dh;
            for (std::size_t t = 0; t < n; ++t)
              for (int k = 0; k < dh; ++k)
                keys.coords.emplace_back(qkv[t * 3 * C + C + h * dh + k]);
            HeadKeys& hk = mine[l * H + h];
            for (Selectability s : selectability(keys, 1)) {
              ++hk.keys;
              if (s == Selectability::selectable) ++hk.selectable;
              if (s == Selectability::tied) ++hk.tied;
              if (s == Selectability::unselectable) ++hk.unselectable;
            }
          }
        }
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
#pragma omp critical
    for (std::size_t i = 0; i < total.size(); ++i) {
      total[i].keys += mine[i].keys;
      total[i].selectable += mine[i].selectable;
      total[i].tied += mine[i].tied;
      total[i].unselectable += mine[i].unselectable;
    }
  }
  if (error) std::rethrow_exception(error);
  check_interrupt();
  return total;
}

}  // namespace saturn::verify
