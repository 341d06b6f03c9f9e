// [loop]: faithfulness over every word (loop/exhaustive.h) on a hand-set model and circuit whose
// decisions are known in closed form, checked against a brute-force count in the test.
#include <catch2/catch.hpp>

#include <cmath>

#include "lang/builtin.h"
#include "lang/words.h"
#include "loop/exhaustive.h"
#include "saturate/extract.h"
#include "saturate/hand_built.h"

using namespace saturn;

namespace {

nets::Checkpoint checkpoint_of(const nets::Transformer<double>& m) {
  nets::Checkpoint c;
  c.config.model = m.config();
  c.num_symbols = 2;
  c.params.assign(m.params.begin(), m.params.end());
  return c;
}

}  // namespace

TEST_CASE("all-words faithfulness: per length counts, least disagreement, model and circuit reach",
          "[loop]") {
  // The model averages +1 (a), -1 (b), -0.5 (BOS), 0 (EOS): it accepts #a > #b, as majority.
  // The circuit is the same network with BOS at +0.5: it accepts #a >= #b, so the two disagree
  // exactly on the words with #a == #b.
  auto model = test::uniform_majority_model();
  const auto language = builtin("majority");
  auto shifted = test::uniform_majority_model();
  shifted.param("embed.wte")[2 * 4 + 0] = 0.5;
  saturate::TieRule tie;
  tie.tolerance = {INFINITY};
  const std::vector<double> params(shifted.params.begin(), shifted.params.end());
  const saturate::Circuit circuit =
      saturate::make_circuit(shifted.config(), params, language->alphabet(), 4, tie);
  const nets::Checkpoint cp = checkpoint_of(model);

  const int lo = 1, hi = 8;
  std::vector<Example> probes;  // every word of lengths 1..8, as the sampled lengths' probes
  for (int n = lo; n <= hi; ++n)
    for (long i = 0; i < (1L << n); ++i) {
      const Word w = word_at(i, 2, n);
      probes.push_back({w, language->accepts(w) ? 1 : 0, std::nullopt});
    }
  const auto soft = saturate::soft_decisions(cp, probes);
  saturate::Faithfulness f = saturate::faithfulness(circuit, probes, soft, 4);

  const int max_words = GENERATE(64, 0);
  const auto e =
      loop::measure_all_words(cp, circuit, *language, probes, lo, hi, max_words, std::nullopt, f);

  // Brute force: per length, the words with #a == #b are the only disagreements.
  for (int n = lo; n <= hi; ++n) {
    long ties = 0;
    for (long i = 0; i < (1L << n); ++i) {
      const Word w = word_at(i, 2, n);
      long a = 0;
      for (Symbol s : w) a += s == 0;
      ties += 2 * a == n;
    }
    INFO("length " << n);
    CHECK(f.per_length.at(n).words == (1L << n));
    CHECK(f.per_length.at(n).agree == (1L << n) - ties);
    CHECK(e.method.at(n) == ((1L << n) <= max_words ? "all" : "sampled"));
  }
  REQUIRE(e.least_disagreement);
  CHECK(*e.least_disagreement == Word{0, 1});  // "ab": the shortlex least word with #a == #b
  if (max_words == 64) {
    CHECK(e.least_is_least);
    CHECK(e.words == 2 + 4 + 8 + 16 + 32 + 64);
    CHECK(e.model_correct_up_to == 6);         // right on every word, enumerated to length 6
    CHECK(e.circuit_equals_model_up_to == 1);  // length 2 has "ab"
    REQUIRE(e.model_margin);
    // The smallest |logit| = |-0.5| / (n + 2) over [BOS] w [EOS] at n = 6 with #a == #b.
    CHECK(*e.model_margin == Approx(0.5 / 8));
  } else {
    CHECK_FALSE(e.least_is_least);  // found among probes
    CHECK(e.words == 0);
    CHECK(e.model_correct_up_to == lo - 1);
    CHECK(e.circuit_equals_model_up_to == lo - 1);
    CHECK_FALSE(e.model_margin);
  }
}
