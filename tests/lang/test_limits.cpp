// Hardening of lang/ (issue "no crash, no silent wrong answer"): every reproducer of that issue
// gives the right answer or a one-line named error, in bounded time and memory. Inputs that
// used to recurse once per symbol or nesting level are long here, so a regression crashes.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "base/error.h"
#include "lang/builtin.h"
#include "lang/count.h"
#include "lang/count_expr.h"
#include "lang/dataset.h"
#include "lang/dfa.h"
#include "lang/regex.h"
#include "lang/sample.h"
#include "lang/spec.h"
#include "lang/words.h"
#include "support/run_saturn.h"

using namespace saturn;
using saturn::test::count_lines;
using saturn::test::run_saturn;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

const Alphabet ab({"a", "b"});

}  // namespace

TEST_CASE("regexes: deep nesting is refused by name, star chains are folded", "[lang]") {
  // 20,000 nested parentheses: a named error, not a stack overflow.
  const std::string deep = repeat("(", 20000) + "a" + repeat(")", 20000);
  CHECK_THAT(error_of([&] { compile_regex(deep, ab); }),
             Catch::Contains("parentheses nested more than 500 deep"));
  // a followed by 100,000 stars is a*: (x*)* = x*.
  const Dfa star = compile_regex("a" + repeat("*", 100000), ab);
  CHECK(!distinguishing_word(star, compile_regex("a*", ab)));
  // Every chain of the three simple operators equals its folded form.
  for (const auto& [chain, folded] :
       std::vector<std::pair<std::string, std::string>>{{"a+?", "a*"},
                                                        {"a?+", "a*"},
                                                        {"a??", "a?"},
                                                        {"a++", "a+"},
                                                        {"(ab)+?b", "(ab)*b"},
                                                        {"a*+?*", "a*"},
                                                        {"a{2}*", "(aa)*"},
                                                        {"a?{2}", "|a|aa"}}) {
    INFO(chain);
    CHECK(!distinguishing_word(compile_regex(chain, ab), compile_regex(folded, ab)));
  }
  // Other repeats of repeats count as nesting.
  CHECK_THAT(error_of([&] { compile_regex("a" + repeat("{2}", 600), ab); }),
             Catch::Contains("repeats nested more than 500 deep"));
  CHECK_THAT(error_of([&] { compile_regex("a{99999999999}", ab); }),
             Catch::Contains("repeat count over 1000"));
  // Multiplying repeats are estimated before the automaton is built.
  CHECK_THAT(error_of([&] { compile_regex("((a{1000}){1000}){1000}", ab); }),
             Catch::Contains("automaton states, over the limit"));
}

