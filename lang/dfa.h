// Deterministic finite automata held as Boost.Graph graphs, with the algorithms saturn needs:
// trimming, Hopcroft minimisation, exact equivalence with a shortest distinguishing word, DOT.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <optional>
#include <string>
#include <vector>

#include "lang/alphabet.h"

namespace saturn {

using StateId = int;
inline constexpr StateId kNoState = -1;

struct DfaStateProps {
  bool accepting = false;
};
struct DfaEdgeProps {
  Symbol symbol = 0;
};
using DfaGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                       DfaStateProps, DfaEdgeProps>;

// A DFA over symbols 0..k-1. Transitions may be missing (kNoState): the word is rejected.
// The graph is the automaton; delta_ is an index over its edges for O(1) stepping.
class Dfa {
 public:
  explicit Dfa(int num_symbols = 0) : k_(num_symbols) {}

  StateId add_state(bool accepting);
  // Sets (or replaces) the transition from `from` on `s`.
  void set_transition(StateId from, Symbol s, StateId to);
  void set_start(StateId q) { start_ = q; }

  StateId start() const { return start_; }
  StateId next(StateId q, Symbol s) const { return delta_[static_cast<std::size_t>(q) * k_ + s]; }
  bool accepting(StateId q) const { return graph_[static_cast<std::size_t>(q)].accepting; }
  int num_states() const { return static_cast<int>(boost::num_vertices(graph_)); }
  int num_symbols() const { return k_; }
  const DfaGraph& graph() const { return graph_; }

  bool accepts(const Word& w) const;

 private:
  DfaGraph graph_;
  std::vector<StateId> delta_;
  StateId start_ = 0;
  int k_;
};

// Adds a rejecting sink so that every state has every transition (unchanged if already total).
Dfa complete(const Dfa& dfa);

// States that can reach an accepting state (reverse BFS on the graph). O(|Q| |Σ|).
std::vector<bool> live_states(const Dfa& dfa);

// For each state, the length of the shortest word leading to acceptance (-1 if none). O(|Q| |Σ|).
std::vector<int> distance_to_accept(const Dfa& dfa);

// Minimal complete DFA accepting the same language (Hopcroft), states numbered in BFS order
// from the start so that equal languages give identical automata. O(|Q| |Σ| log |Q|).
Dfa minimize(const Dfa& dfa);

// A shortest word accepted by exactly one of a and b (lexicographically least among the
// shortest), or nullopt if they are equivalent. BFS over the product graph. O(|Q_a| |Q_b| |Σ|).
std::optional<Word> distinguishing_word(const Dfa& a, const Dfa& b);

// Graphviz DOT of the DFA; the dead state of a complete DFA (if any) is omitted with its edges.
std::string to_dot(const Dfa& dfa, const Alphabet& alphabet, const std::string& name);

}  // namespace saturn
