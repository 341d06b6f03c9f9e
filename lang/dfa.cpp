#include "lang/dfa.h"

#include <fmt/format.h>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>

#include <algorithm>
#include <deque>
#include <map>

namespace saturn {

StateId Dfa::add_state(bool accepting) {
  auto v = boost::add_vertex(DfaStateProps{accepting}, graph_);
  delta_.resize(delta_.size() + k_, kNoState);
  return static_cast<StateId>(v);
}

void Dfa::set_transition(StateId from, Symbol s, StateId to) {
  StateId& slot = delta_[static_cast<std::size_t>(from) * k_ + s];
  if (slot != kNoState) {
    auto [e, end] = boost::out_edges(from, graph_);
    for (; e != end; ++e)
      if (graph_[*e].symbol == s) {
        boost::remove_edge(*e, graph_);
        break;
      }
  }
  slot = to;
  if (to != kNoState) boost::add_edge(from, to, DfaEdgeProps{s}, graph_);
}

bool Dfa::accepts(const Word& w) const {
  StateId q = start_;
  for (Symbol s : w) {
    q = next(q, s);
    if (q == kNoState) return false;
  }
  return accepting(q);
}

Dfa complete(const Dfa& dfa) {
  const int n = dfa.num_states(), k = dfa.num_symbols();
  bool total = true;
  for (int q = 0; q < n && total; ++q)
    for (int s = 0; s < k; ++s)
      if (dfa.next(q, s) == kNoState) total = false;
  if (total) return dfa;
  Dfa out(k);
  for (int q = 0; q < n; ++q) out.add_state(dfa.accepting(q));
  StateId sink = out.add_state(false);
  for (int q = 0; q <= n; ++q)
    for (int s = 0; s < k; ++s) {
      StateId t = q < n ? dfa.next(q, s) : sink;
      out.set_transition(q, s, t == kNoState ? sink : t);
    }
  out.set_start(dfa.start());
  return out;
}

namespace {

// BFS distances from a set of sources on a graph (Boost.Graph), -1 where unreachable.
template <class Graph>
std::vector<int> bfs_distances(const Graph& g, const std::vector<std::size_t>& sources) {
  const std::size_t n = boost::num_vertices(g);
  std::vector<int> dist(n, -1);
  if (sources.empty()) return dist;
  std::vector<boost::default_color_type> color(n, boost::white_color);
  auto color_map =
      boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
  boost::queue<typename boost::graph_traits<Graph>::vertex_descriptor> queue;
  for (auto v : sources) dist[v] = 0;
  auto visitor = boost::make_bfs_visitor(boost::record_distances(
      boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g)),
      boost::on_tree_edge()));
  boost::breadth_first_search(g, sources.begin(), sources.end(), queue, visitor, color_map);
  return dist;
}

}  // namespace

std::vector<int> distance_to_accept(const Dfa& dfa) {
  std::vector<std::size_t> accepting;
  for (int q = 0; q < dfa.num_states(); ++q)
    if (dfa.accepting(q)) accepting.push_back(q);
  return bfs_distances(boost::make_reverse_graph(dfa.graph()), accepting);
}

std::vector<bool> live_states(const Dfa& dfa) {
  auto dist = distance_to_accept(dfa);
  std::vector<bool> live(dist.size());
  for (std::size_t q = 0; q < dist.size(); ++q) live[q] = dist[q] >= 0;
  return live;
}

