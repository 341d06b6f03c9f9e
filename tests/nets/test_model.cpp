// The whole model's gradient against finite differences (double precision), over sampled
// combinations of the configuration that take every value of every key at least once.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "base/error.h"
#include "gradcheck.h"
#include "lang/builtin.h"
#include "lang/sample.h"
#include "nets/batch.h"
#include "nets/loss.h"
#include "nets/model.h"

using namespace saturn;
using namespace saturn::nets;

namespace {

struct Case {
  const char* label;
  std::vector<std::pair<const char*, const char*>> keys;
};

// Each row sets some keys; together they take every value of every key at least once.
const std::vector<Case> kCases = {
    {"pre layernorm softmax learned bos", {}},
    {"post projection relu sinusoidal eos causal",
     {{"norm_position", "post"},
      {"norm", "projection"},
      {"attention", "relu"},
      {"positional", "sinusoidal"},
      {"readout", "eos"},
      {"causal", "true"}}},
    {"none relu2 fraction mean gate",
     {{"norm_position", "none"},
      {"attention", "relu2"},
      {"positional", "fraction"},
      {"readout", "mean"},
      {"attention_gate", "true"}}},
    {"pre scale gelu-attention qk-norm gelu-ffn no-bias",
     {{"norm", "scale"},
      {"attention", "gelu"},
      {"qk_norm", "true"},
      {"ffn_activation", "gelu"},
      {"bias", "false"}}},
    {"post rms softplus no-affine eps0 none-positional",
     {{"norm_position", "post"},
      {"norm", "rms"},
      {"attention", "softplus"},
      {"norm_affine", "false"},
      {"norm_eps", "0"},
      {"positional", "none"}}},
    {"pre none-norm identity alpha 0.5",
     {{"norm", "none"}, {"attention", "identity"}, {"attention_alpha", "0.5"}}},
    {"pre relu6 next-symbol causal",
     {{"attention", "relu6"}, {"objective", "next-symbol"}, {"causal", "true"}}},
    {"post layernorm sigmoid next-symbol qk-norm no-affine",
     {{"norm_position", "post"},
      {"attention", "sigmoid"},
      {"objective", "next-symbol"},
      {"qk_norm", "true"},
      {"norm_affine", "false"},
      {"causal", "true"}}},
    {"pre softmax qk-norm eps0 bos gate (queries only at the readout row)",
     {{"qk_norm", "true"}, {"norm_eps", "0"}, {"attention_gate", "true"}}},
    {"pre softmax gate qk-norm mean fraction eps0",
     {{"attention_gate", "true"},
      {"qk_norm", "true"},
      {"readout", "mean"},
      {"positional", "fraction"},
      {"norm_eps", "0"}}},
    {"pre sparsemax causal eos (Martins & Astudillo 2016)",
     {{"attention", "sparsemax"}, {"causal", "true"}, {"readout", "eos"}}},
};

// Two layers of d_model 8 under a case's keys; init std 0.5, large enough that every path
// carries gradient.
ModelConfig small_config(const Case& c) {
  ModelConfig config;
  config.d_model = 8;
  config.n_heads = 2;
  config.n_layers = 2;
  config.d_ff = 12;
  config.init_std = 0.5;
  config.max_length = 8;
  config.seed = 11;
  for (auto [k, v] : c.keys) config.set(k, v);
  return config;
}

// Three dyck-1 words of different lengths (the batch has padding), labelled, with next-symbol
// targets.
std::vector<Example> dyck_examples() {
  auto lang = builtin("dyck-1");
  Sampler sampler(lang);
  std::vector<Example> examples;
  for (const char* w : {"(())", "()", "())(()"}) {
    Word word = lang->alphabet().parse(w);
    examples.push_back({word, lang->accepts(word) ? 1 : 0, sampler.next_targets(word, 8)});
  }
  return examples;
}

}  // namespace

