// [saturate]: hard attention as the limit of softmax, scaling, norm fits, head roles, and
// circuits evaluated exactly.
#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/error.h"
#include "hand_built.h"
#include "lang/builtin.h"
#include "nets/attention.h"
#include "nets/batch.h"
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "saturate/head_roles.h"
#include "saturate/interval_arith.h"
#include "saturate/norm_fit.h"
#include "saturate/plot.h"
#include "saturate/saturation.h"

using namespace saturn;
using namespace saturn::saturate;

namespace {

// One head over one sequence whose scores are s (q = 1 in dim 0, k_j = s_j in dim 0, so with
// dh = 1 the score is s_j); values are one-hot so the output row is the weight vector.
std::vector<double> attention_weights(const std::vector<double>& s, nets::AttentionSpec spec) {
  const int T = static_cast<int>(s.size()), C = T;  // one head of width T
  std::vector<double> qkv(static_cast<std::size_t>(T) * 3 * C, 0.0), out(T * C), att(T * T);
  for (int j = 0; j < T; ++j) {
    qkv[j * 3 * C + 0] = 1.0;                              // q_j = e_0
    qkv[j * 3 * C + C + 0] = s[j] * std::sqrt(double(C));  // k_j . q = s_j sqrt(dh)
    qkv[j * 3 * C + 2 * C + j] = 1.0;                      // v_j = e_j
  }
  const int lengths[1] = {T};
  nets::attention_forward(out.data(), att.data(), qkv.data(), lengths, spec, 1, T, C, 1);
  return std::vector<double>(att.begin(), att.begin() + T);  // query 0's weights
}

std::vector<Example> all_words(int max_length) {
  std::vector<Example> out;
  for (int n = 0; n <= max_length; ++n)
    for (long i = 0; i < (1L << n); ++i) {
      Word w(n);
      for (int t = 0; t < n; ++t) w[t] = static_cast<Symbol>((i >> (n - 1 - t)) & 1);
      out.push_back({w, 0, std::nullopt});
    }
  return out;
}

}  // namespace

TEST_CASE("softmax(c s) approaches average-hard attention", "[saturate]") {
  const double gap = std::log(1e5) / 1000;
  // Two tied maxima, one score just over the gap below them, others far below.
  const std::vector<double> s = {0.3, 0.7, 0.7 - 1.01 * gap, -2.0, 0.7};
  nets::AttentionSpec soft;
  soft.score_scale = 1000;
  const auto w = attention_weights(s, soft);
  for (int j : {0, 2, 3}) CHECK(w[j] < 1e-5);
  CHECK(w[1] == Approx(w[4]).epsilon(1e-12));
  CHECK(w[1] + w[4] > 1 - 1e-4);

  nets::AttentionSpec hard;
  hard.hard = nets::HardAttention::average;
  const auto h = attention_weights(s, hard);
  CHECK(h == std::vector<double>{0, 0.5, 0, 0, 0.5});
  hard.hard = nets::HardAttention::leftmost;
  CHECK(attention_weights(s, hard) == std::vector<double>{0, 1, 0, 0, 0});
  hard.hard = nets::HardAttention::rightmost;
  CHECK(attention_weights(s, hard) == std::vector<double>{0, 0, 0, 0, 1});
  for (int j = 0; j < 5; ++j) CHECK(std::abs(w[j] - h[j]) < 1e-4);
}

TEST_CASE("the tie tolerance merges scores equal to the stated bits, no more", "[saturate]") {
  nets::AttentionSpec hard;
  hard.hard = nets::HardAttention::average;
  hard.tie_bits = 16;
  // 1 + 2^-20 rounds to 1 at 16 bits (a tie); 1 + 2^-10 does not.
  CHECK(attention_weights({1.0, 1.0 + std::ldexp(1.0, -20)}, hard) ==
        std::vector<double>{0.5, 0.5});
  CHECK(attention_weights({1.0, 1.0 + std::ldexp(1.0, -10)}, hard) == std::vector<double>{0, 1});
  hard.tie_bits = 8;
  CHECK(attention_weights({1.0, 1.0 + std::ldexp(1.0, -10)}, hard) ==
        std::vector<double>{0.5, 0.5});
}

