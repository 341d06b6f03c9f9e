// Exact uniform sampling, unranking, near-miss negatives, next-symbol targets, datasets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "lang/brute.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "lang/sample.h"
#include "lang/spec.h"

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include "base/error.h"

using namespace saturn;

namespace {

// Pearson's chi-square statistic of observed counts against a uniform distribution.
double chi_square(const std::map<Word, int>& observed, std::size_t categories, int samples) {
  const double expected = static_cast<double>(samples) / categories;
  double chi2 = 0;
  for (const auto& [w, o] : observed) chi2 += (o - expected) * (o - expected) / expected;
  chi2 += (categories - observed.size()) * expected;  // categories never seen
  return chi2;
}

std::vector<Word> brute_words(const Language& lang, int n, bool accepted) {
  std::vector<Word> out;
  for (const Word& w : test::all_words(lang.alphabet().size(), n))
    if (lang.accepts(w) == accepted) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("accepted Dyck-1 words of length 8 are uniform (chi-square, 20k samples)", "[lang]") {
  Sampler sampler(builtin("dyck-1"));
  Rng rng(12345);
  std::map<Word, int> seen;
  const int samples = 20000;
  for (int i = 0; i < samples; ++i) {
    Word w = *sampler.accepted(8, rng);
    REQUIRE(sampler.language().accepts(w));
    ++seen[w];
  }
  CHECK(seen.size() == 14);  // Catalan(4)
  // 13 degrees of freedom: P(chi2 > 34.53) = 0.001.
  CHECK(chi_square(seen, 14, samples) < 34.53);
}

TEST_CASE("rejected words are uniform (chi-square), including for shuffles", "[lang]") {
  auto [name, n, expected] = GENERATE(std::make_tuple(std::string("dyck-1"), 4, 14),
                                      std::make_tuple(std::string("anbn"), 4, 15),
                                      std::make_tuple(std::string("shuffle-dyck-2"), 3, 64));
  INFO(name);
  Sampler sampler(builtin(name));
  Rng rng(7);
  std::map<Word, int> seen;
  const int samples = 20000;
  for (int i = 0; i < samples; ++i) {
    Word w = *sampler.rejected(n, rng);
    REQUIRE(!sampler.language().accepts(w));
    ++seen[w];
  }
  CHECK(static_cast<int>(seen.size()) == expected);
  // P(chi2 > x) = 0.001 for 13, 14 and 63 degrees of freedom.
  const double critical = expected == 14 ? 34.53 : expected == 15 ? 36.12 : 103.4;
  CHECK(chi_square(seen, expected, samples) < critical);
}

TEST_CASE("shuffle-Dyck accepted words are uniform (chi-square over its 10 words of length 4)",
          "[lang]") {
  Sampler sampler(builtin("shuffle-dyck-2"));
  Rng rng(99);
  std::map<Word, int> seen;
  const int samples = 20000;
  for (int i = 0; i < samples; ++i) ++seen[*sampler.accepted(4, rng)];
  REQUIRE(seen.size() == brute_words(sampler.language(), 4, true).size());
  CHECK(seen.size() == 10);
  CHECK(chi_square(seen, 10, samples) < 27.88);  // 9 dof, p = 0.001
}

TEST_CASE("unranking is a bijection onto the accepted (rejected) words", "[lang]") {
  auto name = GENERATE(as<std::string>{}, "dyck-2", "majority", "tomita-3", "shuffle-dyck-2",
                       "marked-copy", "unmarked-reversal", "anbm-less");
  INFO(name);
  Sampler sampler(builtin(name));
  const int n = sampler.language().alphabet().size() <= 2 ? 9 : 5;
  for (bool accepted : {true, false}) {
    auto expected = brute_words(sampler.language(), n, accepted);
    const BigInt total = accepted ? sampler.count_accepted(n) : sampler.count_rejected(n);
    REQUIRE(total == expected.size());
    std::set<Word> got;
    for (std::size_t i = 0; i < expected.size(); ++i)
      got.insert(accepted ? sampler.unrank_accepted(n, i) : sampler.unrank_rejected(n, i));
    CHECK(std::vector<Word>(got.begin(), got.end()) == expected);  // brute force is sorted
  }
}

TEST_CASE("shuffle decomposition counts equal the joint-counter DP", "[lang]") {
  // The same language written so that it does not split (a vacuous regex joins the parts).
  auto joint = load_spec(R"spec(name = "joint"
alphabet = ["(", ")", "[", "]"]
[accept]
regex = ".*"
prefix_counts = ["#'(' >= #')'", "#'[' >= #']'"]
counts = ["#'(' == #')'", "#'[' == #']'"]
)spec",
                         "joint.toml");
  Sampler split(builtin("shuffle-dyck-2")), whole(joint);
  for (int n = 0; n <= 40; ++n) CHECK(split.count_accepted(n) == whole.count_accepted(n));
}

TEST_CASE("every built-in samples accepted words at lengths up to 500 (or its stated limit)",
          "[lang]") {
  auto name = GENERATE(from_range(builtin_names()));
  INFO(name);
  Sampler sampler(builtin(name));
  Rng rng(1);
  int sampled = 0;
  // Languages counted by enumeration state a shorter limit: they sample up to 14 here.
  const int last = builtin(name)->enumeration_limit() > 0 ? 14 : 500;
  for (int n = last - 3; n <= last; ++n) {
    if (sampler.count_accepted(n) == 0) continue;
    Word w = *sampler.accepted(n, rng);
    CHECK(static_cast<int>(w.size()) == n);
    CHECK(sampler.language().accepts(w));
    ++sampled;
  }
  // Every built-in has words at one of four consecutive lengths, except a^n b^n c^n (one in three)
  // and the single-letter (aa)* (one in two).
  CHECK(sampled >= 1);
}

TEST_CASE("near-miss negatives are rejected and one edit from an accepted word", "[lang]") {
  auto name = GENERATE(as<std::string>{}, "dyck-1", "anbn", "majority", "tomita-3");
  INFO(name);
  Sampler sampler(builtin(name));
  const Language& lang = sampler.language();
  Rng rng(3);
  const int n = 8;
  std::vector<Word> near_accepted;
  for (int len : {n - 1, n, n + 1})
    for (auto& w : brute_words(lang, len, true)) near_accepted.push_back(w);
  auto one_edit = [&](const Word& a, const Word& b) {
    if (a.size() == b.size()) {
      std::vector<std::size_t> diff;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) diff.push_back(i);
      return diff.size() == 1 || (diff.size() == 2 && diff[1] == diff[0] + 1 &&
                                  a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]);
    }
    const Word& longer = a.size() > b.size() ? a : b;
    const Word& shorter = a.size() > b.size() ? b : a;
    if (longer.size() != shorter.size() + 1) return false;
    for (std::size_t i = 0; i < longer.size(); ++i) {
      Word x = longer;
      x.erase(x.begin() + static_cast<std::ptrdiff_t>(i));
      if (x == shorter) return true;
    }
    return false;
  };
  for (int i = 0; i < 50; ++i) {
    auto w = sampler.near_miss(n, rng);
    REQUIRE(w);
    CHECK(static_cast<int>(w->size()) == n);
    CHECK(!lang.accepts(*w));
    CHECK(std::any_of(near_accepted.begin(), near_accepted.end(),
                      [&](const Word& a) { return one_edit(a, *w); }));
  }
}

