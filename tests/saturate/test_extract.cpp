// [saturate]: per-head tolerances and uniform heads (float and exact), their circuit files,
// faithful extraction, and the norm fit with an estimated exponent.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "base/error.h"
#include "hand_built.h"
#include "lang/builtin.h"
#include "nets/attention.h"
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "saturate/extract.h"
#include "saturate/head_roles.h"
#include "saturate/norm_fit.h"

using namespace saturn;
using namespace saturn::saturate;

namespace {

// Query 0's hard weights over scores s (one head, dh = T; see test_saturate.cpp).
std::vector<double> hard_weights(const std::vector<double>& s, double tolerance) {
  const int T = static_cast<int>(s.size()), C = T;
  std::vector<double> qkv(static_cast<std::size_t>(T) * 3 * C, 0.0), out(T * C), att(T * T);
  for (int j = 0; j < T; ++j) {
    qkv[j * 3 * C + 0] = 1.0;
    qkv[j * 3 * C + C + 0] = s[j] * std::sqrt(double(C));
    qkv[j * 3 * C + 2 * C + j] = 1.0;
  }
  nets::AttentionSpec spec;
  spec.hard = nets::HardAttention::average;
  spec.tolerance = {tolerance};
  const int lengths[1] = {T};
  nets::attention_forward(out.data(), att.data(), qkv.data(), lengths, spec, 1, T, C, 1);
  return std::vector<double>(att.begin(), att.begin() + T);
}

std::vector<Example> words_up_to(int max_length) {
  std::vector<Example> out;
  auto majority = builtin("majority");
  for (int n = 0; n <= max_length; ++n)
    for (long i = 0; i < (1L << n); ++i) {
      Word w(n);
      for (int t = 0; t < n; ++t) w[t] = static_cast<Symbol>((i >> (n - 1 - t)) & 1);
      out.push_back({w, majority->accepts(w) ? 1 : 0, std::nullopt});
    }
  return out;
}

// The hand-built uniform majority model with small random queries and keys: its scores differ
// by noise, as a trained counting head's do, so the argmax limit picks arbitrary positions.
nets::Transformer<double> noisy_majority_model() {
  auto m = test::uniform_majority_model();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> noise(-0.02, 0.02);
  double* wqkv = m.param("layers.0.attn.wqkv");
  for (int r = 0; r < 2 * 4; ++r)
    for (int c = 0; c < 4; ++c) wqkv[r * 4 + c] = noise(rng);
  return m;
}

}  // namespace

TEST_CASE("a head's tolerance widens its attended set, and infinity attends to every key",
          "[saturate]") {
  const std::vector<double> s = {0.0, -0.1, -1.0, 0.05};
  CHECK(hard_weights(s, 0.0) == std::vector<double>{0, 0, 0, 1});
  const auto w = hard_weights(s, 0.2);  // keys within 0.2 of 0.05: 0, 1 and 3
  CHECK(w[0] == Approx(1.0 / 3));
  CHECK(w[1] == Approx(1.0 / 3));
  CHECK(w[2] == 0);
  CHECK(w[3] == Approx(1.0 / 3));
  for (double x : hard_weights(s, INFINITY)) CHECK(x == 0.25);
}

TEST_CASE("uniform heads make a noisy counting head's circuit exact, float and exact agree",
          "[saturate]") {
  auto model = noisy_majority_model();
  const auto words = words_up_to(10);
  const Alphabet ab({"a", "b"});
  TieRule argmax, uniform;
  uniform.tolerance = {INFINITY};
  auto correct = [&](const TieRule& tie) {
    tie.apply(model);
    const auto out = run_model(model, words);
    long right = 0;
    for (std::size_t i = 0; i < words.size(); ++i)
      right += (out.decision[i] > 0) == (words[i].label == 1);
    return right;
  };
  CHECK(correct(uniform) == static_cast<long>(words.size()));
  CHECK(correct(argmax) < static_cast<long>(words.size()) * 9 / 10);

  const std::vector<double> params(model.params.begin(), model.params.end());
  const Circuit c = make_circuit(model.config(), params, ab, 20, uniform);
  REQUIRE(c.tolerance == std::vector<long long>{kUniform});
  const ExactEvaluator exact(c);
  for (const auto& e : words)
    REQUIRE((exact.run(e.word).verdict == Verdict::accept) == (e.label == 1));
  // The file keeps the tolerance; a bad entry is refused by its JSON path.
  const Circuit back = parse_circuit(circuit_json(c), "c.json");
  CHECK(back.tolerance == c.tolerance);
  CHECK(std::isinf(back.tie.tolerance.at(0)));
  std::string text = circuit_json(c);
  text.replace(text.find("\"uniform\""), 9, "\"wide\"");
  CHECK_THROWS_WITH(parse_circuit(text, "c.json"),
                    Catch::Contains("attention.tolerance[0][0]") && Catch::Contains("uniform"));
}