TEST_CASE("scaled bias-free norm-free models match their closed form", "[saturate]") {
  // One layer, one head, no biases or norms, hard attention. Closed form of f(c theta) for a
  // word, written out independently of the kernels: embeddings scale by c, q k v by c^2,
  // the residual after attention is c x + c^3 Wo avg(Wv x), and so on.
  nets::ModelConfig cfg;
  cfg.d_model = 3, cfg.n_heads = 1, cfg.n_layers = 1, cfg.d_ff = 5;
  cfg.norm_position = nets::NormPosition::none;
  cfg.positional = nets::Positional::none;
  cfg.bias = false;
  cfg.init_std = 0.7;
  cfg.seed = 3;
  nets::Transformer<double> model(cfg, 2);
  model.init();
  const std::vector<double> base(model.params.begin(), model.params.end());
  const Word word = {0, 1, 1, 0, 1};
  auto closed_form = [&](double c) {
    const int C = 3, F = 5, n = static_cast<int>(word.size()) + 2;
    auto P = [&](const char* name) { return model.param(name); };
    std::vector<int> tokens = {2};
    for (Symbol s : word) tokens.push_back(s);
    tokens.push_back(3);
    std::vector<std::vector<double>> x(n, std::vector<double>(C)), q = x, k = x, v = x;
    for (int t = 0; t < n; ++t)
      for (int i = 0; i < C; ++i) x[t][i] = c * base[tokens[t] * C + i];
    const double* wqkv = P("layers.0.attn.wqkv");  // already scaled by c in `model`
    for (int t = 0; t < n; ++t)
      for (int r = 0; r < C; ++r)
        for (int i = 0; i < C; ++i) {
          q[t][r] += wqkv[r * C + i] * x[t][i];
          k[t][r] += wqkv[(C + r) * C + i] * x[t][i];
          v[t][r] += wqkv[(2 * C + r) * C + i] * x[t][i];
        }
    // BOS query (readout bos): the argmax set of q_0 . k_j, averaged.
    std::vector<double> s(n);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < C; ++i) s[j] += q[0][i] * k[j][i];
    const double top = *std::max_element(s.begin(), s.end());
    std::vector<double> a(C);
    int winners = 0;
    for (int j = 0; j < n; ++j)
      if (s[j] >= top - 1e-9 * std::abs(top)) {
        ++winners;
        for (int i = 0; i < C; ++i) a[i] += v[j][i];
      }
    for (auto& ai : a) ai /= winners;
    std::vector<double> s1(C), h(F), s2(C);
    for (int r = 0; r < C; ++r) {
      s1[r] = x[0][r];
      for (int i = 0; i < C; ++i) s1[r] += P("layers.0.attn.wo")[r * C + i] * a[i];
    }
    for (int r = 0; r < F; ++r) {
      for (int i = 0; i < C; ++i) h[r] += P("layers.0.ffn.w1")[r * C + i] * s1[i];
      h[r] = std::max(0.0, h[r]);
    }
    for (int r = 0; r < C; ++r) {
      s2[r] = s1[r];
      for (int i = 0; i < F; ++i) s2[r] += P("layers.0.ffn.w2")[r * F + i] * h[i];
    }
    double logit = 0;
    for (int i = 0; i < C; ++i) logit += P("head.w")[i] * s2[i];
    return logit;
  };
  nets::AttentionSpec spec = model.attention();
  spec.hard = nets::HardAttention::average;
  spec.tie_bits = 40;
  const std::vector<Example> one = {{word, 0, std::nullopt}};
  for (double c : {0.5, 1.0, 2.0, 10.0, 1000.0}) {
    set_scale(model, base, Scaling::all, c);
    model.set_attention(spec);
    const double f = run_model(model, one).decision[0];
    CHECK(f == Approx(closed_form(c)).epsilon(1e-9));
  }
}

