// [saturate]: sparsemax circuits. The exact evaluator against hand-computed rationals on a
// hand-set model and against the float forward on random words and weights; the circuit file
// round trip and the rule/architecture consistency checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "base/error.h"
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "saturate/probe.h"

using namespace saturn;
using namespace saturn::saturate;

namespace {

// One layer, one head, dh = 4 (sqrt = 2), attention_scale 1: query q_0 = x_1 (the BOS flag), key
// k_0 = x_0 (the token sign: a 1, b -1, BOS -1/2, EOS 0), so the BOS query's scores are half
// the signs: a 1/2, b -1/2, BOS -1/4, EOS 0. Values v_3 = x_0, copied to the logit.
nets::Transformer<double> sign_model() {
  nets::ModelConfig c;
  c.d_model = 4, c.n_heads = 1, c.n_layers = 1, c.d_ff = 4;
  c.norm_position = nets::NormPosition::none;
  c.positional = nets::Positional::none;
  c.bias = false;
  c.readout = nets::Readout::bos;
  c.set("attention", "sparsemax");
  nets::Transformer<double> m(c, 2);
  auto set = [&](const char* name, int row, int col, double v) {
    m.param(name)[row * 4 + col] = v;
  };
  set("embed.wte", 0, 0, 1.0);   // a
  set("embed.wte", 1, 0, -1.0);  // b
  set("embed.wte", 2, 0, -0.5);  // BOS
  set("embed.wte", 2, 1, 1.0);
  set("embed.wte", 3, 2, 1.0);            // EOS
  set("layers.0.attn.wqkv", 0, 1, 1.0);   // q_0 = x_1
  set("layers.0.attn.wqkv", 4, 0, 1.0);   // k_0 = x_0
  set("layers.0.attn.wqkv", 11, 0, 1.0);  // v_3 = x_0
  set("layers.0.attn.wo", 3, 3, 1.0);
  set("head.w", 0, 3, 1.0);
  return m;
}

Circuit circuit_of(const nets::Transformer<double>& m, int bits) {
  const std::vector<double> params(m.params.begin(), m.params.end());
  return make_circuit(m.config(), params, Alphabet({"a", "b"}), bits, TieRule{});
}

Word random_word(std::mt19937& rng, int n) {
  Word w(n);
  for (auto& s : w) s = static_cast<Symbol>(rng() % 2);
  return w;
}

}  // namespace

TEST_CASE("sparsemax circuit: exact logits equal hand-computed rationals", "[saturate]") {
  const Circuit c = circuit_of(sign_model(), 8);
  const ExactEvaluator exact(c);
  // "ab": scores (BOS -1/4, a 1/2, b -1/2, EOS 0): support {a, EOS}, tau = -1/4, BOS exactly on
  // tau (weight 0); weights 3/4 and 1/4; logit 3/4 * 1 + 1/4 * 0.
  const auto ab = exact.run(Word{0, 1});
  REQUIRE(ab.logit.exact());
  CHECK(ab.logit.lo == Rational(3, 4));
  CHECK(ab.verdict == Verdict::accept);
  // "bb": full support, tau = -9/16: weights BOS 5/16, b 1/16 each, EOS 9/16; logit -9/32.
  const auto bb = exact.run_rational(Word{1, 1});
  REQUIRE(bb.logit.exact());
  CHECK(bb.logit.lo == Rational(-9, 32));
  CHECK(bb.verdict == Verdict::reject);
  // The float model agrees.
  auto m = circuit_model(c);
  c.tie.apply(m);
  const auto out = run_model(m, {{Word{0, 1}, 1, std::nullopt}, {Word{1, 1}, 0, std::nullopt}});
  CHECK(out.decision[0] == Approx(0.75).epsilon(1e-12));
  CHECK(out.decision[1] == Approx(-9.0 / 32).epsilon(1e-12));
}