TEST_CASE("next-symbol targets agree with brute-force completion", "[lang]") {
  auto name = GENERATE(as<std::string>{}, "dyck-1", "dyck-2", "anbn", "shuffle-dyck-2",
                       "marked-reversal", "tomita-7");
  INFO(name);
  Sampler sampler(builtin(name));
  const Language& lang = sampler.language();
  const int k = lang.alphabet().size(), bound = k <= 2 ? 10 : 7;
  // All accepted words up to the bound; a prefix p may continue with s iff some has prefix p s.
  std::vector<Word> accepted;
  for (int len = 0; len <= bound; ++len)
    for (auto& w : brute_words(lang, len, true)) accepted.push_back(w);
  Rng rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const int len = static_cast<int>(rng() % (bound + 1));
    Word w(len);
    for (auto& s : w) s = static_cast<Symbol>(rng() % k);
    NextTargets t = sampler.next_targets(w, bound);
    REQUIRE(t.next.size() == w.size() + 1);
    for (std::size_t i = 0; i <= w.size(); ++i) {
      Word prefix(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(i));
      CHECK(t.prefix_accepted[i] == lang.accepts(prefix));
      for (int s = 0; s < k; ++s) {
        Word ext = prefix;
        ext.push_back(static_cast<Symbol>(s));
        bool expected = std::any_of(accepted.begin(), accepted.end(), [&](const Word& a) {
          return a.size() >= ext.size() && std::equal(ext.begin(), ext.end(), a.begin());
        });
        bool got = std::find(t.next[i].begin(), t.next[i].end(), s) != t.next[i].end();
        INFO("prefix '" << lang.alphabet().format(prefix) << "' symbol "
                        << lang.alphabet().name(s));
        CHECK(got == expected);
      }
    }
  }
}