TEST_CASE("the norm fit recovers the growth exponent", "[saturate]") {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::vector<double> t, rho_sqrt, rho_linear;
  for (int i = 1; i <= 2000; i += 5) {
    t.push_back(i);
    rho_sqrt.push_back(3 + 2 * std::sqrt(i) + noise(rng));
    rho_linear.push_back(1 + 0.05 * i + noise(rng));
  }
  const auto fits = norm_growth_fit(t, rho_sqrt);
  CHECK(fits.front().f == "sqrt(t)");
  CHECK(fits.front().r2 > 0.99);
  CHECK(fits.front().a == Approx(3).margin(0.1));
  CHECK(fits.front().b == Approx(2).margin(0.01));
  CHECK(norm_growth_fit(t, rho_linear).front().f == "t");
  CHECK_THROWS_AS(norm_growth_fit(t, rho_sqrt, 1e9), InputError);
}

TEST_CASE("a hand-built uniform-attention majority model saturates to majority", "[saturate]") {
  auto model = test::uniform_majority_model();
  nets::AttentionSpec spec = model.attention();
  spec.hard = nets::HardAttention::average;
  model.set_attention(spec);
  const auto words = all_words(12);
  const auto out = run_model(model, words);
  auto majority = builtin("majority");
  long correct = 0;
  for (std::size_t i = 0; i < words.size(); ++i)
    correct += (out.decision[i] > 0) == majority->accepts(words[i].word);
  CHECK(correct == static_cast<long>(words.size()));
  CHECK(words.size() == 8191);
}

TEST_CASE("head roles of hand-built heads", "[saturate]") {
  const auto words = all_words(8);
  const Alphabet ab({"a", "b"});
  SECTION("constant scores: global") {
    auto model = test::positional_head_model(true);
    const auto roles = head_roles(model, ab, words, TieRule{});
    REQUIRE(roles.size() == 1);
    CHECK(roles[0].label == "global");
    CHECK(roles[0].mean_fraction == Approx(1.0));
    CHECK(roles[0].attended_slope == Approx(1.0));  // every visible position
    auto soft = test::positional_head_model(true);
    const auto entropy = soft_attention_entropy(soft, 2, words);
    REQUIRE(entropy.size() == 1);
    CHECK(entropy[0] == Approx(1.0));  // equal scores: uniform soft weights
  }
  SECTION("previous position: local, offset -1") {
    auto model = test::positional_head_model(false);
    const auto roles = head_roles(model, ab, words, TieRule{});
    REQUIRE(roles.size() == 1);
    CHECK(roles[0].label == "local");
    CHECK(roles[0].mean_attended == Approx(1.0));
    CHECK(roles[0].pattern == "previous position");
    CHECK(roles[0].offset == -1);
    CHECK(roles[0].pattern_share > 0.9);
    CHECK(roles[0].attended_slope == Approx(0.0).margin(1e-12));  // one position at any length
    // Soft weights: e^4 on the previous position, 1 on each other visible one (scores 16 / 4
    // and 0); the closed-form entropy / log(visible) averaged over every query with >= 2
    // visible positions (causal: query i sees i + 1 positions; a word of length n has n + 2
    // tokens).
    double expected = 0;
    long rows = 0;
    for (const auto& e : words)
      for (int i = 1; i < static_cast<int>(e.word.size()) + 2; ++i) {
        const double v = i + 1, z = std::exp(4.0) + v - 1, p = std::exp(4.0) / z;
        expected += (-p * std::log(p) - (v - 1) / z * std::log(1 / z)) / std::log(v);
        ++rows;
      }
    auto soft = test::positional_head_model(false);
    const auto entropy = soft_attention_entropy(soft, 2, words);
    REQUIRE(entropy.size() == 1);
    CHECK(entropy[0] == Approx(expected / rows).epsilon(1e-9));
    CHECK(entropy[0] < 0.5);
  }
}

