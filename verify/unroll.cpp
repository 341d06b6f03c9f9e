#include <fmt/format.h>

#include <map>

#include "base/error.h"
#include "verify/encode.h"

namespace saturn::verify {

bool UnrolledMachine::accepts(const Word& w) const {
  int q = 0;
  for (std::size_t t = 0; t < w.size(); ++t) q = next[t][q][w[t]];
  return accepting[q];
}

UnrolledMachine unroll(const Language& language, int length) {
  const Runner& runner = language.runner();
  const int k = language.alphabet().size();
  constexpr std::size_t kMaxStates = 200000;
  UnrolledMachine m;
  std::vector<Config> layer = {runner.start()};
  for (int t = 0; t < length; ++t) {
    std::map<Key, int> ids;
    std::vector<Config> next_layer;
    m.next.emplace_back(layer.size(), std::vector<int>(k));
    for (std::size_t q = 0; q < layer.size(); ++q)
      for (int a = 0; a < k; ++a) {
        Config c = layer[q];
        runner.step(c, static_cast<Symbol>(a));
        Key key;
        append_config(c, key);
        auto [it, fresh] = ids.try_emplace(key, static_cast<int>(next_layer.size()));
        if (fresh) next_layer.push_back(c);
        m.next[t][q][a] = it->second;
      }
    if (next_layer.size() > kMaxStates)
      throw InputError(
          fmt::format("{}: more than {} configurations after {} symbols; too large "
                      "to unroll for smt (use --method enumerate)",
                      language.name(), kMaxStates, t + 1));
    layer = std::move(next_layer);
  }
  for (const auto& c : layer) m.accepting.push_back(runner.accepting(c));
  return m;
}

}  // namespace saturn::verify
