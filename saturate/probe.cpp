#include "saturate/probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "base/error.h"
#include "nets/batch.h"

namespace saturn::saturate {

std::vector<Example> probe_set(Sampler& sampler, int lo, int hi, int per_length,
                               std::uint64_t seed) {
  const Language& lang = sampler.language();
  const int k = lang.alphabet().size();
  Rng rng(seed);
  std::vector<Example> probes;
  for (int n = lo; n <= hi; ++n) {
    if (sampler.table().power(n) <= 2 * per_length) {
      const long total = static_cast<long>(sampler.table().power(n));
      Word w(n, 0);
      for (long i = 0; i < total; ++i) {
        long x = i;
        for (int t = n - 1; t >= 0; --t) w[t] = static_cast<Symbol>(x % k), x /= k;
        probes.push_back({w, lang.accepts(w) ? 1 : 0, std::nullopt});
      }
      continue;
    }
    for (int label : {1, 0}) {
      const BigInt& count = label ? sampler.count_accepted(n) : BigInt(sampler.count_rejected(n));
      if (count == 0) continue;
      for (int i = 0; i < per_length; ++i)
        probes.push_back(
            {label ? *sampler.accepted(n, rng) : *sampler.rejected(n, rng), label, std::nullopt});
    }
  }
  return probes;
}

nets::Transformer<double> double_model(const nets::Checkpoint& c) {
  nets::Transformer<double> model(c.config.model, c.num_symbols);
  if (c.params.size() != model.params.size())
    throw InputError("checkpoint parameters do not match its config");
  for (std::size_t i = 0; i < c.params.size(); ++i) model.params[i] = c.params[i];
  return model;
}

void require_softmax(const nets::ModelConfig& config) {
  if (!config.attention_softmax && !config.attention_sparsemax)
    throw InputError(fmt::format(
        "attention = \"{}\" is pointwise: it has no argmax limit as the norm grows (Wortsman et "
        "al. 2023), so there is no saturated network; saturate/ needs softmax attention",
        nets::kAttentionNames[1 + static_cast<int>(config.attention_pointwise)]));
}

nets::Batch<double> inference_batch(const std::vector<Example>& examples, int num_symbols,
                                    nets::Objective objective) {
  std::vector<Example> copies = examples;
  for (auto& e : copies)
    if (objective == nets::Objective::next_symbol && !e.next) {
      NextTargets t;  // any targets will do: only the outputs are read
      t.next.assign(e.word.size() + 1, {});
      t.prefix_accepted.assign(e.word.size() + 1, false);
      e.next = t;
    }
  std::vector<const Example*> ptrs;
  for (const auto& e : copies) ptrs.push_back(&e);
  return nets::make_batch<double>(ptrs, num_symbols, objective);
}

Outputs run_model(nets::Transformer<double>& model, const std::vector<Example>& probes,
                  int batch_size) {
  const int k = model.num_symbols(), C = model.config().d_model;
  const bool recognize = model.config().objective == nets::Objective::recognize;
  model.set_introspection(true);  // every position's final state
  // Word i's rows ([BOS] w [EOS]) start at first_row[i]: the outputs are placed, not appended.
  std::vector<std::size_t> first_row(probes.size() + 1, 0);
  for (std::size_t i = 0; i < probes.size(); ++i)
    first_row[i + 1] = first_row[i] + probes[i].word.size() + 2;
  Outputs out;
  out.decision.resize(probes.size());
  out.states.resize(first_row.back() * static_cast<std::size_t>(C));
  // The same batches, the last first: probe sets ascend in length, and the model's buffers,
  // sized by the longest batch at the start, are then reused instead of regrown (and faulted in)
  // for nearly every batch. Each batch's outputs are the same in any order.
  const std::size_t batches = (probes.size() + batch_size - 1) / batch_size;
  for (std::size_t q = batches; q-- > 0;) {
    const std::size_t start = q * batch_size, end = std::min(probes.size(), start + batch_size);
    const std::vector<Example> chunk(probes.begin() + start, probes.begin() + end);
    auto batch = inference_batch(chunk, k, model.config().objective);
    model.forward(batch);
    const auto& z = model.logits();
    const auto& xf = model.final_states();
    for (int b = 0; b < batch.B; ++b) {
      const std::size_t i = start + b;
      const int n = static_cast<int>(chunk[b].word.size());
      out.decision[i] =
          recognize ? z[b] : z[(static_cast<std::size_t>(b) * batch.Tn + n) * (k + 1) + k];
      if (static_cast<std::size_t>(batch.lengths[b]) != first_row[i + 1] - first_row[i])
        throw std::logic_error("run_model: a batch row count differs from [BOS] w [EOS]");
      const double* rows = xf.data() + static_cast<std::size_t>(b) * batch.Tn * C;
      std::copy(rows, rows + static_cast<std::size_t>(batch.lengths[b]) * C,
                out.states.begin() + static_cast<std::ptrdiff_t>(first_row[i] * C));
    }
  }
  return out;
}

}  // namespace saturn::saturate