TEST_CASE("exact circuits agree with the float saturated network", "[saturate]") {
  // A trained-like random model: pre-LN with affine norms, two layers, learned positions.
  nets::ModelConfig cfg;
  cfg.d_model = 8, cfg.n_heads = 2, cfg.n_layers = 2, cfg.d_ff = 8, cfg.max_length = 12;
  cfg.init_std = 0.5;
  cfg.seed = GENERATE(1, 2, 3);
  cfg.causal = cfg.seed >= 2;
  cfg.readout = cfg.seed == 2 ? nets::Readout::mean : nets::Readout::bos;
  // Seed 3: a causal next-symbol model; its decision is the "end" output after the word.
  if (cfg.seed == 3) cfg.objective = nets::Objective::next_symbol;
  const auto tie = GENERATE(nets::HardAttention::average, nets::HardAttention::leftmost,
                            nets::HardAttention::rightmost);
  nets::Transformer<double> model(cfg, 2);
  model.init();
  const Alphabet ab({"a", "b"});
  const TieRule rule{tie, 16, {}};
  const Circuit circuit = make_circuit(cfg, model.params, ab, 20, rule);
  // Round trip through JSON.
  const Circuit loaded = parse_circuit(circuit_json(circuit), "test");
  auto float_model = circuit_model(loaded);
  nets::AttentionSpec spec = float_model.attention();
  spec.hard = tie;
  float_model.set_attention(spec);
  const auto words = all_words(7);
  const auto out = run_model(float_model, words);
  const ExactEvaluator exact(loaded);
  long agree = 0, undecided = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto r = exact.run(words[i].word);
    if (i % 8 == 0) {  // the rational reference encloses the same logit and decides alike
      const auto reference = exact.run_rational(words[i].word);
      CHECK(reference.verdict == r.verdict);
      CHECK(reference.logit.lo <= r.logit.hi);
      CHECK(reference.logit.hi >= r.logit.lo);
    }
    if (r.verdict == Verdict::undecided) {
      ++undecided;
      continue;
    }
    agree += (r.verdict == Verdict::accept) == (out.decision[i] > 0);
    // The float logit lies within a rounding error of the exact enclosure.
    CHECK(out.decision[i] >= r.logit.lo.convert_to<double>() - 1e-9);
    CHECK(out.decision[i] <= r.logit.hi.convert_to<double>() + 1e-9);
  }
  CHECK(undecided == 0);
  CHECK(agree == static_cast<long>(words.size()));
}

TEST_CASE("exact evaluation of the majority model: ties are exact", "[saturate]") {
  auto model = test::uniform_majority_model();
  const Circuit c = make_circuit(model.config(), model.params, Alphabet({"a", "b"}), 4, TieRule{});
  const ExactEvaluator exact(c);
  const auto r = exact.run_rational({0, 1, 0});
  CHECK(r.verdict == Verdict::accept);
  CHECK(r.logit.exact());
  CHECK(r.logit.lo == Rational(1, 10));                          // (2 - 1 - 1/2) / 5
  CHECK(exact.run_rational({0, 1}).verdict == Verdict::reject);  // (1 - 1 - 1/2) / 4
  CHECK(exact.run_rational({0, 1}).logit.lo == Rational(-1, 8));
  // The double fast path decides the same, with an enclosure of the exact logit.
  const auto fast = exact.run({0, 1, 0});
  CHECK(fast.verdict == Verdict::accept);
  CHECK(fast.logit.lo <= Rational(1, 10));
  CHECK(fast.logit.hi >= Rational(1, 10));
}