TEST_CASE("sparsemax circuit: the exact evaluator agrees with the float forward on random words",
          "[saturate]") {
  // Random weights, two layers; dh = 4 (an exact score factor) and dh = 3 (irrational: scores
  // are intervals), causal or not.
  auto [d_model, causal] = GENERATE(std::pair{8, false}, std::pair{6, true}, std::pair{6, false});
  INFO("d_model " << d_model << " causal " << causal);
  nets::ModelConfig cfg;
  cfg.d_model = d_model, cfg.n_heads = 2, cfg.n_layers = 2, cfg.d_ff = 8;
  cfg.norm_position = nets::NormPosition::none;
  cfg.positional = nets::Positional::learned;
  cfg.max_length = 12;
  cfg.causal = causal;
  cfg.init_std = 0.8;
  cfg.attention_scale = 1.5;
  cfg.seed = 3;
  cfg.set("attention", "sparsemax");
  nets::Transformer<double> model(cfg, 2);
  model.init();
  const Circuit c = circuit_of(model, 20);
  auto m = circuit_model(c);
  c.tie.apply(m);
  const ExactEvaluator exact(c);
  ExactEvaluator::Cache cache;
  std::mt19937 rng(9);
  std::vector<Example> words;
  for (int i = 0; i < 300; ++i) words.push_back({random_word(rng, 1 + i % 12), 0, std::nullopt});
  const auto out = run_model(m, words);
  long undecided = 0, sparse_rows_seen = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto r = exact.run(words[i].word, cache);
    if (r.verdict == Verdict::undecided) {
      ++undecided;
      continue;
    }
    const double lo = r.logit.lo.convert_to<double>(), hi = r.logit.hi.convert_to<double>();
    CHECK(out.decision[i] >= lo - 1e-9);
    CHECK(out.decision[i] <= hi + 1e-9);
    CHECK((r.verdict == Verdict::accept) == (out.decision[i] > 0));
  }
  CHECK(undecided == 0);
  // The weights are sparse somewhere (else this would test softmax-like full supports only):
  // one word, not causal, so every key is visible and a zero weight is sparsemax's.
  if (causal) return;
  m.set_introspection(true);
  (void)run_model(m, {words.back()});
  for (const auto& w : m.attention_weights(0)) sparse_rows_seen += w == 0.0;
  m.set_introspection(false);
  CHECK(sparse_rows_seen > 0);
}

TEST_CASE("sparsemax circuit: the file records the rule and round-trips", "[saturate]") {
  const Circuit c = circuit_of(sign_model(), 8);
  const std::string text = circuit_json(c);
  CHECK(text.find("\"rule\": \"sparsemax\"") != std::string::npos);
  const Circuit back = parse_circuit(text, "c.json");
  CHECK(back.config.attention_sparsemax);
  CHECK(back.tie.hard == nets::HardAttention::none);
  CHECK(circuit_json(back) == text);
  CHECK(ExactEvaluator(back).run(Word{0, 1}).logit.lo == Rational(3, 4));
  // A hard rule with a sparsemax architecture, or the reverse, is refused by its path.
  std::string hard = text;
  hard.replace(hard.find("\"rule\": \"sparsemax\""), 19, "\"rule\": \"average\"");
  CHECK_THROWS_WITH(parse_circuit(hard, "c.json"),
                    Catch::Contains("attention.rule") && Catch::Contains("sparsemax"));
  std::string softmax = text;
  softmax.replace(softmax.find("\"attention\": \"sparsemax\""), 24, "\"attention\": \"softmax\"");
  CHECK_THROWS_WITH(parse_circuit(softmax, "c.json"),
                    Catch::Contains("attention.rule") && Catch::Contains("needs architecture"));
  std::string unknown = text;
  unknown.replace(unknown.find("\"rule\": \"sparsemax\""), 19, "\"rule\": \"entmax\"");
  CHECK_THROWS_AS(parse_circuit(unknown, "c.json"), InputError);
}