TEST_CASE("a regex of 10^5 symbols compiles in bounded time", "[lang]") {
  // a*b*c* followed by 100,000 symbols: 1.5 GB and no output before; now Hopcroft's splits
  // cost the moved states only.
  const Alphabet abc({"a", "b", "c"});
  std::string tail;
  std::uint64_t x = 1;
  for (int i = 0; i < 100000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    tail += "abc"[(x >> 33) % 3];
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Dfa dfa = compile_regex("a*b*c*" + tail, abc);
  CHECK(dfa.num_states() > 100000);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
}

TEST_CASE("count expressions: no recursion per sign, checked arithmetic", "[lang]") {
  // 50,000 unary minus signs: an even number is the identity.
  const auto c = parse_count_constraint(repeat("-", 50000) + "#a > #b", ab);
  CHECK(c.coef == std::vector<std::int64_t>{1, -1});
  CHECK(parse_count_constraint(repeat("-", 50001) + "#a > 0", ab).coef[0] == -1);
  CHECK_THAT(error_of([&] {
               parse_count_constraint(repeat("(", 20000) + "#a" + repeat(")", 20000) + " > 0", ab);
             }),
             Catch::Contains("parentheses nested more than 200 deep"));
  // Products and sums past 10^9 are refused, never wrapped.
  CHECK_THAT(error_of([&] { parse_count_constraint("1000000 * 1000000 #a > 0", ab); }),
             Catch::Contains("out of range"));
  CHECK_THAT(error_of([&] { parse_count_constraint("1000000000 #a + 1000000000 #a > 0", ab); }),
             Catch::Contains("out of range"));
  CHECK_THAT(error_of([&] { parse_count_constraint("#a > 10000000000", ab); }),
             Catch::Contains("number too large"));
  // Offsets after '%' name the whole expression's column.
  try {
    parse_mod_constraint("#a % 3 == #b", ab);
    FAIL("no error");
  } catch (const ExprError& e) {
    CHECK(e.offset == 10);  // at "#b"
  }
}

TEST_CASE("spec files: names, max_depth and alphabets are checked, not narrowed", "[lang]") {
  auto spec = [](const std::string& name, const std::string& accept) {
    return "name = \"" + name + "\"\nalphabet = [\"(\", \")\"]\n[accept]\n" + accept;
  };
  CHECK_THAT(error_of([&] { load_spec(spec(std::string(30000, 'x'), ""), "s.toml"); }),
             Catch::Contains("s.toml:1:8: name 'xxxx"));
  CHECK_THAT(error_of([&] { load_spec(spec("Bad", ""), "s.toml"); }),
             Catch::Contains("must match [a-z0-9_-]+"));
  // 2^31 used to become depth <= -2^31 (the language {ε}).
  CHECK_THAT(error_of([&] {
               load_spec(spec("x", "brackets = [[\"(\", \")\"]]\nmax_depth = 2147483648\n"),
                         "s.toml");
             }),
             Catch::Contains("s.toml:5:13: 'max_depth' must be an integer in 0..2147483647"));
  CHECK_THAT(error_of([&] {
               load_spec(spec("x", "brackets = [[\"(\", \")\"]]\nmax_depth = 2.0\n"), "s.toml");
             }),
             Catch::Contains("'max_depth' must be an integer"));
  // A bound too large to tabulate: the language works without its DFA, and says so.
  const auto deep =
      load_spec(spec("x", "brackets = [[\"(\", \")\"]]\nmax_depth = 100000\n"), "s.toml");
  CHECK(deep->language_class() == "regular");
  CHECK(!deep->dfa());
  CHECK_THAT(deep->class_detail(), Catch::Contains("no DFA built"));
  CHECK(deep->accepts(Alphabet({"(", ")"}).parse("(())")));
  CHECK(!deep->accepts(Alphabet({"(", ")"}).parse(")(")));
  // Unknown keys suggest the nearest.
  CHECK_THAT(error_of([&] { load_spec(spec("x", "regexp = \"a\"\n"), "s.toml"); }),
             Catch::Contains("unknown key 'regexp' in [accept] (did you mean 'regex'?)"));
  // 256 symbols: named with the place.
  std::string many = "name = \"x\"\nalphabet = [";
  for (int i = 0; i < 256; ++i) many += (i ? ", " : "") + ("\"s" + std::to_string(i) + "\"");
  CHECK_THAT(error_of([&] { load_spec(many + "]\n[accept]\n", "s.toml"); }),
             Catch::Contains("s.toml:2:12: alphabet has 256 symbols"));
}

TEST_CASE("the empty word's spelling is reserved", "[lang]") {
  CHECK_THAT(error_of([] { Alphabet({"\"", "a"}); }), Catch::Contains("reserved"));
  CHECK_THAT(error_of([] { Alphabet({"\"\"", "ab"}); }), Catch::Contains("reserved"));
  CHECK_THAT(error_of([] { Alphabet({"a\tb"}); }), Catch::Contains("white space"));
  CHECK(parse_word("\"\"", ab).empty());
  CHECK(parse_word("ab", ab) == Word{0, 1});
  CHECK(format_word({}, ab) == "\"\"");
  // A word file: one word per line, verbatim; errors name FILE:LINE.
  std::istringstream in("ab\n\n\"\"\nba\n");
  std::vector<std::string> seen;
  read_words(in, "w.txt", ab, [&](const std::string& text, const Word&) { seen.push_back(text); });
  CHECK(seen == std::vector<std::string>{"ab", "\"\"", "\"\"", "ba"});
  std::istringstream bad("ab\nac\n");
  CHECK_THAT(error_of([&] { read_words(bad, "w.txt", ab, [](auto&&, auto&&) {}); }),
             Catch::Contains("w.txt:2: unknown symbol 'c'"));
}

TEST_CASE("counting and sampling never recurse per symbol", "[lang]") {
  // A counter language whose table stays small at any length: (ab)* with #a - #b >= 0 on
  // every prefix. Length 40,000 used to overflow the stack (one frame per symbol).
  const auto lang = load_spec(
      "name = \"ab\"\nalphabet = [\"a\", \"b\"]\n[accept]\nregex = \"(ab)*\"\n"
      "prefix_counts = [\"#a - #b >= 0\"]\n",
      "ab.toml");
  REQUIRE(lang->language_class() == "counter");
  Sampler sampler(lang);
  CHECK(sampler.count_accepted(40000) == 1);
  CHECK(sampler.count_accepted(40001) == 0);
  Rng rng(1);
  const auto w = sampler.accepted(40000, rng);
  REQUIRE(w);
  CHECK(w->size() == 40000);
  CHECK(lang->accepts(*w));
  const auto r = sampler.rejected(40000, rng);
  REQUIRE(r);
  CHECK(!lang->accepts(*r));
}

TEST_CASE("long lengths: exact, or a named budget error at once", "[lang]") {
  // Parity at 10^5 by two layers of its DFA: 2^(n-1).
  const auto parity = builtin("parity");
  CHECK(count_accepted_words(*parity, 100000) == boost::multiprecision::pow(BigInt(2), 99999));
  // Majority's table at 10^5 is predicted before it is built: a LimitError in well under a
  // minute, not 12 GB and a crash.
  const auto t0 = std::chrono::steady_clock::now();
  Sampler majority(builtin("majority"));
  CHECK_THROWS_AS(majority.count_accepted(100000), LimitError);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
  // The table limit is named.
  Sampler small(builtin("dyck-2"), 1000);
  CHECK_THAT(error_of([&] { small.count_accepted(400); }),
             Catch::Contains("--table-limit: dyck-2: the exact count table for length 400 needs "
                             "more than 1000 entries"));
}

TEST_CASE("data files are read strictly", "[lang]") {
  const auto dir = saturn::test::scratch_dir("jsonl");
  const auto path = (dir / "d.jsonl").string();
  auto error_for = [&](const std::string& line, int max_length = -1) {
    std::ofstream(path) << "{\"word\":\"ab\",\"label\":1}\n" << line << "\n";
    return error_of([&] { read_json_lines(path, ab, max_length); });
  };
  CHECK(error_for("{\"word\":\"ba\",\"label\":0}") == "no error");
  CHECK_THAT(error_for("{\"word\":\"ba\",\"label\":2}"),
             Catch::Contains(":2: label: expected an integer in [0, 1], got 2"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"label\":true}"), Catch::Contains("got true"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"label\":0.0}"), Catch::Contains("got 0.0"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"length\":3,\"label\":0}"),
             Catch::Contains("length: says 3, but the word has length 2"));
  CHECK_THAT(error_for("{\"word\":\"bab\",\"label\":0}", 2),
             Catch::Contains("longer than the model's max_length (2)"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"label\":0,\"x\":" + repeat("[", 100000) +
                       repeat("]", 100000) + "}"),
             Catch::Contains("nested deeper than 64 levels"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"lable\":0}"),
             Catch::Contains("unknown field \"lable\" (did you mean 'label'?)"));
  CHECK_THAT(error_for("{\"word\":\"ba\",\"label\":0,\"next\":[[\"a\"],[1],[]],"
                       "\"prefix_accepted\":[true,false,true]}"),
             Catch::Contains("next[1][0]: expected a string, got 1"));
  // A file without newlines (/dev/zero) is refused by its line bound, not read whole.
  CHECK_THAT(error_of([] { read_json_lines("/dev/zero", ab); }),
             Catch::Contains("/dev/zero:1: line longer than"));
}

TEST_CASE("lang at the command line: words verbatim, safe outputs, exit codes", "[lang][cli]") {
  // CLI11's [a,b] vector syntax no longer splits words.
  auto r = run_saturn("lang check dyck-2 '[][]' '[]' '[[]]'");
  CHECK(r.code == 0);
  CHECK(r.out == "accept\naccept\naccept\n");
  r = run_saturn("lang check dyck-2 -- '()' '[]' '(())'");
  CHECK(r.out == "accept\naccept\naccept\n");
  r = run_saturn("lang check majority '[a,b]'");
  CHECK(r.code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("WORD 1: unknown symbol '['"));
  CHECK(r.out.empty());
  r = run_saturn("lang check majority '\"\"' aab");
  CHECK(r.out == "reject\naccept\n");
  const auto words = saturn::test::scratch_dir("words") / "w.txt";
  std::ofstream(words) << "aab\n\nabb\n";
  r = run_saturn("lang check majority --words - < " + words.string());
  CHECK(r.out == "accept\nreject\nreject\n");
  r = run_saturn("lang check majority a --frob");
  CHECK(r.code == 2);
  // Outputs: a device stays a device, a full disk is an error.
  struct stat before {};
  REQUIRE(::stat("/dev/null", &before) == 0);
  r = run_saturn("lang sample dyck-1 --lengths 2:4 --per-length 2 -o /dev/null");
  CHECK(r.code == 0);
  struct stat after {};
  REQUIRE(::stat("/dev/null", &after) == 0);
  CHECK(S_ISCHR(after.st_mode));
  const auto err = saturn::test::scratch_dir("full") / "err";
  const int status = std::system(
      (std::string(SATURN_BINARY) + " lang count parity --length 10 >/dev/full 2>" + err.string())
          .c_str());
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(saturn::test::slurp(err), Catch::Contains("standard output: write failed"));
  // Long lengths: exact for regular languages, a one-line named error otherwise.
  r = run_saturn("lang count parity --length 100000");
  CHECK(r.code == 0);
  CHECK(r.out.size() == 30103 + 1);  // 2^99999 has 30,103 digits
  r = run_saturn("lang sample parity --lengths 100000:100000 --per-length 1");
  CHECK(r.code == 0);
  CHECK(r.out.size() > 100000);
  r = run_saturn("lang count majority --length 100000");
  CHECK(r.code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("--table-limit"));
  r = run_saturn("lang count majority --length 5 --table-limit -1");
  CHECK(r.code == 2);
  r = run_saturn(
      "lang sample dyck-1 --lengths 2:4 --per-length 1 --next --next-max-length 1000000000");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--next-max-length: at most 100000"));
  r = run_saturn("lang equiv dyck-1 dyck-1-2 --max-length 1000000000");
  CHECK(r.code == 2);
  r = run_saturn("--memory-limit 1M lang sample parity --lengths 100000:100000 --per-length 1");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("over the memory budget of 1 MiB"));
}

