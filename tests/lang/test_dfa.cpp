// Regex -> minimal DFA, Hopcroft against brute-force Myhill-Nerode classes, DFA equivalence.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "lang/brute.h"
#include "lang/builtin.h"
#include "lang/regex.h"

using namespace saturn;

namespace {
const Alphabet ab({"a", "b"});
int states(const std::string& re, const Alphabet& a = ab) {
  return compile_regex(re, a).num_states();
}
}  // namespace

TEST_CASE("regexes compile to minimal complete DFAs of known sizes", "[lang]") {
  CHECK(states("(aa)*", Alphabet({"a"})) == 2);
  CHECK(states("(ab)*") == 3);  // start/accept, after a, dead
  CHECK(states("a*b*") == 3);
  CHECK(states("(a|b)*abb") == 4);         // the textbook example
  CHECK(states("(a|b)*a(a|b){3}") == 16);  // 4th symbol from the end is a: 2^4 states
  CHECK(states(".*") == 1);
  CHECK(states("") == 2);  // only the empty word
  CHECK(states("[^a]*") == 2);
  CHECK(states("a{2,4}") == 6);  // 0..4 a's read, plus dead
  CHECK(states("a{2,}") == 4);
  CHECK(builtin("tomita-3")->dfa()->num_states() == 5);
  CHECK(builtin("tomita-4")->dfa()->num_states() == 4);
  CHECK(builtin("dyck-2-3")->dfa()->num_states() == 16);  // stacks of depth <= 3, plus dead
}

TEST_CASE("regex syntax: classes, escapes, long names, repeats", "[lang]") {
  Alphabet brackets({"(", ")", "open", "close"});
  Dfa d = compile_regex(R"(\(<open>*\) | [<close>)]+)", brackets);
  CHECK(d.accepts({0, 2, 2, 1}));
  CHECK(d.accepts({0, 1}));
  CHECK(d.accepts({3, 1, 3}));
  CHECK_FALSE(d.accepts({0, 3, 1}));
  CHECK_FALSE(d.accepts({}));
  Dfa r = compile_regex("a{2,3}b?", ab);
  CHECK(r.accepts({0, 0}));
  CHECK(r.accepts({0, 0, 0, 1}));
  CHECK_FALSE(r.accepts({0}));
  CHECK_FALSE(r.accepts({0, 0, 0, 0}));
}

TEST_CASE("regex syntax errors name the offending offset", "[lang]") {
  auto offset = [](const std::string& re) {
    try {
      compile_regex(re, ab);
    } catch (const RegexError& e) {
      return e.offset;
    }
    return -1;
  };
  CHECK(offset("(ab") == 0);
  CHECK(offset("ab)") == 2);
  CHECK(offset("abc") == 2);  // unknown symbol c
  CHECK(offset("*a") == 0);
  CHECK(offset("a{3,1}") == 1);
  CHECK(offset("[ab") == 0);
}

TEST_CASE("Hopcroft minimisation matches brute-force Myhill-Nerode classes on random DFAs",
          "[lang]") {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 7), k = 2;
    Dfa dfa(k);
    for (int q = 0; q < n; ++q) dfa.add_state(rng() % 2);
    for (int q = 0; q < n; ++q)
      for (int s = 0; s < k; ++s)
        dfa.set_transition(q, s, rng() % 5 == 0 ? kNoState : static_cast<StateId>(rng() % n));
    Dfa min = minimize(dfa);
    // Same language on all words up to length 9.
    for (int len = 0; len <= 9; ++len)
      for (const Word& w : test::all_words(k, len)) REQUIRE(min.accepts(w) == dfa.accepts(w));
    // Minimal: reachable residual languages, told apart by words up to length n, are as many as
    // the minimal DFA's states.
    std::set<std::vector<bool>> residuals;
    for (int len = 0; len <= n; ++len)
      for (const Word& u : test::all_words(k, len)) {
        std::vector<bool> sig;
        for (int l2 = 0; l2 <= n; ++l2)
          for (const Word& v : test::all_words(k, l2)) {
            Word uv = u;
            uv.insert(uv.end(), v.begin(), v.end());
            sig.push_back(dfa.accepts(uv));
          }
        residuals.insert(sig);
      }
    REQUIRE(min.num_states() == static_cast<int>(residuals.size()));
  }
}

TEST_CASE("DFA equivalence finds the shortest distinguishing word", "[lang]") {
  CHECK_FALSE(distinguishing_word(compile_regex("(a|b)*", ab), compile_regex("(a*b*)*", ab)));
  CHECK_FALSE(distinguishing_word(compile_regex("(ab)*a", ab), compile_regex("a(ba)*", ab)));
  auto w = distinguishing_word(compile_regex("(a|b)*abb", ab), compile_regex("(a|b)*bb", ab));
  REQUIRE(w);
  CHECK(*w == Word{1, 1});  // "bb"
  // Length 3 is the shortest (aab, bab... are in only one); the least in symbol order is aab.
  auto v = distinguishing_word(compile_regex(".*ab", ab), compile_regex("b*ab", ab));
  REQUIRE(v);
  CHECK(*v == Word{0, 0, 1});
  CHECK(*distinguishing_word(compile_regex("a*", ab), compile_regex("a+", ab)) == Word{});
}

TEST_CASE("DOT export draws live states and labelled edges", "[lang]") {
  std::string dot = to_dot(compile_regex("(ab)*", ab), ab, "ab-star");
  CHECK(dot.find("digraph \"ab-star\"") == 0);
  CHECK(dot.find("q0 [label=\"0\", shape=doublecircle]") != std::string::npos);
  CHECK(dot.find("q0 -> q1 [label=\"a\"]") != std::string::npos);
  CHECK(dot.find("q1 -> q0 [label=\"b\"]") != std::string::npos);
  CHECK(dot.find("q2") == std::string::npos);  // the dead state is left out
}
