#include "lang/brute.h"

#include <algorithm>

namespace saturn::test {
namespace {

using W = std::vector<std::string>;

int count(const W& w, const std::string& s) {
  return static_cast<int>(std::count(w.begin(), w.end(), s));
}

std::string join(const W& w) {
  std::string s;
  for (const auto& x : w) s += x;
  return s;
}

bool balanced(const W& w, const std::vector<std::pair<std::string, std::string>>& pairs,
              int max_depth) {
  std::vector<int> stack;
  for (const auto& x : w) {
    for (int t = 0; t < static_cast<int>(pairs.size()); ++t) {
      if (x == pairs[t].first) {
        stack.push_back(t);
        if (static_cast<int>(stack.size()) > max_depth) return false;
      } else if (x == pairs[t].second) {
        if (stack.empty() || stack.back() != t) return false;
        stack.pop_back();
      }
    }
  }
  return stack.empty();
}

bool shuffle(const W& w, const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (const auto& [open, close] : pairs) {
    int h = 0;
    for (const auto& x : w) {
      h += (x == open) - (x == close);
      if (h < 0) return false;
    }
    if (h != 0) return false;
  }
  return true;
}

// Maximal runs of equal symbols: (symbol, length).
std::vector<std::pair<std::string, int>> runs(const W& w) {
  std::vector<std::pair<std::string, int>> r;
  for (const auto& x : w) {
    if (!r.empty() && r.back().first == x)
      ++r.back().second;
    else
      r.emplace_back(x, 1);
  }
  return r;
}

bool is_palindrome(const W& w) {
  return std::equal(w.begin(), w.begin() + w.size() / 2, w.rbegin());
}

// a^n b^n c^n ... for the given letters: every letter block in order, equal lengths.
bool blocks_equal(const W& w, const std::vector<std::string>& letters) {
  std::size_t i = 0;
  std::vector<int> lens;
  for (const auto& l : letters) {
    int n = 0;
    while (i < w.size() && w[i] == l) ++i, ++n;
    lens.push_back(n);
  }
  return i == w.size() &&
         std::all_of(lens.begin(), lens.end(), [&](int n) { return n == lens[0]; });
}

bool marked(const W& w, bool reversed) {
  auto it = std::find(w.begin(), w.end(), "#");
  if (it == w.end() || std::count(w.begin(), w.end(), "#") != 1) return false;
  W left(w.begin(), it), right(it + 1, w.end());
  if (reversed) std::reverse(right.begin(), right.end());
  return left == right;
}

bool period(const W& w, const std::string& unit) {
  std::string s = join(w);
  if (s.size() % unit.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] != unit[i % unit.size()]) return false;
  return true;
}

}  // namespace

