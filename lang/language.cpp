#include "lang/language.h"

#include <fmt/format.h>

#include <map>

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
    dfa_ = minimize(explore_dfa(runner_, alphabet_.size()));
    class_ = "regular";
    class_detail_ = fmt::format("minimal DFA: {} states", dfa_->num_states());
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

Dfa explore_dfa(const Runner& runner, int num_symbols, int max_states) {
  Dfa dfa(num_symbols);
  std::map<Key, StateId> ids;
  std::vector<Config> configs;
  auto intern = [&](const Config& c) {
    Key k;
    append_config(c, k);
    auto [it, fresh] = ids.emplace(std::move(k), static_cast<StateId>(configs.size()));
    if (fresh) {
      if (static_cast<int>(configs.size()) >= max_states)
        throw LimitError(
            fmt::format("finite-state machine has more than {} configurations", max_states));
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
