// Brute-force twins of the benchmark tasks (lang/zoo_tasks.h): membership written from FLaRe's
// and CH's Python definitions, and each task's positives built from their definition (what the
// generators sample from), with no machine involved.
#include <algorithm>
#include <optional>
#include <set>

#include "lang/brute.h"

namespace saturn::test {
namespace {

using W = std::vector<std::string>;

// Splits at the only '#' (nullopt without exactly one).
std::optional<std::pair<W, W>> split_hash(const W& w, const std::string& mark = "#") {
  if (std::count(w.begin(), w.end(), mark) != 1) return std::nullopt;
  auto it = std::find(w.begin(), w.end(), mark);
  return std::pair{W(w.begin(), it), W(it + 1, w.end())};
}

W odds_first(const W& w) {
  W out;
  for (std::size_t i = 0; i < w.size(); i += 2) out.push_back(w[i]);
  for (std::size_t i = 1; i < w.size(); i += 2) out.push_back(w[i]);
  return out;
}

bool is_bit(const std::string& s) {
  return s == "0" || s == "1";
}

// FLaRe's binary_util: x op y = z, least significant bit first (words here are short).
std::optional<std::vector<unsigned long long>> binary_operands(
    const W& w, const std::vector<std::string>& seps) {
  std::vector<unsigned long long> values;
  std::size_t i = 0;
  for (std::size_t k = 0; k <= seps.size(); ++k) {
    unsigned long long v = 0, mask = 1;
    std::size_t bits = 0;
    for (; i < w.size() && is_bit(w[i]); ++i, ++bits, mask <<= 1)
      if (w[i] == "1") v |= mask;
    if (bits == 0) return std::nullopt;
    if (k < seps.size()) {
      if (i == w.size() || w[i] != seps[k]) return std::nullopt;
      ++i;
    }
    values.push_back(v);
  }
  if (i != w.size()) return std::nullopt;
  return values;
}

// CH's bracket grammar, E ::= d | -d | (d) | (-d) | (E op E), by recursive descent (test words
// are short). Returns E's value mod 5 and where it ends.
std::optional<std::pair<int, std::size_t>> parse_e(const W& w, std::size_t i) {
  const auto digit = [&](std::size_t j) {
    return j < w.size() && w[j].size() == 1 && w[j][0] >= '0' && w[j][0] <= '4' ? w[j][0] - '0'
                                                                                : -1;
  };
  if (digit(i) >= 0) return std::pair{digit(i), i + 1};
  if (i < w.size() && w[i] == "-" && digit(i + 1) >= 0)
    return std::pair{(5 - digit(i + 1)) % 5, i + 2};
  if (i >= w.size() || w[i] != "(") return std::nullopt;
  auto left = parse_e(w, i + 1);
  if (!left) return std::nullopt;
  auto [lv, j] = *left;
  const bool bare = w[i + 1] != "(";
  if (j < w.size() && w[j] == ")" && bare) return std::pair{lv, j + 1};
  if (j >= w.size() || (w[j] != "+" && w[j] != "-" && w[j] != "*")) return std::nullopt;
  auto right = parse_e(w, j + 1);
  if (!right) return std::nullopt;
  auto [rv, k] = *right;
  if (k >= w.size() || w[k] != ")") return std::nullopt;
  const int v = w[j] == "+" ? lv + rv : w[j] == "-" ? lv - rv + 5 : lv * rv;
  return std::pair{v % 5, k + 1};
}

bool expression_equals(const W& w) {
  // E = r with r a digit.
  if (w.size() < 3 || w[w.size() - 2] != "=") return false;
  auto e = parse_e(w, 0);
  return e && e->second == w.size() - 2 && w.back() == std::to_string(e->first);
}

// Every expression of CH's grammar of each length up to max_length, with its value.
std::vector<std::vector<std::pair<W, int>>> expressions(int max_length, bool mult) {
  std::vector<std::vector<std::pair<W, int>>> by_length(max_length + 1);
  for (int d = 0; d < 5; ++d) {
    const std::string s = std::to_string(d), neg = std::to_string((5 - d) % 5);
    if (max_length >= 1) by_length[1].push_back({{s}, d});
    if (max_length >= 2) by_length[2].push_back({{"-", s}, (5 - d) % 5});
    if (max_length >= 3) by_length[3].push_back({{"(", s, ")"}, d});
    if (max_length >= 4) by_length[4].push_back({{"(", "-", s, ")"}, (5 - d) % 5});
  }
  for (int n = 5; n <= max_length; ++n)
    for (int l = 1; l + 3 < n; ++l)
      for (const auto& [lw, lv] : by_length[l])
        for (const auto& [rw, rv] : by_length[n - 3 - l])
          for (const std::string op : {"+", "-", "*"}) {
            if (op == "*" && !mult) continue;
            W w{"("};
            w.insert(w.end(), lw.begin(), lw.end());
            w.push_back(op);
            w.insert(w.end(), rw.begin(), rw.end());
            w.push_back(")");
            const int v = op == "+" ? lv + rv : op == "-" ? lv - rv + 5 : lv * rv;
            by_length[n].push_back({w, v % 5});
          }
  return by_length;
}

std::string joined(const W& w) {
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

// All words of length n over `symbols`.
std::vector<W> all_strings(const std::vector<std::string>& symbols, int n) {
  std::vector<W> out{W{}};
  for (int i = 0; i < n; ++i) {
    std::vector<W> next;
    for (const auto& w : out)
      for (const auto& s : symbols) {
        next.push_back(w);
        next.back().push_back(s);
      }
    out = std::move(next);
  }
  return out;
}

W bits_of(unsigned long long v, int n) {
  W w;
  for (int i = 0; i < n; ++i) w.push_back((v >> i) & 1 ? "1" : "0");
  return w;
}

}  // namespace

const std::map<std::string, Predicate>& task_predicates() {
  static const std::map<std::string, Predicate> p = {
      {"stack-manipulation",
       [](const W& s) {
         W stack;
         std::size_t i = 0;
         while (i < s.size() && is_bit(s[i])) stack.push_back(s[i++]);
         while (i < s.size() && (s[i] == "PUSH" || s[i] == "POP")) {
           if (s[i] == "PUSH") {
             if (i + 1 >= s.size() || !is_bit(s[i + 1])) return false;
             stack.push_back(s[i + 1]);
             i += 2;
           } else {
             if (stack.empty()) return false;
             stack.pop_back();
             ++i;
           }
         }
         if (i >= s.size() || s[i] != "#") return false;
         return W(s.begin() + static_cast<long>(i) + 1, s.end()) == W(stack.rbegin(), stack.rend());
       }},
      {"bucket-sort",
       [](const W& w) {
         auto parts = split_hash(w);
         if (!parts) return false;
         W sorted = parts->first;
         std::sort(sorted.begin(), sorted.end());
         return parts->second == sorted;
       }},
      {"odds-first",
       [](const W& w) {
         auto parts = split_hash(w);
         return parts && parts->second == odds_first(parts->first);
       }},
      {"duplicate-string",
       [](const W& w) {
         auto parts = split_hash(w);
         if (!parts) return false;
         W twice = parts->first;
         twice.insert(twice.end(), parts->first.begin(), parts->first.end());
         return parts->second == twice;
       }},
      {"missing-duplicate-string",
       [](const W& s) {
         if (s.size() % 2 || std::count(s.begin(), s.end(), "_") != 1) return false;
         W ss = s;
         std::replace(ss.begin(), ss.end(), std::string("_"), std::string("1"));
         return std::equal(ss.begin(), ss.begin() + static_cast<long>(ss.size() / 2),
                           ss.begin() + static_cast<long>(ss.size() / 2));
       }},
      {"binary-addition",
       [](const W& w) {
         auto v = binary_operands(w, {"+", "="});
         return v && (*v)[0] + (*v)[1] == (*v)[2];
       }},
      {"binary-multiplication",
       [](const W& w) {
         auto v = binary_operands(w, {"×", "="});
         return v && (*v)[0] * (*v)[1] == (*v)[2];
       }},
      {"compute-sqrt",
       [](const W& w) {
         auto v = binary_operands(w, {"="});
         if (!v) return false;
         unsigned long long z = 0;
         while ((z + 1) * (z + 1) <= (*v)[0]) ++z;
         return z == (*v)[1];
       }},
      {"modular-arithmetic-brackets", [](const W& w) { return expression_equals(w); }},
      {"solve-equation",
       [](const W& w) {
         // E = v # s: one x, no *; putting s for x makes E equal v.
         auto parts = split_hash(w);
         if (!parts || parts->second.size() != 1 || std::count(w.begin(), w.end(), "x") != 1)
           return false;
         const std::string s = parts->second[0];
         const std::string v = parts->first.empty() ? "" : parts->first.back();
         const auto is_digit = [](const std::string& d) {
           return d.size() == 1 && d[0] >= '0' && d[0] <= '4';
         };
         if (!is_digit(s) || !is_digit(v)) return false;  // x stands for a digit of E only
         W e = parts->first;
         std::replace(e.begin(), e.end(), std::string("x"), s);
         return expression_equals(e);
       }},
  };
  return p;
}

std::set<std::string> task_positives(const std::string& name, int n) {
  std::set<std::string> out;
  const auto add = [&](const W& w) {
    if (static_cast<int>(w.size()) == n) out.insert(joined(w));
  };
  if (name == "bucket-sort" || name == "odds-first" || name == "duplicate-string") {
    const int ratio = name == "duplicate-string" ? 2 : 1;
    if ((n - 1) % (1 + ratio) || n < 1) return out;
    const std::vector<std::string> symbols = name == "bucket-sort"
                                                 ? std::vector<std::string>{"1", "2", "3", "4", "5"}
                                                 : std::vector<std::string>{"0", "1"};
    for (W w : all_strings(symbols, (n - 1) / (1 + ratio))) {
      W f = w;
      if (name == "bucket-sort") std::sort(f.begin(), f.end());
      if (name == "odds-first") f = odds_first(w);
      if (name == "duplicate-string") f.insert(f.end(), w.begin(), w.end());
      w.push_back("#");
      w.insert(w.end(), f.begin(), f.end());
      add(w);
    }
  } else if (name == "missing-duplicate-string") {
    if (n % 2) return out;
    for (const W& w : all_strings({"0", "1"}, n / 2)) {
      W ww = w;
      ww.insert(ww.end(), w.begin(), w.end());
      for (auto& x : ww)
        if (x == "1") {
          x = "_";
          add(ww);
          x = "1";
        }
    }
  } else if (name == "stack-manipulation") {
    // Initial stack of i bits, then a program of PUSH b / POP, then the final stack.
    struct State {
      W word, stack;
    };
    for (int i = 0; i < n; ++i)
      for (const W& init : all_strings({"0", "1"}, i)) {
        std::vector<State> todo{{init, init}};
        while (!todo.empty()) {
          State st = todo.back();
          todo.pop_back();
          W done = st.word;
          done.push_back("#");
          done.insert(done.end(), st.stack.rbegin(), st.stack.rend());
          add(done);
          if (static_cast<int>(st.word.size() + 2) <= n)
            for (const std::string b : {"0", "1"}) {
              State next = st;
              next.word.push_back("PUSH");
              next.word.push_back(b);
              next.stack.push_back(b);
              todo.push_back(next);
            }
          if (!st.stack.empty() && static_cast<int>(st.word.size()) < n) {
            State next = st;
            next.word.push_back("POP");
            next.stack.pop_back();
            todo.push_back(next);
          }
        }
      }
  } else if (name == "binary-addition" || name == "binary-multiplication") {
    const bool add_op = name == "binary-addition";
    for (int a = 1; a <= n; ++a)
      for (int b = 1; a + b + 3 <= n; ++b) {
        const int c = n - 2 - a - b;
        for (unsigned long long x = 0; x < (1ull << a); ++x)
          for (unsigned long long y = 0; y < (1ull << b); ++y) {
            const unsigned long long z = add_op ? x + y : x * y;
            if (z >= (1ull << c)) continue;
            W w = bits_of(x, a);
            w.push_back(add_op ? "+" : "×");
            for (const auto& s : bits_of(y, b)) w.push_back(s);
            w.push_back("=");
            for (const auto& s : bits_of(z, c)) w.push_back(s);
            add(w);
          }
      }
  } else if (name == "compute-sqrt") {
    for (int a = 1; a + 2 <= n; ++a) {
      const int c = n - 1 - a;
      for (unsigned long long x = 0; x < (1ull << a); ++x) {
        unsigned long long z = 0;
        while ((z + 1) * (z + 1) <= x) ++z;
        if (z >= (1ull << c)) continue;
        W w = bits_of(x, a);
        w.push_back("=");
        for (const auto& s : bits_of(z, c)) w.push_back(s);
        add(w);
      }
    }
  } else if (name == "modular-arithmetic-brackets") {
    if (n < 3) return out;
    const auto all = expressions(n - 2, true);
    for (const auto& [e, v] : all[n - 2]) {
      W w = e;
      w.push_back("=");
      w.push_back(std::to_string(v));
      add(w);
    }
  } else if (name == "solve-equation") {
    if (n < 5) return out;
    const auto all = expressions(n - 4, false);
    for (const auto& [e, v] : all[n - 4])
      for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i].size() != 1 || e[i][0] < '0' || e[i][0] > '4') continue;
        W w = e;
        w[i] = "x";
        for (const auto& s : W{"=", std::to_string(v), "#", e[i]}) w.push_back(s);
        add(w);
      }
  }
  return out;
}

}  // namespace saturn::test
