#include "lang/regex.h"

#include <fmt/format.h>

#include <map>
#include <memory>

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
      ++i_;
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
    while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_])) && v < 100000)
      v = v * 10 + (p_[i_++] - '0');
    if (i_ == start) fail("expected a number in '{'", open);
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
      ++i_;
      NodePtr inner = parse_union();
      if (!peek(')')) fail("unbalanced '('", at);
      ++i_;
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
};

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
  void close(std::vector<int>& set) const {
    std::vector<bool> in(eps.size());
    for (int q : set) in[q] = true;
    for (std::size_t i = 0; i < set.size(); ++i)
      for (int t : eps[set[i]])
        if (!in[t]) {
          in[t] = true;
          set.push_back(t);
        }
    std::sort(set.begin(), set.end());
  }
};

}  // namespace

Dfa compile_regex(std::string_view pattern, const Alphabet& alphabet) {
  NodePtr ast = Parser(pattern, alphabet).parse();
  Nfa nfa;
  auto [entry, exit] = nfa.build(*ast);
  const int k = alphabet.size();
  // Subset construction over the reachable sets of NFA states.
  Dfa dfa(k);
  std::map<std::vector<int>, StateId> ids;
  std::vector<std::vector<int>> sets;
  auto intern = [&](std::vector<int> set) {
    nfa.close(set);
    auto it = ids.find(set);
    if (it != ids.end()) return it->second;
    bool acc = std::binary_search(set.begin(), set.end(), exit);
    StateId q = dfa.add_state(acc);
    ids.emplace(set, q);
    sets.push_back(std::move(set));
    if (sets.size() > 200000) throw InputError("regex expands to more than 200000 DFA states");
    return q;
  };
  dfa.set_start(intern({entry}));
  for (std::size_t i = 0; i < sets.size(); ++i)
    for (int s = 0; s < k; ++s) {
      std::vector<int> next;
      for (int q : sets[i])
        for (const auto& e : nfa.moves[q])
          if (e.on.test(s)) next.push_back(e.to);
      if (next.empty()) continue;
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      StateId t = intern(std::move(next));
      dfa.set_transition(static_cast<StateId>(i), s, t);
    }
  return minimize(dfa);
}

}  // namespace saturn