Dfa minimize(const Dfa& input) {
  // Restrict to states reachable from the start, then complete.
  const int k = input.num_symbols();
  auto reach = bfs_distances(input.graph(), {static_cast<std::size_t>(input.start())});
  std::vector<int> old_to_new(input.num_states(), -1);
  Dfa reachable(k);
  for (int q = 0; q < input.num_states(); ++q)
    if (reach[q] >= 0) old_to_new[q] = reachable.add_state(input.accepting(q));
  for (int q = 0; q < input.num_states(); ++q)
    if (reach[q] >= 0)
      for (int s = 0; s < k; ++s)
        if (StateId t = input.next(q, s); t != kNoState)
          reachable.set_transition(old_to_new[q], s, old_to_new[t]);
  reachable.set_start(old_to_new[input.start()]);
  const Dfa dfa = complete(reachable);
  const int n = dfa.num_states();

  // Hopcroft's partition refinement with inverse transitions.
  std::vector<std::vector<std::vector<StateId>>> inverse(k, std::vector<std::vector<StateId>>(n));
  for (int q = 0; q < n; ++q)
    for (int s = 0; s < k; ++s) inverse[s][dfa.next(q, s)].push_back(q);

  std::vector<int> block_of(n), position(n);  // a state's block and its index in the block
  std::vector<std::vector<StateId>> blocks;
  {
    std::vector<StateId> acc, rej;
    for (int q = 0; q < n; ++q) (dfa.accepting(q) ? acc : rej).push_back(q);
    for (auto* b : {&acc, &rej})
      if (!b->empty()) {
        for (std::size_t i = 0; i < b->size(); ++i)
          block_of[(*b)[i]] = static_cast<int>(blocks.size()),
          position[(*b)[i]] = static_cast<int>(i);
        blocks.push_back(std::move(*b));
      }
  }
  std::deque<std::pair<int, Symbol>> work;
  std::vector<std::vector<bool>> in_work;  // [block][symbol]
  auto push_work = [&](int b, Symbol s) {
    if (in_work.size() <= static_cast<std::size_t>(b)) in_work.resize(b + 1, std::vector<bool>(k));
    if (!in_work[b][s]) {
      in_work[b][s] = true;
      work.emplace_back(b, s);
    }
  };
  {
    int smallest = blocks.size() == 2 && blocks[1].size() < blocks[0].size() ? 1 : 0;
    for (int s = 0; s < k; ++s) push_work(smallest, s);
  }
  std::vector<std::vector<StateId>> marked(blocks.size());  // per block: its states hit now
  std::vector<int> touched;
  while (!work.empty()) {
    auto [splitter, s] = work.front();
    work.pop_front();
    in_work[splitter][s] = false;
    // States with a transition on s into the splitter block, grouped by their block.
    touched.clear();
    for (StateId t : blocks[splitter])
      for (StateId q : inverse[s][t]) {
        int b = block_of[q];
        if (marked[b].empty()) touched.push_back(b);
        marked[b].push_back(q);
      }
    for (int b : touched) {
      if (marked[b].size() < blocks[b].size()) {
        // Split b: its marked states move to a new block, each in O(1) (swapped with the
        // block's last state), so a split costs the marked states, not the whole block.
        int nb = static_cast<int>(blocks.size());
        std::vector<StateId> moved;
        moved.reserve(marked[b].size());
        for (StateId q : marked[b]) {
          auto& from = blocks[b];
          const StateId last = from.back();
          from[position[q]] = last;
          position[last] = position[q];
          from.pop_back();
          block_of[q] = nb;
          position[q] = static_cast<int>(moved.size());
          moved.push_back(q);
        }
        blocks.push_back(std::move(moved));
        marked.emplace_back();
        for (int a = 0; a < k; ++a) {
          if (in_work.size() > static_cast<std::size_t>(b) && in_work[b][a])
            push_work(nb, a);
          else
            push_work(blocks[b].size() <= blocks[nb].size() ? b : nb, a);
        }
      }
      marked[b].clear();
    }
  }

  // Renumber blocks in BFS order from the start block (canonical form).
  const int nblocks = static_cast<int>(blocks.size());
  std::vector<int> order(nblocks, -1);
  std::vector<int> queue{block_of[dfa.start()]};
  order[queue[0]] = 0;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    StateId rep = blocks[queue[i]][0];
    for (int s = 0; s < k; ++s) {
      int b = block_of[dfa.next(rep, s)];
      if (order[b] < 0) {
        order[b] = static_cast<int>(queue.size());
        queue.push_back(b);
      }
    }
  }
  Dfa out(k);
  for (int b : queue) out.add_state(dfa.accepting(blocks[b][0]));
  for (int b : queue)
    for (int s = 0; s < k; ++s)
      out.set_transition(order[b], s, order[block_of[dfa.next(blocks[b][0], s)]]);
  out.set_start(0);
  return out;
}

