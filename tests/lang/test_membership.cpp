// Every built-in's machine, and its exact count tables, against an independent brute-force
// predicate on all words up to a length where enumeration is cheap.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "lang/brute.h"
#include "lang/builtin.h"
#include "lang/count.h"
#include "lang/spec.h"

using namespace saturn;

namespace {
// Longest length enumerated for an alphabet of k symbols (>= 12 for binary alphabets).
int max_brute_length(int k) {
  return k <= 1 ? 20 : k == 2 ? 14 : k == 3 ? 9 : k == 4 ? 8 : 6;
}
}  // namespace

TEST_CASE("every built-in has a brute-force twin", "[lang]") {
  const auto& preds = test::brute_force_predicates();
  for (const auto& name : builtin_names()) {
    INFO(name);
    CHECK(preds.count(name) == 1);
  }
  CHECK(builtin_names().size() >= 30);
}

TEST_CASE("built-in machines and counts agree with brute force on all short words", "[lang]") {
  const auto& preds = test::brute_force_predicates();
  auto name = GENERATE(from_range(builtin_names()));
  INFO("language " << name);
  auto lang = builtin(name);
  REQUIRE(lang);
  REQUIRE(preds.count(name) == 1);
  const auto& pred = preds.at(name);
  const int k = lang->alphabet().size();
  CountTable table(lang);
  for (int n = 0; n <= max_brute_length(k); ++n) {
    long long accepted = 0;
    for (const Word& w : test::all_words(k, n)) {
      std::vector<std::string> names;
      for (Symbol s : w) names.push_back(lang->alphabet().name(s));
      const bool expected = pred(names);
      accepted += expected;
      if (lang->accepts(w) != expected) FAIL_CHECK("word '" << lang->alphabet().format(w) << "'");
      if (lang->dfa() && lang->dfa()->accepts(w) != expected)
        FAIL_CHECK("minimal DFA on '" << lang->alphabet().format(w) << "'");
    }
    INFO("length " << n);
    CHECK(table.accepted(n) == accepted);
    CHECK(table.rejected(n) + accepted == table.power(n));
  }
}

TEST_CASE("every built-in names its source, and specs may too", "[lang]") {
  for (const auto& name : builtin_names()) {
    INFO(name);
    CHECK_FALSE(builtin(name)->source().empty());
  }
  CHECK(builtin("tomita-3-weiss")->source() == "Weiss et al. 2018");
  CHECK(builtin("cycle-navigation")->source() == "FLaRe, CH");
  const auto l = load_spec(
      "name = \"x\"\nsource = \"my paper\"\nalphabet = [\"a\"]\n[accept]\nregex = \"a*\"\n",
      "s.toml");
  CHECK(l->source() == "my paper");
  try {
    load_spec("name = \"x\"\nsource = 3\nalphabet = [\"a\"]\n[accept]\nregex = \"a*\"\n", "s.toml");
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "s.toml:2:10: 'source' must be a string");
  }
}