TEST_CASE("datasets are deterministic for a seed, labelled right, and distinct when asked",
          "[lang]") {
  DatasetOptions o;
  o.min_length = 0;
  o.max_length = 12;
  o.per_length = 20;
  o.negatives = Negatives::mixed;
  o.seed = 42;
  Sampler s1(builtin("dyck-1")), s2(builtin("dyck-1"));
  Dataset a = make_dataset(s1, o), b = make_dataset(s2, o);
  REQUIRE(a.examples.size() == b.examples.size());
  for (std::size_t i = 0; i < a.examples.size(); ++i)
    CHECK(a.examples[i].word == b.examples[i].word);
  for (const auto& e : a.examples) CHECK(s1.language().accepts(e.word) == (e.label == 1));

  o.seed = 43;
  Dataset c = make_dataset(s1, o);
  bool differs = false;
  for (std::size_t i = 0; i < std::min(a.examples.size(), c.examples.size()); ++i)
    differs = differs || a.examples[i].word != c.examples[i].word;
  CHECK(differs);

  o.distinct = true;
  o.negatives = Negatives::uniform;
  Dataset d = make_dataset(s1, o);
  std::set<std::pair<Word, int>> unique;
  for (const auto& e : d.examples) unique.insert({e.word, e.label});
  CHECK(unique.size() == d.examples.size());
  // Length 6 has 5 Dyck words: capped, with a note; odd lengths have none: skipped.
  CHECK(std::count_if(d.examples.begin(), d.examples.end(),
                      [](const Example& e) { return e.word.size() == 6 && e.label == 1; }) == 5);
  CHECK(std::any_of(d.notes.begin(), d.notes.end(),
                    [](const std::string& n) { return n.find("only 5") != n.npos; }));
  CHECK(std::any_of(d.notes.begin(), d.notes.end(), [](const std::string& n) {
    return n.find("no accepted words at 6 lengths") != n.npos;
  }));
}

TEST_CASE("JSON lines carry word, length, label and next-symbol targets", "[lang]") {
  auto lang = builtin("dyck-1");
  Sampler sampler(lang);
  Example e{lang->alphabet().parse("()"), 1, sampler.next_targets(lang->alphabet().parse("()"), 4)};
  CHECK(
      to_json_line(e, lang->alphabet()) ==
      R"json({"word":"()","length":2,"label":1,"next":[["("],["(",")"],["("]],"prefix_accepted":[true,false,true]})json");
}

TEST_CASE("JSON lines read back what was written, and bad lines are named", "[lang]") {
  auto lang = builtin("dyck-1");
  Sampler sampler(lang);
  DatasetOptions o;
  o.min_length = 0;
  o.max_length = 6;
  o.per_length = 3;
  o.negatives = Negatives::uniform;
  o.next = true;
  Dataset d = make_dataset(sampler, o);
  const std::string path = "/tmp/saturn-jsonl-" + std::to_string(::getpid()) + ".jsonl";
  {
    std::ofstream out(path);
    for (const auto& e : d.examples) out << to_json_line(e, lang->alphabet()) << "\n";
  }
  auto back = read_json_lines(path, lang->alphabet());
  REQUIRE(back.size() == d.examples.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].word == d.examples[i].word);
    CHECK(back[i].label == d.examples[i].label);
    REQUIRE(back[i].next);
    CHECK(back[i].next->next == d.examples[i].next->next);
    CHECK(back[i].next->prefix_accepted == d.examples[i].next->prefix_accepted);
  }
  std::ofstream(path) << R"j({"word":"()","length":2,"label":1})j"
                      << "\n"
                      << R"j({"word":"(x","label":0})j"
                      << "\n";
  try {
    read_json_lines(path, lang->alphabet());
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains(path + ":2: word: unknown symbol 'x'"));
  }
  std::remove(path.c_str());
}

TEST_CASE("Data files: labels are checked against the language, naming the line", "[lang]") {
  const auto lang = resolve_language("parity");
  const std::string path = "/tmp/saturn-labels-" + std::to_string(::getpid()) + ".jsonl";
  std::ofstream(path) << R"({"word":"1","label":1})"
                      << "\n\n"
                      << R"({"word":"","label":0})"
                      << "\n"
                      << R"({"word":"111","label":0})"
                      << "\n";
  // Without the check the file reads (noisy data on purpose); with it, line 4 is refused.
  CHECK(read_json_lines(path, lang->alphabet()).size() == 3);
  try {
    read_json_lines(path, lang->alphabet(), -1, lang.get());
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          path +
              ":4: label: is 0, but the word 111 is in parity (--no-check-labels accepts "
              "mislabelled data)");
  }
  std::ofstream(path) << R"({"word":"","label":1})"
                      << "\n";
  try {
    read_json_lines(path, lang->alphabet(), -1, lang.get());
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          path +
              ":1: label: is 1, but the empty word is not in parity (--no-check-labels "
              "accepts mislabelled data)");
  }
  std::remove(path.c_str());
}