TEST_CASE("an evaluator's cache shares rows and scores without changing a result", "[saturate]") {
  // One cache through every word of several lengths (tables rebuilt at each change, causal
  // prefixes reused in symbol order), then through a second evaluator: every result is
  // bit-identical to a fresh evaluation of the word alone.
  nets::ModelConfig cfg;
  cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 8, cfg.max_length = 8, cfg.init_std = 0.5;
  cfg.n_layers = GENERATE(1, 2);
  cfg.causal = GENERATE(false, true);
  cfg.norm_position =
      GENERATE(nets::NormPosition::pre, nets::NormPosition::post, nets::NormPosition::none);
  cfg.readout = GENERATE(nets::Readout::bos, nets::Readout::eos, nets::Readout::mean);
  const auto tie = cfg.readout == nets::Readout::eos ? nets::HardAttention::leftmost
                                                     : nets::HardAttention::average;
  nets::Transformer<double> model(cfg, 2);
  model.init();
  const Alphabet ab({"a", "b"});
  const ExactEvaluator exact(make_circuit(cfg, model.params, ab, 12, TieRule{tie, 16, {}}));
  cfg.seed = 7;
  nets::Transformer<double> other_model(cfg, 2);
  other_model.init();
  const ExactEvaluator other(make_circuit(cfg, other_model.params, ab, 12, TieRule{tie, 16, {}}));
  ExactEvaluator::Cache cache;
  long words = 0, decided = 0;
  // The second evaluator starts at the first's last length: only the owner tells them apart.
  const std::vector<std::pair<const ExactEvaluator*, int>> runs = {
      {&exact, 4}, {&exact, 2}, {&exact, 4}, {&exact, 0}, {&exact, 5}, {&other, 5}, {&other, 3}};
  for (const auto& [e, n] : runs) {
    for (long i = 0; i < (1L << n); ++i) {
      Word w(n);
      for (int t = 0; t < n; ++t) w[t] = static_cast<Symbol>((i >> (n - 1 - t)) & 1);
      const auto shared = e->run(w, cache), alone = e->run(w);
      CHECK(e->verdict(w, cache) == alone.verdict);  // the same word again: all of it cached
      ++words;
      decided += alone.verdict != Verdict::undecided;
      CHECK(shared.verdict == alone.verdict);
      CHECK(shared.logit.lo == alone.logit.lo);
      CHECK(shared.logit.hi == alone.logit.hi);
    }
  }
  CHECK(decided >= words * 9 / 10);
}

TEST_CASE("the memo between words changes no result, with tolerance, uniform and silent heads",
          "[saturate]") {
  // Hash-consing between words (rows by structure, layers >= 2): every word of lengths 0..7 in
  // enumeration order through one cache equals the word evaluated alone, bit for bit, for
  // circuits whose heads attend by argmax, by a tolerance or to every key, whose scores are
  // all zero (zero queries: every key attended) and whose values are zero (the selection
  // cannot matter).
  nets::ModelConfig cfg;
  cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 8, cfg.max_length = 8, cfg.init_std = 0.5;
  cfg.n_layers = GENERATE(2, 3);
  cfg.causal = GENERATE(false, true);
  cfg.norm_position = GENERATE(nets::NormPosition::pre, nets::NormPosition::none);
  cfg.readout = GENERATE(nets::Readout::eos, nets::Readout::mean);
  cfg.positional = GENERATE(nets::Positional::learned, nets::Positional::none);
  nets::Transformer<double> model(cfg, 2);
  model.init();
  Circuit circuit = make_circuit(cfg, model.params, Alphabet({"a", "b"}), 12, TieRule{});
  const int C = cfg.d_model, dh = C / cfg.n_heads;
  circuit.tolerance.assign(static_cast<std::size_t>(cfg.n_layers) * cfg.n_heads, 0);
  circuit.tolerance[1] = 1 << 11;   // layer 0 head 1: keys within 1/2 of the maximum
  circuit.tolerance[2] = kUniform;  // layer 1 head 0: every key
  auto zero_rows = [&](int layer, int from, int rows) {
    auto& w = circuit.tensors.at(fmt::format("layers.{}.attn.wqkv", layer)).numerators;
    auto& b = circuit.tensors.at(fmt::format("layers.{}.attn.bqkv", layer)).numerators;
    for (int r = from; r < from + rows; ++r) {
      std::fill_n(w.begin() + static_cast<long>(r) * C, C, 0);
      b[r] = 0;
    }
  };
  zero_rows(1, dh, dh);     // layer 1 head 1: zero queries, every score 0
  zero_rows(0, 2 * C, dh);  // layer 0 head 0: zero values, a silent head
  const ExactEvaluator exact(circuit);
  ExactEvaluator::Cache cache;
  long words = 0, decided = 0;
  for (int n = 0; n <= 7; ++n)
    for (long i = 0; i < (1L << n); ++i) {
      Word w(n);
      for (int t = 0; t < n; ++t) w[t] = static_cast<Symbol>((i >> (n - 1 - t)) & 1);
      const auto shared = exact.run(w, cache), alone = exact.run(w);
      ++words;
      decided += alone.verdict != Verdict::undecided;
      CHECK(shared.verdict == alone.verdict);
      CHECK(shared.logit.lo == alone.logit.lo);
      CHECK(shared.logit.hi == alone.logit.hi);
      if (i % 16 == 0) CHECK(exact.run_rational(w).verdict == alone.verdict);
    }
  CHECK(decided >= words * 9 / 10);
}

