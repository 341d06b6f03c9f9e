#include "lang/regex.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "base/budget.h"
#include "base/interrupt.h"
#include "lang/machine.h"

namespace saturn {
namespace {

struct Node {
  enum Kind { kSet, kEmpty, kConcat, kUnion, kRepeat } kind;
  SymbolSet symbols;                        // kSet
  std::vector<std::unique_ptr<Node>> kids;  // kConcat, kUnion: any; kRepeat: one
  int min = 0, max = 0;                     // kRepeat; max < 0 means unbounded
};
using NodePtr = std::unique_ptr<Node>;

// Nesting deeper than this (parentheses, or repeats of repeats) is refused: the parser, the
// NFA construction and the syntax tree's destructor recurse once per level.
constexpr int kMaxRegexNesting = 500;
// Thompson's NFA of a regex with large repeats grows multiplicatively ((a{1000}){1000} has
// 10^6 copies of a); it is estimated from the syntax tree and refused past RegexLimits's
// states; the subset construction stops past its DFA states (before minimisation).

class Parser {
 public:
  Parser(std::string_view p, const Alphabet& a) : p_(p), a_(a) {}

  NodePtr parse() {
    NodePtr n = parse_union();
    skip_space();
    if (i_ < p_.size()) {
      if (p_[i_] == ')') fail("unbalanced ')'", i_);
      fail(fmt::format("unexpected '{}'", p_[i_]), i_);
    }
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what, std::size_t at) const {
    throw RegexError(fmt::format("{} in regex", what), static_cast<int>(at));
  }
  void skip_space() {
    while (i_ < p_.size() && (p_[i_] == ' ' || p_[i_] == '\t')) ++i_;
  }
  bool peek(char c) {
    skip_space();
    return i_ < p_.size() && p_[i_] == c;
  }

  NodePtr parse_union() {
    auto node = std::make_unique<Node>(Node{Node::kUnion, {}, {}, 0, 0});
    node->kids.push_back(parse_concat());
    while (peek('|')) {
      ++i_;
      node->kids.push_back(parse_concat());
    }
    if (node->kids.size() == 1) return std::move(node->kids[0]);
    return node;
  }

  NodePtr parse_concat() {
    auto node = std::make_unique<Node>(Node{Node::kConcat, {}, {}, 0, 0});
    while (true) {
      skip_space();
      if (i_ >= p_.size() || p_[i_] == '|' || p_[i_] == ')') break;
      node->kids.push_back(parse_postfix());
    }
    if (node->kids.empty()) return std::make_unique<Node>(Node{Node::kEmpty, {}, {}, 0, 0});
    if (node->kids.size() == 1) return std::move(node->kids[0]);
    return node;
  }

