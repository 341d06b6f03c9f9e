// Spec files: the examples load and mean what they say; the constraint language composes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "lang/brute.h"
#include "lang/builtin.h"
#include "lang/count_expr.h"
#include "lang/equiv.h"
#include "lang/sample.h"
#include "lang/spec.h"

using namespace saturn;

namespace {
std::filesystem::path example(const std::string& file) {
  return std::filesystem::path(SATURN_SOURCE_DIR) / "examples" / "languages" / file;
}
std::shared_ptr<const Language> spec(const std::string& body) {
  return load_spec(body, "test.toml");
}
}  // namespace

TEST_CASE("every example spec agrees with its built-in twin", "[lang]") {
  auto [file, twin] = GENERATE(table<std::string, std::string>({{"anbn.toml", "anbn"},
                                                                {"majority.toml", "majority"},
                                                                {"dyck2.toml", "dyck-2"},
                                                                {"shuffle2.toml", "shuffle-dyck-2"},
                                                                {"parity.toml", "parity"},
                                                                {"tomita3.toml", "tomita-3"}}));
  INFO(file);
  auto lang = load_spec_file(example(file));
  auto result = check_equivalence(*lang, *builtin(twin), 12);
  CHECK(result.equivalent());
  CHECK(result.exact == (lang->language_class() == "regular"));
  CHECK(lang->language_class() == builtin(twin)->language_class());
}

TEST_CASE("not_anbn.toml is the complement of anbn", "[lang]") {
  auto lang = load_spec_file(example("not_anbn.toml"));
  auto anbn = builtin("anbn");
  for (int n = 0; n <= 12; ++n)
    for (const Word& w : test::all_words(2, n)) REQUIRE(lang->accepts(w) != anbn->accepts(w));
  CHECK(lang->language_class() == "counter");
}

TEST_CASE("every example spec file loads", "[lang]") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(example("")))
    if (entry.path().extension() == ".toml") {
      INFO(entry.path());
      CHECK_NOTHROW(load_spec_file(entry.path()));
      ++files;
    }
  CHECK(files >= 7);
}

TEST_CASE("count expressions parse to linear constraints", "[lang]") {
  Alphabet a({"a", "b", "("});
  auto c = parse_count_constraint("2#a - #b + 1 > 0", a);
  CHECK(c.coef == std::vector<std::int64_t>{2, -1, 0});
  CHECK(c.op == CmpOp::gt);
  CHECK(c.rhs == -1);
  auto d = parse_count_constraint("#'(' >= 3(#a - #b)", a);
  CHECK(d.coef == std::vector<std::int64_t>{-3, 3, 1});
  CHECK(d.op == CmpOp::ge);
  auto m = parse_mod_constraint("(#a - #b) % 4 == 1", a);
  CHECK(m.coef == std::vector<std::int64_t>{1, -1, 0});
  CHECK(m.modulus == 4);
  CHECK(m.rhs == 1);
  CHECK_THROWS_AS(parse_count_constraint("#a * #b == 1", a), ExprError);
  CHECK_THROWS_AS(parse_count_constraint("#c == 1", a), ExprError);
}

TEST_CASE("all, any, not, prefix_counts, mod and brackets compose", "[lang]") {
  // Dyck-1 words with an even number of '(' pairs... and not starting with "()".
  auto lang = spec(R"spec(name = "combo"
alphabet = ["(", ")", "x"]
[accept]
brackets = [["(", ")"]]
mod = ["#'(' % 2 == 0"]
not = { regex = '\(\).*' }
any = [{ regex = "x.*" }, { prefix_counts = ["#x <= 1"] }]
)spec");
  auto check = [&](const std::string& w) { return lang->accepts(lang->alphabet().parse(w)); };
  CHECK(check(""));
  CHECK(check("(())"));
  CHECK(check("x(x())"));        // starts with x: any number of x
  CHECK_FALSE(check("()()"));    // starts with ()
  CHECK_FALSE(check("(x)()x"));  // two x, not first
  CHECK_FALSE(check("(()"));
  CHECK_FALSE(check("()"));  // odd number of '(' and starts with ()
  CHECK(lang->language_class() == "counter");
  // Exact counts against brute force: the composite keys must not lose information.
  Sampler sampler(lang);
  for (int n = 0; n <= 9; ++n) {
    long long brute = 0;
    for (const Word& w : test::all_words(3, n)) brute += lang->accepts(w);
    CHECK(sampler.count_accepted(n) == brute);
  }
}

TEST_CASE("an empty [accept] accepts every word, and max_depth makes brackets regular", "[lang]") {
  auto all = spec("name = \"all\"\nalphabet = [\"a\"]\n[accept]\n");
  CHECK(all->accepts({0, 0, 0}));
  CHECK(all->language_class() == "regular");
  auto bounded = spec(
      "name = \"b\"\nalphabet = [\"(\", \")\"]\n[accept]\nbrackets = [[\"(\", \")\"]]\nmax_depth = "
      "2\n");
  CHECK(bounded->language_class() == "regular");
  CHECK(check_equivalence(*bounded, *builtin("dyck-1-2"), 0).exact);
  CHECK(check_equivalence(*bounded, *builtin("dyck-1-2"), 0).equivalent());
}

TEST_CASE("bounded equivalence finds a shortest witness for non-regular languages", "[lang]") {
  auto r = check_equivalence(*builtin("count-eq"), *builtin("anbn"), 10);
  REQUIRE(r.witness);
  CHECK(*r.witness == Word{1, 0});  // "ba"
  CHECK_FALSE(r.exact);
  auto s = check_equivalence(*builtin("dyck-1"), *builtin("dyck-1-2"), 10);
  REQUIRE(s.witness);
  CHECK(*s.witness == Word{0, 0, 0, 1, 1, 1});  // "((()))": depth 3
  CHECK_THROWS_AS(check_equivalence(*builtin("dyck-1"), *builtin("majority"), 4), InputError);
}
