#include "lang/language.h"

#include <fmt/format.h>

#include <map>

#include "base/budget.h"
#include "base/error.h"

namespace saturn {

Language::Language(std::string name, std::string description, Alphabet alphabet,
                   std::shared_ptr<Machine> machine, std::string spec_text,
                   std::string declared_class)
    : name_(std::move(name)),
      description_(std::move(description)),
      alphabet_(std::move(alphabet)),
      runner_(std::move(machine)),
      spec_text_(std::move(spec_text)) {
  const auto res = runner_.machine().resources();
  if (!declared_class.empty()) {
    class_ = declared_class;
    class_detail_ = runner_.machine().summary();
  } else if (res.finite) {
    class_ = "regular";
    // Finite, but possibly too large to tabulate (brackets with max_depth = 10^5): then the
    // language works without its DFA (membership, counts and samples go through the machine)
    // and says so.
    try {
      dfa_ = minimize(explore_dfa(runner_, alphabet_.size()));
      class_detail_ = fmt::format("minimal DFA: {} states", dfa_->num_states());
    } catch (const LimitError& e) {
      class_detail_ = fmt::format("finite-state; no DFA built: {}", e.what());
    }
  } else if (res.stacks == 0) {
    class_ = "counter";
    class_detail_ = fmt::format("{} counter{}", res.counters, res.counters == 1 ? "" : "s");
  } else if (res.stacks == 1 && res.counters == 0) {
    class_ = "deterministic-cf";
    class_detail_ = "1 stack";
  } else {
    // Several stacks, or a stack and counters: beyond context-free in general.
    class_ = "cs";
    class_detail_ = fmt::format("{} stacks, {} counters", res.stacks, res.counters);
  }
}

Dfa explore_dfa(const Runner& runner, int num_symbols, int max_states, std::size_t max_bytes) {
  Dfa dfa(num_symbols);
  std::map<Key, StateId> ids;
  std::vector<Config> configs;
  std::size_t bytes = 0;  // held by the keys and configurations
  auto intern = [&](const Config& c) {
    Key k;
    append_config(c, k);
    const std::size_t size = k.size() * 2 * sizeof(std::int64_t) + 128;
    auto [it, fresh] = ids.emplace(std::move(k), static_cast<StateId>(configs.size()));
    if (fresh) {
      if (static_cast<int>(configs.size()) >= max_states)
        throw LimitError(fmt::format("more than {} reachable configurations", max_states));
      if ((bytes += size) > max_bytes)
        throw LimitError(fmt::format("its reachable configurations take more than {}",
                                     format_bytes(static_cast<double>(max_bytes))));
      configs.push_back(c);
      dfa.add_state(runner.accepting(c));
    }
    return it->second;
  };
  dfa.set_start(intern(runner.start()));
  for (std::size_t i = 0; i < configs.size(); ++i)
    for (int s = 0; s < num_symbols; ++s) {
      Config next = configs[i];
      runner.step(next, static_cast<Symbol>(s));
      StateId t = intern(next);
      dfa.set_transition(static_cast<StateId>(i), static_cast<Symbol>(s), t);
    }
  return dfa;
}

}  // namespace saturn
