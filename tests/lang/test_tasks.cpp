// The benchmark tasks (lang/zoo_tasks.h): exact counts and membership against their positives
// built from FLaRe's and CH's definitions, up to length 12 (all words are enumerated up to a
// shorter length by the brute-force test in test_membership.cpp).
#include <catch2/catch.hpp>

#include "lang/brute.h"
#include "lang/builtin.h"
#include "lang/count.h"
#include "lang/zoo_tasks.h"

using namespace saturn;

namespace {
// A word written with spaces between symbol names.
Word word_of(const Language& lang, const std::string& text) {
  Word w;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t j = std::min(text.find(' ', i), text.size());
    const auto s = lang.alphabet().find(text.substr(i, j - i));
    REQUIRE(s);
    w.push_back(*s);
    i = j + 1;
  }
  return w;
}
}  // namespace

TEST_CASE("task counts equal their positives built from the definitions, lengths 0..12", "[lang]") {
  auto name = GENERATE(from_range(task_language_names()));
  INFO("language " << name);
  auto lang = builtin(name);
  REQUIRE(lang);
  CHECK(test::task_predicates().count(name) == 1);
  CountTable table(lang);
  long long total = 0;
  for (int n = 0; n <= 12; ++n) {
    INFO("length " << n);
    const auto positives = test::task_positives(name, n);
    for (const auto& w : positives) {
      const Word word = word_of(*lang, w);
      if (!lang->accepts(word)) FAIL_CHECK("rejects '" << w << "'");
      std::vector<std::string> names;
      for (Symbol s : word) names.push_back(lang->alphabet().name(s));
      if (!test::task_predicates().at(name)(names)) FAIL_CHECK("predicate rejects '" << w << "'");
    }
    CHECK(table.accepted(n) == positives.size());
    total += static_cast<long long>(positives.size());
  }
  CHECK(total > 0);
}

TEST_CASE("task counts in closed form where one exists", "[lang]") {
  // |w| = m: 5^m bucket sorts, 2^m odds-first and duplicates, m 2^m missing duplicates.
  CountTable bucket(builtin("bucket-sort")), odds(builtin("odds-first")),
      dup(builtin("duplicate-string")), missing(builtin("missing-duplicate-string"));
  for (int m = 0; m <= 60; m += 7) {
    INFO("m = " << m);
    CHECK(bucket.accepted(2 * m + 1) == boost::multiprecision::pow(BigInt(5), m));
    CHECK(bucket.accepted(2 * m + 2) == 0);
    CHECK(odds.accepted(2 * m + 1) == boost::multiprecision::pow(BigInt(2), m));
    CHECK(dup.accepted(3 * m + 1) == boost::multiprecision::pow(BigInt(2), m));
    CHECK(dup.accepted(3 * m + 2) == 0);
    CHECK(missing.accepted(2 * m) == BigInt(m) * boost::multiprecision::pow(BigInt(2), m));
  }
}

TEST_CASE("task machines on hand-picked words", "[lang]") {
  const auto accepts = [](const char* lang, const char* word) {
    auto l = builtin(lang);
    return l->accepts(word_of(*l, word));
  };
  CHECK(accepts("binary-addition", "1 1 + 1 = 0 0 1"));  // 3 + 1 = 4
  CHECK(accepts("binary-addition", "1 1 + 1 = 0 0 1 0 0"));
  CHECK_FALSE(accepts("binary-addition", "1 1 + 1 = 0 0"));
  CHECK_FALSE(accepts("binary-addition", "+ 1 = 1"));
  CHECK(accepts("binary-multiplication", "1 1 × 1 1 = 1 0 0 1"));  // 3 * 3 = 9
  CHECK(accepts("binary-multiplication", "0 × 1 1 1 = 0"));
  CHECK(accepts("compute-sqrt", "0 0 0 1 = 0 1"));    // floor(sqrt(8)) = 2
  CHECK(accepts("compute-sqrt", "1 0 0 1 = 1 1 0"));  // floor(sqrt(9)) = 3
  CHECK_FALSE(accepts("compute-sqrt", "0 0 0 1 = 1 1"));
  CHECK(accepts("stack-manipulation", "0 1 POP PUSH 1 # 1 0"));
  CHECK_FALSE(accepts("stack-manipulation", "POP #"));
  CHECK(accepts("modular-arithmetic-brackets", "( ( 3 * 4 ) - - 2 ) = 4"));
  CHECK(accepts("modular-arithmetic-brackets", "( - 2 ) = 3"));
  CHECK_FALSE(accepts("modular-arithmetic-brackets", "( ( 1 ) ) = 1"));
  CHECK(accepts("solve-equation", "( x - 3 ) = 1 # 4"));
  CHECK(accepts("solve-equation", "( 2 - - x ) = 1 # 4"));
  CHECK_FALSE(accepts("solve-equation", "( x - x ) = 0 # 0"));
}