TEST_CASE("double intervals enclose the exact interval product and square", "[saturate]") {
  // Against the rational arithmetic on the same endpoints, over every sign case and points.
  using detail::DoubleArith;
  using detail::RationalArith;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-3, 3);
  auto interval = [&](int kind) {
    double a = u(rng), b = u(rng);
    if (kind == 1) a = b;                               // a point
    if (kind == 2) a = std::abs(a), b = std::abs(b);    // non-negative
    if (kind == 3) a = -std::abs(a), b = -std::abs(b);  // non-positive
    if (kind == 4) a = 0.0;                             // an endpoint at zero
    return DoubleArith::Iv{std::min(a, b), std::max(a, b)};
  };
  auto exact = [](const DoubleArith::Iv& x) {
    return RationalArith::Iv{Rational(x.lo), Rational(x.hi)};
  };
  for (int trial = 0; trial < 2000; ++trial) {
    const auto a = interval(trial % 5), b = interval(trial / 5 % 5);
    const auto d = DoubleArith::mul(a, b), s = DoubleArith::square(a);
    const auto r = RationalArith::mul(exact(a), exact(b)), rs = RationalArith::square(exact(a));
    CHECK(Rational(d.lo) <= r.lo);
    CHECK(Rational(d.hi) >= r.hi);
    CHECK(Rational(s.lo) <= rs.lo);
    CHECK(Rational(s.hi) >= rs.hi);
    // Tight: at most one rounding step outside.
    CHECK(Rational(d.lo) >= r.lo - abs(r.lo) * Rational(1, 1LL << 50) - Rational(1, 1LL << 60));
    CHECK(Rational(s.hi) <= rs.hi + abs(rs.hi) * Rational(1, 1LL << 50) + Rational(1, 1LL << 60));
  }
}

