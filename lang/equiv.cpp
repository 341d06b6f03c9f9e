#include "lang/equiv.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "lang/count.h"

namespace saturn {

EquivalenceResult check_equivalence(const Language& a, const Language& b, int max_length) {
  const int k = a.alphabet().size();
  std::vector<Symbol> to_b(k);  // a's symbol -> b's symbol of the same name
  {
    auto names_a = a.alphabet().names(), names_b = b.alphabet().names();
    std::sort(names_a.begin(), names_a.end());
    std::sort(names_b.begin(), names_b.end());
    if (names_a != names_b)
      throw InputError(fmt::format("alphabets differ: {} has {{{}}}, {} has {{{}}}", a.name(),
                                   fmt::join(a.alphabet().names(), " "), b.name(),
                                   fmt::join(b.alphabet().names(), " ")));
    for (int s = 0; s < k; ++s) to_b[s] = *b.alphabet().find(a.alphabet().name(s));
  }
  EquivalenceResult result;
  if (a.dfa() && b.dfa()) {
    // Relabel b's DFA into a's symbol order, then compare exactly.
    const Dfa& db = *b.dfa();
    Dfa relabelled(k);
    for (int q = 0; q < db.num_states(); ++q) relabelled.add_state(db.accepting(q));
    for (int q = 0; q < db.num_states(); ++q)
      for (int s = 0; s < k; ++s) relabelled.set_transition(q, s, db.next(q, to_b[s]));
    relabelled.set_start(db.start());
    result.exact = true;
    result.witness = distinguishing_word(*a.dfa(), relabelled);
    return result;
  }
  if (max_length < 0)
    throw InputError(fmt::format("--max-length must be >= 0 (got {})", max_length));
  if (max_length > kMaxBoundedLength)
    throw LimitError(fmt::format("--max-length: at most {} when a language is not regular (got {})",
                                 kMaxBoundedLength, max_length));
  // Level by level over pairs of configurations, deduplicated; symbols in order, so the first
  // disagreement found is a shortest witness, least in symbol order among those.
  struct Node {
    Config ca, cb;
    int parent;
    Symbol symbol;
  };
  std::vector<Node> nodes{{a.runner().start(), b.runner().start(), -1, 0}};
  std::unordered_set<Key, KeyHash> seen;
  auto pair_key = [](const Node& n) {
    Key key;
    append_config(n.ca, key);
    key.push_back(-7);  // separator between the two configurations
    append_config(n.cb, key);
    return key;
  };
  seen.insert(pair_key(nodes[0]));
  std::size_t level_begin = 0;
  double bytes = 0;  // held by the nodes and the seen set
  auto config_bytes = [](const Config& c) {
    double b = 64.0 + 8.0 * static_cast<double>(c.regs.size());
    for (const auto& st : c.stacks) b += 32.0 + 10.0 * static_cast<double>(st.size());
    return b;
  };
  Progress progress(fmt::format("{} vs {}: bounded search", a.name(), b.name()));
  for (int len = 0; len <= max_length; ++len) {
    const std::size_t level_end = nodes.size();
    if (level_begin == level_end) {
      // No new pair of configurations at this length: none at any longer length either, so
      // the languages agree on every word.
      result.exact = true;
      result.checked_length = len;
      return result;
    }
    progress.update(len, max_length);
    for (std::size_t i = level_begin; i < level_end; ++i)
      if (a.runner().accepting(nodes[i].ca) != b.runner().accepting(nodes[i].cb)) {
        Word w;
        for (int j = static_cast<int>(i); nodes[j].parent >= 0; j = nodes[j].parent)
          w.push_back(nodes[j].symbol);
        std::reverse(w.begin(), w.end());
        result.witness = std::move(w);
        result.checked_length = len;
        return result;
      }
    if (len == max_length) break;
    for (std::size_t i = level_begin; i < level_end; ++i)
      for (int s = 0; s < k; ++s) {
        Node n{nodes[i].ca, nodes[i].cb, static_cast<int>(i), static_cast<Symbol>(s)};
        a.runner().step(n.ca, static_cast<Symbol>(s));
        b.runner().step(n.cb, to_b[s]);
        if (!seen.insert(pair_key(n)).second) continue;
        bytes += 2 * (config_bytes(n.ca) + config_bytes(n.cb)) + 64;
        if (bytes > static_cast<double>(memory_budget()))
          throw LimitError(fmt::format(
              "--max-length: {} and {} agree on every word up to length {}; the search at "
              "length {} needs more than the memory budget of {} (raise --memory-limit)",
              a.name(), b.name(), len, len + 1,
              format_bytes(static_cast<double>(memory_budget()))));
        nodes.push_back(std::move(n));
      }
    level_begin = level_end;
  }
  result.checked_length = max_length;
  return result;
}

}  // namespace saturn