TEST_CASE("regexes whose DFA states hold many NFA states: answered or refused by name", "[lang]") {
  // Issue 23: a*b*c* then N times c has N DFA states of up to N NFA states each (every c read
  // may be the first of the tail), N^2 work: 24 s and 862 MB at N = 10,000 before. Now the
  // subset construction's steps are budgeted: a named refusal, with the place in a spec file.
  const Alphabet abc({"a", "b", "c"});
  for (const int n : {10000, 20000}) {
    CHECK_THAT(error_of([&] { compile_regex("a*b*c*" + repeat("c", n), abc); }),
               Catch::Contains("steps of the subset construction (the regex budget"));
  }
  // A short one of the same kind is answered exactly: a*b*c*ccc accepts a^i b^j c^k, k >= 3.
  const Dfa small = compile_regex("a*b*c*" + repeat("c", 300), abc);
  auto word = [](int a, int b, int c) {
    Word w;
    w.insert(w.end(), a, 0);
    w.insert(w.end(), b, 1);
    w.insert(w.end(), c, 2);
    return w;
  };
  CHECK(small.accepts(word(2, 1, 300)));
  CHECK(!small.accepts(word(2, 1, 299)));
  CHECK(!small.accepts(word(0, 0, 299)));
  CHECK(small.accepts(word(0, 0, 301)));
  CHECK(small.num_states() == 303);  // 0..300 c's read (capped), a/b phases, dead
}