std::optional<Word> distinguishing_word(const Dfa& a_in, const Dfa& b_in) {
  const Dfa a = complete(a_in), b = complete(b_in);
  const int k = std::max(a.num_symbols(), b.num_symbols());
  // The reachable part of the product, as an explicit Boost graph with symbol-labelled edges.
  DfaGraph product;
  std::map<std::pair<StateId, StateId>, std::size_t> id;
  std::vector<std::pair<StateId, StateId>> pairs;
  auto intern = [&](StateId p, StateId q) {
    auto [it, fresh] = id.emplace(std::make_pair(p, q), pairs.size());
    if (fresh) {
      pairs.emplace_back(p, q);
      boost::add_vertex(DfaStateProps{a.accepting(p) != b.accepting(q)}, product);
    }
    return it->second;
  };
  intern(a.start(), b.start());
  for (std::size_t i = 0; i < pairs.size(); ++i)
    for (int s = 0; s < k; ++s) {
      auto [p, q] = pairs[i];
      std::size_t j =
          intern(s < a.num_symbols() ? a.next(p, s) : p, s < b.num_symbols() ? b.next(q, s) : q);
      boost::add_edge(i, j, DfaEdgeProps{static_cast<Symbol>(s)}, product);
    }
  // BFS from the start pair records each pair's parent edge; out-edges are in symbol order,
  // so the first shortest path found to a pair is the lexicographically least.
  using Edge = boost::graph_traits<DfaGraph>::edge_descriptor;
  std::vector<std::optional<Edge>> parent(pairs.size());
  std::vector<std::size_t> discovered;
  struct Recorder : boost::default_bfs_visitor {
    std::vector<std::optional<Edge>>* parent;
    std::vector<std::size_t>* discovered;
    void tree_edge(Edge e, const DfaGraph& g) { (*parent)[boost::target(e, g)] = e; }
    void discover_vertex(std::size_t v, const DfaGraph&) { discovered->push_back(v); }
  } recorder;
  recorder.parent = &parent;
  recorder.discovered = &discovered;
  boost::breadth_first_search(product, 0, boost::visitor(recorder));
  for (std::size_t v : discovered) {
    if (!product[v].accepting) continue;  // "accepting" marks a distinguishing pair here
    Word w;
    for (std::size_t u = v; parent[u]; u = boost::source(*parent[u], product))
      w.push_back(product[*parent[u]].symbol);
    std::reverse(w.begin(), w.end());
    return w;
  }
  return std::nullopt;
}

std::string to_dot(const Dfa& dfa, const Alphabet& alphabet, const std::string& name) {
  auto live = live_states(dfa);
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out =
      fmt::format("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=circle];\n", escape(name));
  out += "  __start [shape=point];\n";
  for (int q = 0; q < dfa.num_states(); ++q)
    if (live[q] || q == dfa.start())
      out += fmt::format("  q{} [label=\"{}\"{}];\n", q, q,
                         dfa.accepting(q) ? ", shape=doublecircle" : "");
  out += fmt::format("  __start -> q{};\n", dfa.start());
  // One edge per (source, target) pair, labelled with all its symbols.
  for (int q = 0; q < dfa.num_states(); ++q) {
    if (!live[q] && q != dfa.start()) continue;
    std::map<StateId, std::string> labels;
    for (int s = 0; s < dfa.num_symbols(); ++s) {
      StateId t = dfa.next(q, s);
      if (t == kNoState || !live[t]) continue;
      auto& l = labels[t];
      if (!l.empty()) l += ',';
      l += escape(alphabet.name(s));
    }
    for (auto& [t, l] : labels) out += fmt::format("  q{} -> q{} [label=\"{}\"];\n", q, t, l);
  }
  out += "}\n";
  return out;
}

}  // namespace saturn