TEST_CASE("bad circuit files are named errors", "[saturate]") {
  auto model = test::uniform_majority_model();
  const std::string good =
      circuit_json(make_circuit(model.config(), model.params, Alphabet({"a", "b"}), 4, TieRule{}));
  auto error_of = [](const std::string& text) {
    try {
      parse_circuit(text, "c.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of(good) == "no error");
  CHECK_THAT(error_of(good.substr(0, good.size() / 2)), Catch::Contains("c.json: not valid JSON"));
  std::string v2 = good;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  CHECK_THAT(error_of(v2), Catch::Contains("circuit version 2 is not supported"));
  std::string shape = good;
  const std::string wo = "\"layers.0.attn.wo\": {\n   \"shape\": [\n    4,\n    4";
  REQUIRE(shape.find(wo) != std::string::npos);
  shape.replace(shape.find(wo) + wo.size() - 1, 1, "5");
  CHECK_THAT(error_of(shape), Catch::Contains("has shape [4,5]"));
  CHECK_THAT(error_of("{\"format\": \"other\"}"), Catch::Contains("not a saturn circuit"));
  CHECK_THROWS_AS(load_circuit("/nonexistent/c.json"), InputError);
}

TEST_CASE("pointwise attention has no saturated network", "[saturate]") {
  nets::ModelConfig cfg;
  cfg.attention_softmax = false;
  CHECK_THROWS_WITH(require_softmax(cfg), Catch::Contains("no argmax limit"));
}

TEST_CASE("circuit numbers are exact or refused by their JSON path", "[saturate]") {
  auto model = test::uniform_majority_model();
  const std::string good =
      circuit_json(make_circuit(model.config(), model.params, Alphabet({"a", "b"}), 4, TieRule{}));
  auto error_of = [](const std::string& text) {
    try {
      parse_circuit(text, "c.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // The first numerator of embed.wte, replaced by a value that used to be wrapped or coerced.
  const std::string key =
      "\"embed.wte\": {\n   \"shape\": [\n    4,\n    4\n   ],\n   \"numerators\": [\n    ";
  REQUIRE(good.find(key) != std::string::npos);
  auto with_first = [&](const std::string& value) {
    std::string text = good;
    const auto at = good.find(key) + key.size();
    text.replace(at, good.find_first_of(",\n", at) - at, value);
    return text;
  };
  CHECK(error_of(with_first("3")) == "no error");
  for (const std::string bad : {"9223372036854775813", "4611686018427387905", "256.9", "true",
                                "-9223372036854775808", "1e3", "\"7\""})
    CHECK_THAT(error_of(with_first(bad)),
               Catch::Contains("c.json: tensors[\"embed.wte\"].numerators[0]: expected an integer "
                               "in [-2^62, 2^62]") ||
                   Catch::Contains("expected an integer in [-2^62, 2^62], got \"7\""));
  // Deep nesting anywhere, even in a key nobody reads, is refused before parsing.
  std::string deep = good;
  deep.insert(deep.rfind('}'), ", \"x\": " + std::string(1000000, '[') + std::string(1000000, ']'));
  CHECK_THAT(error_of(deep), Catch::Contains("c.json: JSON nested deeper than 64 levels"));
  std::string tie = good;
  tie.replace(tie.find("\"tie_bits\": 16"), 14, "\"tie_bits\": 16.5");
  CHECK_THAT(error_of(tie), Catch::Contains("attention.tie_bits: expected an integer in [1, 52]"));
  std::string arch = good;
  arch.replace(arch.find("\"d_model\": \"4\""), 14, "\"d_model\": 4");
  CHECK_THAT(error_of(arch), Catch::Contains("architecture.d_model: expected a string, got 4"));
}

namespace {
std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
bool have_gnuplot() {
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}
}  // namespace

TEST_CASE("figures: a PNG beside each SVG and a title and axis labels in it", "[saturate]") {
  if (!have_gnuplot()) {
    WARN("gnuplot not installed: figures not checked");
    return;
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("saturn-figures-{}", ::getpid());
  fs::create_directories(dir);
  SECTION("gnuplot_figure") {
    const fs::path svg = dir / "f.svg";
    REQUIRE(gnuplot_figure(svg, "1 0.91\n2 0.93\n3 0.92\n",
                           "set title 'a test figure'\nset xlabel 'step t (optimizer steps)'\n"
                           "set ylabel 'accuracy (fraction)'\nplot data using 1:2 with lines "
                           "title 'accuracy'"));
    const std::string text = read_text(svg);
    CHECK_THAT(text, Catch::Contains("a test figure"));
    CHECK_THAT(text, Catch::Contains("step t (optimizer steps)"));
    CHECK_THAT(text, Catch::Contains("accuracy (fraction)"));
    REQUIRE(fs::exists(dir / "f.png"));
    CHECK(read_text(dir / "f.png").substr(1, 3) == "PNG");
    CHECK(!fs::exists(dir / "f.svg.tmp"));
    CHECK(!fs::exists(dir / "f.png.tmp"));
  }
  SECTION("attention heat maps") {
    nets::ModelConfig cfg;
    cfg.d_model = 8, cfg.n_heads = 2, cfg.n_layers = 2, cfg.d_ff = 8, cfg.max_length = 12;
    cfg.init_std = 0.5;
    nets::Transformer<double> model(cfg, 2);
    model.init();
    const Alphabet ab({"a", "b"});
    const fs::path svg = dir / "attention-abba.svg";
    REQUIRE(write_attention_svg(svg, model, ab, Word{0, 1, 1, 0}, TieRule{}));
    const std::string text = read_text(svg);
    CHECK_THAT(text, Catch::Contains("attention for the word: BOS a b b a EOS"));
    CHECK_THAT(text, Catch::Contains("key position (token)"));
    CHECK_THAT(text, Catch::Contains("query position (token)"));
    CHECK_THAT(text, Catch::Contains("attention weight"));
    // One panel per layer, head and kind: 2 x 2 x 2.
    CHECK_THAT(text, Catch::Contains("layer 1 head 1: saturated"));
    REQUIRE(fs::exists(dir / "attention-abba.png"));
    CHECK(read_text(dir / "attention-abba.png").substr(1, 3) == "PNG");
  }
  fs::remove_all(dir);
}