TEST_CASE("a regex over the subset construction's budget is refused naming the spec file",
          "[lang][cli]") {
  // At the command line: exit 2, one line naming the spec file and the budget.
  const auto spec = saturn::test::scratch_dir("regex-budget") / "tail.toml";
  std::ofstream(spec) << "name = \"tail\"\nalphabet = [\"a\", \"b\", \"c\"]\n[accept]\nregex = "
                         "\"a*b*c*"
                      << repeat("c", 10000) << "\"\n";
  const auto r = run_saturn("lang check " + spec.string() + " aaa");
  CHECK(r.code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("tail.toml:4:") &&
                        Catch::Contains("steps of the subset construction (the regex budget"));
}

TEST_CASE("a sample range is sized before its first word", "[lang][cli]") {
  // Issue 23: 1:100000 sampled for minutes before a length was refused; the longest length's
  // table is now predicted first, so nothing is written and the refusal names the table's
  // budget (its entries, or here first the memory its counts of 10^5 bits need).
  auto r = run_saturn("lang sample majority --lengths 1:100000 --per-length 1");
  CHECK(r.code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("--table-limit: majority: the exact count table for length "
                                    "100000"));
  CHECK(r.out.empty());
  // Near-misses start from words one longer: the check covers that length too.
  Sampler majority(builtin("majority"), 100000);
  DatasetOptions o;
  o.min_length = 1;
  o.max_length = 800;
  o.per_length = 1;
  o.negatives = Negatives::near_miss;
  long made = 0;
  CHECK_THROWS_WITH(generate_dataset(majority, o, [&](Example&&) { ++made; }),
                    Catch::Contains("for length 801 needs more than 100000 entries"));
  CHECK(made == 0);
  // A range that fits is sampled as before.
  r = run_saturn("lang sample majority --lengths 1:300 --per-length 1");
  CHECK(r.code == 0);
  CHECK(count_lines(r.out) == 300);
}

TEST_CASE("count_words is k^n, capped instead of wrapping, and word_at counts in symbol order",
          "[lang]") {
  CHECK(count_words(2, 10, 1L << 40) == 1024);
  CHECK(count_words(3, 0, 100) == 1);
  CHECK(count_words(2, 10, 1000) == 1001);  // past the cap: cap + 1
  CHECK(count_words(4, 200, std::numeric_limits<long>::max() / 2) ==
        std::numeric_limits<long>::max() / 2 + 1);  // 4^200 does not wrap
  CHECK(word_at(0, 2, 3) == Word{0, 0, 0});
  CHECK(word_at(6, 2, 3) == Word{1, 1, 0});  // 110 in binary: the last symbol fastest
  CHECK(word_at(5, 3, 2) == Word{1, 2});
  CHECK(word_at(0, 2, 0).empty());
}