  NodePtr parse_postfix() {
    NodePtr atom = parse_atom();
    int repeats = 0;  // nesting added by this chain of postfix operators
    while (true) {
      skip_space();
      if (i_ >= p_.size()) break;
      char c = p_[i_];
      int lo, hi;
      if (c == '*')
        lo = 0, hi = -1;
      else if (c == '+')
        lo = 1, hi = -1;
      else if (c == '?')
        lo = 0, hi = 1;
      else if (c == '{') {
        std::size_t open = i_++;
        lo = parse_int(open);
        hi = lo;
        if (peek(',')) {
          ++i_;
          skip_space();
          hi = (i_ < p_.size() && p_[i_] == '}') ? -1 : parse_int(open);
        }
        if (!peek('}')) fail("unterminated '{'", open);
        if (hi >= 0 && hi < lo) fail(fmt::format("repeat {{{},{}}} has max < min", lo, hi), open);
        if (lo > 1000 || hi > 1000) fail("repeat count over 1000", open);
      } else {
        break;
      }
      const std::size_t at = i_++;
      // A star, plus or option of a star, plus or option is one of them: (x*)+ = x*,
      // (x+)? = x*, (x?)? = x?; so `a***...` stays one level deep however long the chain.
      auto simple = [](int min, int max) {
        return min <= 1 && (max < 0 || max == 1) && min != max;
      };
      if (simple(lo, hi) && atom->kind == Node::kRepeat && simple(atom->min, atom->max)) {
        atom->min = atom->min == 1 && lo == 1 ? 1 : 0;
        atom->max = atom->max < 0 || hi < 0 ? -1 : 1;
        continue;
      }
      if (depth_ + ++repeats > kMaxRegexNesting)
        fail(fmt::format("repeats nested more than {} deep", kMaxRegexNesting), at);
      auto rep = std::make_unique<Node>(Node{Node::kRepeat, {}, {}, lo, hi});
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  int parse_int(std::size_t open) {
    skip_space();
    std::size_t start = i_;
    int v = 0;
    while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) {
      v = std::min(v * 10 + (p_[i_++] - '0'), 1000000);  // saturates: only "over 1000" matters
    }
    if (i_ == start) fail("expected a number in '{'", open);
    if (v > 1000) fail("repeat count over 1000", open);
    return v;
  }

  // One symbol at i_: <name>, \c, or a single character. Advances past it.
  Symbol parse_symbol() {
    std::size_t at = i_;
    std::string name;
    if (p_[i_] == '<') {
      std::size_t close = p_.find('>', i_ + 1);
      if (close == std::string_view::npos) fail("unterminated '<'", at);
      name = std::string(p_.substr(i_ + 1, close - i_ - 1));
      i_ = close + 1;
    } else if (p_[i_] == '\\') {
      if (i_ + 1 >= p_.size()) fail("dangling '\\'", at);
      name = std::string(1, p_[i_ + 1]);
      i_ += 2;
    } else {
      name = std::string(1, p_[i_]);
      ++i_;
    }
    auto s = a_.find(name);
    if (!s) fail(fmt::format("unknown symbol '{}'", name), at);
    return *s;
  }

  NodePtr parse_atom() {
    skip_space();
    std::size_t at = i_;
    char c = p_[i_];
    auto set_node = [](SymbolSet s) {
      return std::make_unique<Node>(Node{Node::kSet, s, {}, 0, 0});
    };
    if (c == '(') {
      if (++depth_ > kMaxRegexNesting)
        fail(fmt::format("parentheses nested more than {} deep", kMaxRegexNesting), at);
      ++i_;
      NodePtr inner = parse_union();
      if (!peek(')')) fail("unbalanced '('", at);
      ++i_;
      --depth_;
      return inner;
    }
    if (c == '.') {
      ++i_;
      return set_node(all_symbols(a_.size()));
    }
    if (c == '[') {
      ++i_;
      bool negate = peek('^');
      if (negate) ++i_;
      SymbolSet set;
      while (true) {
        skip_space();
        if (i_ >= p_.size()) fail("unterminated '['", at);
        if (p_[i_] == ']') break;
        set.set(parse_symbol());
      }
      ++i_;
      if (negate) set = ~set & all_symbols(a_.size());
      return set_node(set);
    }
    if (c == '*' || c == '+' || c == '?' || c == '{')
      fail(fmt::format("'{}' with nothing to repeat", c), at);
    if (c == ']' || c == '}') fail(fmt::format("unexpected '{}'", c), at);
    SymbolSet set;
    set.set(parse_symbol());
    return set_node(set);
  }

  std::string_view p_;
  const Alphabet& a_;
  std::size_t i_ = 0;
  int depth_ = 0;  // open parentheses
};

// The number of states Nfa::build creates for `n`.
double nfa_size(const Node& n) {
  switch (n.kind) {
    case Node::kEmpty:
    case Node::kSet:
      return 2;
    case Node::kConcat:
    case Node::kUnion: {
      double total = 2;
      for (const auto& kid : n.kids) total += nfa_size(*kid);
      return total;
    }
    case Node::kRepeat:
      return 2 + nfa_size(*n.kids[0]) * (n.max < 0 ? n.min + 1 : n.max);
  }
  return 2;
}

// Thompson's construction: an NFA with epsilon moves and symbol-set moves.
struct Nfa {
  struct Edge {
    int to;
    SymbolSet on;
  };
  std::vector<std::vector<int>> eps;
  std::vector<std::vector<Edge>> moves;
  int add() {
    eps.emplace_back();
    moves.emplace_back();
    return static_cast<int>(eps.size()) - 1;
  }
  // Builds a fragment for `n`; returns (entry, exit).
  std::pair<int, int> build(const Node& n) {
    int in = add(), out = add();
    switch (n.kind) {
      case Node::kEmpty:
        eps[in].push_back(out);
        break;
      case Node::kSet:
        moves[in].push_back({out, n.symbols});
        break;
      case Node::kConcat: {
        int cur = in;
        for (const auto& kid : n.kids) {
          auto [a, b] = build(*kid);
          eps[cur].push_back(a);
          cur = b;
        }
        eps[cur].push_back(out);
        break;
      }
      case Node::kUnion:
        for (const auto& kid : n.kids) {
          auto [a, b] = build(*kid);
          eps[in].push_back(a);
          eps[b].push_back(out);
        }
        break;
      case Node::kRepeat: {
        int cur = in;
        for (int i = 0; i < n.min; ++i) {
          auto [a, b] = build(*n.kids[0]);
          eps[cur].push_back(a);
          cur = b;
        }
        if (n.max < 0) {
          auto [a, b] = build(*n.kids[0]);
          eps[cur].push_back(a);
          eps[b].push_back(cur);
        } else {
          for (int i = n.min; i < n.max; ++i) {
            auto [a, b] = build(*n.kids[0]);
            eps[cur].push_back(a);
            eps[cur].push_back(out);
            cur = b;
          }
        }
        eps[cur].push_back(out);
        break;
      }
    }
    return {in, out};
  }
  // Epsilon closure, in time linear in its size (a stamp per state instead of a fresh mark
  // array per call).
  void close(std::vector<int>& set) {
    if (stamp.size() != eps.size()) stamp.assign(eps.size(), 0);
    ++generation;
    for (int q : set) stamp[q] = generation;
    for (std::size_t i = 0; i < set.size(); ++i)
      for (int t : eps[set[i]])
        if (stamp[t] != generation) {
          stamp[t] = generation;
          set.push_back(t);
        }
    std::sort(set.begin(), set.end());
  }
  std::vector<std::uint32_t> stamp;
  std::uint32_t generation = 0;
};

}  // namespace

Dfa compile_regex(std::string_view pattern, const Alphabet& alphabet, const RegexLimits& limits) {
  NodePtr ast = Parser(pattern, alphabet).parse();
  if (const double states = nfa_size(*ast); states > limits.nfa_states)
    throw RegexError(fmt::format("regex expands to about {:.3g} automaton states, over the limit "
                                 "of {:.0g} (repeats of repeats multiply)",
                                 states, limits.nfa_states),
                     0);
  Nfa nfa;
  const auto [entry_state, exit_state] = nfa.build(*ast);
  const int entry = entry_state, exit = exit_state;  // named: lambdas capture them
  const int k = alphabet.size();
  // Subset construction over the reachable sets of NFA states.
  Dfa dfa(k);
  // Sets of NFA states, hashed (a tree map's comparisons cost a factor of log |Q| more).
  struct SetHash {
    std::size_t operator()(const std::vector<int>& v) const noexcept {
      std::uint64_t h = 0x9e3779b97f4a7c15ull ^ v.size();
      for (int x : v) h = (h ^ static_cast<std::uint64_t>(x)) * 0x100000001b3ull;
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  std::unordered_map<std::vector<int>, StateId, SetHash> ids;
  std::vector<std::vector<int>> sets;
  // A DFA state is the set of *important* NFA states of a closure: those with symbol moves,
  // and the exit. Two closures with the same important states have the same future, so the
  // minimal DFA is the same; the sets held, hashed and compared are a few times smaller than
  // whole closures (Thompson's epsilon states are most of them).
  std::vector<char> important(nfa.eps.size(), 0);
  for (std::size_t q = 0; q < nfa.eps.size(); ++q) important[q] = !nfa.moves[q].empty();
  important[static_cast<std::size_t>(exit)] = 1;
  double stored = 0;  // NFA state ids held by the sets, twice (map keys and `sets`)
  // Work of the construction: NFA states visited by closures and moves, summed. A regex whose
  // DFA states are sets of many NFA states costs their product (a*b*c* then N times a: N
  // states of up to N NFA states each, N^2) long before the memory budget is reached; the
  // limit refuses it within a second (README, "Limits and errors").
  double work = 0;
  auto check_work = [&] {
    if (work > limits.subset_work)
      throw RegexError(
          fmt::format("regex needs more than {:.0e} steps of the subset construction (the "
                      "regex budget; at {} DFA states holding {:.3g} NFA states, and growing): "
                      "its automaton is too large to build",
                      limits.subset_work, sets.size(), stored / 2),
          0);
  };
  Progress progress("regex: subset construction");
  auto intern = [&](std::vector<int> set) {
    nfa.close(set);
    work += static_cast<double>(set.size());
    set.erase(std::remove_if(set.begin(), set.end(), [&](int q) { return !important[q]; }),
              set.end());
    auto it = ids.find(set);
    if (it != ids.end()) return it->second;
    if (sets.size() >= limits.dfa_states)
      throw RegexError(fmt::format("regex expands to more than {} DFA states", limits.dfa_states),
                       0);
    stored += 2 * static_cast<double>(set.size());
    check_work();
    require_memory(stored * sizeof(int) + 200.0 * static_cast<double>(sets.size()), "regex",
                   "the subset construction");
    progress.update(static_cast<double>(sets.size()), 0);
    bool acc = std::binary_search(set.begin(), set.end(), exit);
    StateId q = dfa.add_state(acc);
    ids.emplace(set, q);
    sets.push_back(std::move(set));
    return q;
  };
  dfa.set_start(intern({entry}));
  std::vector<int> next;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    check_work();
    for (int s = 0; s < k; ++s) {
      next.clear();
      work += static_cast<double>(sets[i].size());
      for (int q : sets[i])
        for (const auto& e : nfa.moves[q])
          if (e.on.test(s)) next.push_back(e.to);
      if (next.empty()) continue;
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      StateId t = intern(next);
      dfa.set_transition(static_cast<StateId>(i), s, t);
    }
  }
  return minimize(dfa);
}

}  // namespace saturn