const std::map<std::string, Predicate>& brute_force_predicates() {
  using P = std::pair<std::string, std::string>;
  static const std::map<std::string, Predicate> p = [] {
    std::map<std::string, Predicate> m = {
        {"majority", [](const W& w) { return count(w, "a") > count(w, "b"); }},
        {"parity", [](const W& w) { return count(w, "1") % 2 == 1; }},
        {"first", [](const W& w) { return !w.empty() && w.front() == "1"; }},
        {"last", [](const W& w) { return !w.empty() && w.back() == "1"; }},
        {"even-pairs",
         [](const W& w) {
           int changes = 0;
           for (std::size_t i = 1; i < w.size(); ++i) changes += w[i] != w[i - 1];
           return changes % 2 == 0;
         }},
        {"repeat-01", [](const W& w) { return period(w, "01"); }},
        {"aa-star", [](const W& w) { return w.size() % 2 == 0; }},
        {"abab-star", [](const W& w) { return period(w, "abab"); }},
        {"ab-star", [](const W& w) { return period(w, "ab"); }},
        {"mod-3", [](const W& w) { return count(w, "a") % 3 == 0; }},
        {"tomita-1", [](const W& w) { return count(w, "0") == 0; }},
        {"tomita-2", [](const W& w) { return period(w, "10"); }},
        {"tomita-3",
         [](const W& w) {
           auto r = runs(w);
           for (std::size_t i = 0; i + 1 < r.size(); ++i)
             if (r[i].first == "1" && r[i].second % 2 == 1 && r[i + 1].second % 2 == 1)
               return false;
           return true;
         }},
        {"tomita-3-weiss",
         [](const W& w) {
           // No odd block of 1s followed, anywhere later, by an odd block of 0s.
           auto r = runs(w);
           bool odd_ones = false;
           for (const auto& [symbol, length] : r) {
             if (symbol == "0" && length % 2 == 1 && odd_ones) return false;
             if (symbol == "1" && length % 2 == 1) odd_ones = true;
           }
           return true;
         }},
        {"tomita-4", [](const W& w) { return join(w).find("000") == std::string::npos; }},
        {"tomita-5", [](const W& w) { return count(w, "0") % 2 == 0 && count(w, "1") % 2 == 0; }},
        {"tomita-6", [](const W& w) { return (count(w, "0") - count(w, "1")) % 3 == 0; }},
        {"tomita-7",
         [](const W& w) {
           auto r = runs(w);
           return r.size() <= (r.empty() || r[0].first == "0" ? 4u : 3u);
         }},
        {"dyck-1",
         [](const W& w) {
           return balanced(w, {P{"(", ")"}}, 1 << 30);
         }},
        {"dyck-2",
         [](const W& w) {
           return balanced(w, {P{"(", ")"}, P{"[", "]"}}, 1 << 30);
         }},
        {"dyck-3",
         [](const W& w) {
           return balanced(w, {P{"(", ")"}, P{"[", "]"}, P{"{", "}"}}, 1 << 30);
         }},
        {"dyck-2-3",
         [](const W& w) {
           return balanced(w, {P{"(", ")"}, P{"[", "]"}}, 3);
         }},
        {"dyck-1-2",
         [](const W& w) {
           return balanced(w, {P{"(", ")"}}, 2);
         }},
        {"shuffle-dyck-2",
         [](const W& w) {
           return shuffle(w, {P{"(", ")"}, P{"[", "]"}});
         }},
        {"shuffle-dyck-3",
         [](const W& w) {
           return shuffle(w, {P{"(", ")"}, P{"[", "]"}, P{"{", "}"}});
         }},
        {"anbn",
         [](const W& w) {
           return blocks_equal(w, {"a", "b"});
         }},
        {"anbncn",
         [](const W& w) {
           return blocks_equal(w, {"a", "b", "c"});
         }},
        {"anbm-less",
         [](const W& w) {
           std::string s = join(w);
           return s.find("ba") == std::string::npos && count(w, "a") < count(w, "b");
         }},
        {"count-eq", [](const W& w) { return count(w, "a") == count(w, "b"); }},
        {"count-eq-3",
         [](const W& w) {
           return count(w, "a") == count(w, "b") && count(w, "b") == count(w, "c");
         }},
        {"marked-reversal", [](const W& w) { return marked(w, true); }},
        {"marked-copy", [](const W& w) { return marked(w, false); }},
        {"unmarked-reversal", [](const W& w) { return w.size() % 2 == 0 && is_palindrome(w); }},
        {"palindrome", [](const W& w) { return is_palindrome(w); }},
        {"flare-majority", [](const W& w) { return count(w, "1") > count(w, "0"); }},
        {"flare-even-pairs", [](const W& w) { return w.empty() || w.front() == w.back(); }},
        {"flare-dyck-2-3",
         [](const W& w) {
           return balanced(w, {P{"(0", ")0"}, P{"(1", ")1"}}, 3);
         }},
        {"cycle-navigation",
         [](const W& w) {
           // Moves on a 5-cycle from 0, then one digit: the position reached.
           if (w.empty()) return false;
           int pos = 0;
           for (std::size_t i = 0; i + 1 < w.size(); ++i) {
             if (w[i] == ">")
               pos = (pos + 1) % 5;
             else if (w[i] == "<")
               pos = (pos + 4) % 5;
             else if (w[i] != "=")
               return false;
           }
           return w.back() == std::to_string(pos);
         }},
        {"modular-arithmetic-simple",
         [](const W& w) {
           // d (op d)* = r, left to right mod 5.
           const auto digit = [](const std::string& s) {
             return s.size() == 1 && s[0] >= '0' && s[0] <= '4' ? s[0] - '0' : -1;
           };
           if (w.size() < 3 || w.size() % 2 == 0 || w[w.size() - 2] != "=") return false;
           int value = digit(w[0]);
           if (value < 0) return false;
           for (std::size_t i = 1; i + 2 < w.size(); i += 2) {
             const int x = digit(w[i + 1]);
             if (x < 0) return false;
             if (w[i] == "+")
               value = (value + x) % 5;
             else if (w[i] == "-")
               value = ((value - x) % 5 + 5) % 5;
             else if (w[i] == "*")
               value = value * x % 5;
             else
               return false;
           }
           return digit(w.back()) == value;
         }},
    };
    m.insert(task_predicates().begin(), task_predicates().end());
    return m;
  }();
  return p;
}

std::vector<Word> all_words(int k, int n) {
  std::vector<Word> out;
  Word w(n, 0);
  while (true) {
    out.push_back(w);
    int i = n - 1;
    while (i >= 0 && w[i] == k - 1) w[i--] = 0;
    if (i < 0) break;
    ++w[i];
  }
  return out;
}

}  // namespace saturn::test