TEST_CASE("the whole model's gradient matches finite differences", "[nets]") {
  auto c = GENERATE(from_range(kCases));
  INFO(c.label);
  ModelConfig config = small_config(c);
  const auto examples = dyck_examples();
  std::vector<const Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  Transformer<double> model(config, 2);
  model.init();
  // Perturb gains and biases too, so that their gradients are not checked at a special point.
  std::mt19937 rng(3);
  std::normal_distribution<double> jitter(0.0, 0.3);
  for (auto& p : model.params) p += jitter(rng) * 0.1;
  auto batch = make_batch<double>(ptrs, 2, config.objective);
  auto loss = [&] { return model.forward(batch); };
  const double l0 = loss();
  REQUIRE(std::isfinite(l0));
  model.zero_grad();
  model.backward(batch);
  CHECK(test::gradient_error(model.params, model.grads, loss) < 1e-6);
  // And some gradient is not zero: the check is not vacuous.
  double norm = 0;
  for (double g : model.grads) norm += g * g;
  CHECK(norm > 1e-8);

  // Introspection (every position of every layer computed, weights kept rather than
  // recomputed) changes the work done, not the logits or the gradients.
  const double lean_loss = loss();
  const std::vector<double> lean_logits(model.logits().begin(), model.logits().end());
  model.zero_grad();
  model.backward(batch);
  const std::vector<double> lean_grads(model.grads.begin(), model.grads.end());
  model.set_introspection(true);
  CHECK(model.forward(batch) == Approx(lean_loss).epsilon(1e-12));
  REQUIRE(model.logits().size() == lean_logits.size());
  for (std::size_t i = 0; i < lean_logits.size(); ++i)
    CHECK(model.logits()[i] == Approx(lean_logits[i]).epsilon(1e-12).margin(1e-14));
  model.zero_grad();
  model.backward(batch);
  for (std::size_t i = 0; i < lean_grads.size(); ++i)
    CHECK(model.grads[i] == Approx(lean_grads[i]).epsilon(1e-10).margin(1e-13));
  CHECK(model.attention_weights(0).size() == 3u * 2 * batch.Tn * batch.Tn);
}

namespace {

// With SSE2 (a portable build) Eigen's matrix kernels treat every row alike, and a word's
// logits are bit-identical alone and in a batch. With wider vectors (the default -march=native
// build) the rows past the last full panel of a product go through smaller kernels that sum in
// another order, so a word's logits can move by a rounding error with its batch-mates: equal to
// 1e-6 relative then. Padding or masking bugs move them by far more.
bool same_logit(float alone, float batched) {
#if defined(__AVX__)
  return batched == Approx(alone).epsilon(1e-6).margin(1e-7);
#else
  return alone == batched;
#endif
}

}  // namespace

TEST_CASE("a word's logits are identical alone and inside a padded batch", "[nets]") {
  auto objective = GENERATE(as<std::string>{}, "recognize", "next-symbol");
  ModelConfig config;
  config.d_model = 16;
  config.n_heads = 2;
  config.d_ff = 32;
  config.set("objective", objective);
  config.causal = objective == "next-symbol";
  auto lang = builtin("dyck-1");
  Sampler sampler(lang);
  auto example = [&](const char* w) {
    Word word = lang->alphabet().parse(w);
    return Example{word, lang->accepts(word) ? 1 : 0, sampler.next_targets(word, 12)};
  };
  Example a = example("(()"), longer = example("(()())()()");
  Transformer<float> model(config, 2);
  model.init();
  model.forward(make_batch<float>({&a}, 2, config.objective));
  const std::vector<float> alone(model.logits().begin(), model.logits().end());
  model.forward(make_batch<float>({&longer, &a}, 2, config.objective));
  const auto& batched = model.logits();
  if (objective == "recognize") {
    CHECK(same_logit(alone[0], batched[1]));
  } else {
    const int Tn_batch = 12, outputs = 3;
    for (int t = 0; t <= 3; ++t)
      for (int o = 0; o < outputs; ++o)
        CHECK(same_logit(alone[t * outputs + o], batched[(Tn_batch + t) * outputs + o]));
  }
}