TEST_CASE("a finite tolerance is exact in the circuit: keys on the threshold are attended",
          "[saturate]") {
  // Scores (raw q.k) in a one-head circuit are exact rationals; with tolerance 1/4 a key whose
  // score is exactly max - 1/4 is in the set, one below is out. Checked through the exact
  // evaluator against the float network on all words to length 8.
  auto model = noisy_majority_model();
  const auto words = words_up_to(8);
  const Alphabet ab({"a", "b"});
  TieRule tie;
  tie.tolerance = {0.01};
  const std::vector<double> params(model.params.begin(), model.params.end());
  const Circuit c = make_circuit(model.config(), params, ab, 16, tie);
  REQUIRE(c.tolerance.size() == 1);
  CHECK(c.tolerance[0] == static_cast<long long>(std::floor(0.01 * 2 * 65536)));  // sqrt(dh) = 2
  auto m = circuit_model(c);
  c.tie.apply(m);
  const auto out = run_model(m, words);
  const ExactEvaluator exact(c);
  long agree = 0, decided = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto r = exact.run(words[i].word);
    if (r.verdict == Verdict::undecided) continue;
    ++decided;
    agree += (r.verdict == Verdict::accept) == (out.decision[i] > 0);
  }
  CHECK(decided == static_cast<long>(words.size()));
  CHECK(agree == decided);
}

TEST_CASE("head roles name uniform heads and absolute positions", "[saturate]") {
  auto model = noisy_majority_model();
  const Alphabet ab({"a", "b"});
  TieRule uniform;
  uniform.tolerance = {INFINITY};
  const auto roles = head_roles(model, ab, words_up_to(6), uniform);
  REQUIRE(roles.size() == 1);
  CHECK(roles[0].label == "global");
  CHECK(roles[0].pattern == "all positions");
}

TEST_CASE("faithfulness counts agreement per length, in and out of range", "[saturate]") {
  auto model = test::uniform_majority_model();
  const Alphabet ab({"a", "b"});
  TieRule tie;
  tie.tolerance = {INFINITY};
  const std::vector<double> params(model.params.begin(), model.params.end());
  const Circuit c = make_circuit(model.config(), params, ab, 4, tie);
  const auto words = words_up_to(6);
  std::vector<bool> reference;
  for (const auto& e : words) reference.push_back(e.label == 1);
  reference[3] = !reference[3];  // one disagreement, at length 2 (words 0, a, b, aa, ...)
  const Faithfulness f = faithfulness(c, words, reference, 4);
  CHECK(f.in_range().words == 31);  // lengths 0..4
  CHECK(f.in_range().agree == 30);
  CHECK(f.out_of_range().words == 32 + 64);
  CHECK(f.out_of_range().rate() == 1.0);
  CHECK(f.per_length.at(2).agree == 3);
}

TEST_CASE("the norm fit estimates the exponent with an interval, and names no best when none fits",
          "[saturate]") {
  std::vector<double> t, rho, noise;
  std::mt19937 rng(3);
  std::normal_distribution<double> eps(0, 0.01);
  std::uniform_real_distribution<double> jump(0, 10);
  for (int i = 1; i <= 200; ++i) {
    t.push_back(10.0 * i);
    rho.push_back(2 + 0.5 * std::pow(10.0 * i, 0.37) + eps(rng));
    noise.push_back(jump(rng));
  }
  const auto fits = norm_growth_fit(t, rho);
  const auto power = std::find_if(fits.begin(), fits.end(), [](auto& f) { return f.f == "t^p"; });
  REQUIRE(power != fits.end());
  CHECK(power->p == Approx(0.37).margin(0.02));
  CHECK(power->p_lo <= 0.37);
  CHECK(power->p_hi >= 0.37);
  CHECK(power->p_hi - power->p_lo < 0.1);
  CHECK(fits.front().f == "t^p");
  CHECK(norm_growth_fit(t, noise).front().r2 < kGoodFit);
}