TEST_CASE("the label objective: softmax cross-entropy per labelled position", "[nets]") {
  // Kernel, by hand: logits (0, ln 3) with class 1: loss = ln(1 + 3) - ln 3 = ln(4/3); the
  // second row is masked out and changes nothing.
  const double z[4] = {0.0, std::log(3.0), 5.0, -5.0}, y[2] = {1, 0}, mask[2] = {1, 0};
  CHECK(softmax_ce_forward(z, y, mask, 2, 2) == Approx(std::log(4.0 / 3.0)));
  double dz[4] = {0, 0, 0, 0};
  softmax_ce_backward(dz, z, y, mask, 2, 2);
  CHECK(dz[0] == Approx(0.25));
  CHECK(dz[1] == Approx(-0.25));
  CHECK(dz[2] == 0.0);
  CHECK(dz[3] == 0.0);

  // Batch: [BOS] 1 0 [EOS] with labels at the two symbols only.
  const auto b = make_label_batch<double>({{1, 0}, {1}}, {{-1, 1, 1, -1}, {-1, 0, -1}}, 2);
  REQUIRE(b.Tn == 4);
  CHECK(b.targets == Buffer<double>{0, 1, 1, 0, 0, 0, 0, 0});
  CHECK(b.mask == Buffer<double>{0, 1, 1, 0, 0, 1, 0, 0});
  CHECK_THROWS_AS(make_label_batch<double>({{1, 0}}, {{-1, 2, 1, -1}}, 2), InputError);
  CHECK_THROWS_AS(make_label_batch<double>({{1, 0}}, {{-1, 1, -1}}, 2), InputError);

  // The whole model with the label head: (B, Tn, k) logits, gradient = finite differences.
  ModelConfig config;
  config.d_model = 8;
  config.n_heads = 1;
  config.n_layers = 1;
  config.d_ff = 12;
  config.init_std = 0.5;
  config.norm_affine = false;
  config.norm_eps = 0;
  config.positional = Positional::none;
  config.max_length = 8;
  config.objective = Objective::label;
  Transformer<double> model(config, 2);
  model.init();
  const double l0 = model.forward(b);
  CHECK(model.logits().size() == 2u * 4 * 2);
  REQUIRE(std::isfinite(l0));
  // The mean of the three labelled rows' cross-entropies, recomputed from the logits.
  double expected = 0;
  for (int r : {1, 2, 5}) {
    const double* row = model.logits().data() + r * 2;
    expected += std::log(std::exp(row[0]) + std::exp(row[1])) - row[static_cast<int>(b.targets[r])];
  }
  CHECK(l0 == Approx(expected / 3));
  model.zero_grad();
  model.backward(b);
  auto loss = [&] { return model.forward(b); };
  CHECK(test::gradient_error(model.params, model.grads, loss) < 1e-6);
  // label has no config name: saturn train cannot select it.
  CHECK_THROWS_AS(config.set("objective", "label"), InputError);
}

TEST_CASE("recorded scores give the weights and the embedding terms sum to the first input",
          "[nets]") {
  auto c = GENERATE(from_range(kCases));
  INFO(c.label);
  ModelConfig config = small_config(c);
  config.attention_scale = 1.5;  // the scores are the scaled ones the weights come from
  const auto examples = dyck_examples();
  std::vector<const Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  const auto batch = make_batch<double>(ptrs, 2, config.objective);
  Transformer<double> model(config, 2);
  model.init();
  model.set_introspection(true);
  model.forward(batch);
  const std::vector<double> unrecorded(model.logits().begin(), model.logits().end());
  CHECK_THROWS_AS(model.attention_scores(0), std::logic_error);
  model.set_recording(true);
  model.forward(batch);
  // Recording changes nothing the model computes.
  CHECK(std::vector<double>(model.logits().begin(), model.logits().end()) == unrecorded);

  const int B = batch.B, Tn = batch.Tn, C = config.d_model, H = config.n_heads;
  const auto& in = *model.layer_states(0).in;
  const auto& tok = model.token_embeddings();
  const auto& pos = model.position_embeddings();
  REQUIRE(tok.size() == in.size());
  REQUIRE(pos.size() == in.size());
  long mismatched = 0;
  for (std::size_t i = 0; i < in.size(); ++i) mismatched += tok[i] + pos[i] != in[i];
  CHECK(mismatched == 0);
  // The token term is wte's row of the token at real positions, zero at padding.
  const double* wte = model.param("embed.wte");
  long wrong_tokens = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t)
      for (int x = 0; x < C; ++x) {
        const std::size_t n = static_cast<std::size_t>(b) * Tn + t;
        const double want = t < batch.lengths[b] ? wte[batch.tokens[n] * C + x] : 0.0;
        wrong_tokens += tok[n * C + x] != want;
      }
  CHECK(wrong_tokens == 0);

  const bool softmax = config.attention_softmax && !config.attention_sparsemax;
  for (int l = 0; l < config.n_layers; ++l) {
    const auto& s = model.attention_scores(l);
    const auto& a = model.attention_weights(l);
    REQUIRE(s.size() == static_cast<std::size_t>(B) * H * Tn * Tn);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < Tn; ++i) {
          const std::size_t row = ((static_cast<std::size_t>(b) * H + h) * Tn + i) * Tn;
          const int len = batch.lengths[b];
          const int visible = i >= len ? 0 : config.causal ? i + 1 : len;
          double top = -INFINITY, sum = 0;
          for (int j = 0; j < Tn; ++j) {
            // -inf exactly where no key is visible (padding, the causal mask, padded queries).
            CHECK(std::isinf(s[row + j]) == (j >= visible));
            if (j < visible) top = std::max(top, s[row + j]);
          }
          if (!softmax || visible == 0) continue;
          for (int j = 0; j < visible; ++j) sum += std::exp(s[row + j] - top);
          for (int j = 0; j < visible; ++j)
            CHECK(a[row + j] == Approx(std::exp(s[row + j] - top) / sum).margin(1e-12));
        }
  }
}
