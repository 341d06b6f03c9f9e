// [theory]: the statistics and measurements the suites decide with, on cases with known
// answers; gradient-norm logging and the per-layer activations `saturn inspect` prints.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "lang/builtin.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/train.h"
#include "saturate/norm_fit.h"
#include "support/run_saturn.h"
#include "theory/majority_task.h"
#include "theory/stats.h"
#include "theory/suites.h"

using namespace saturn;
using namespace saturn::theory;

TEST_CASE("t quantiles, mean intervals, slopes and Kendall's tau have their known values",
          "[theory]") {
  CHECK(t975(1) == Approx(12.706));
  CHECK(t975(9) == Approx(2.262));
  CHECK(t975(1000) == Approx(1.9623).margin(1e-3));
  const Summary s = summarize({1, 2, 3, 4, 5});
  CHECK(s.mean == Approx(3));
  CHECK(s.sd == Approx(std::sqrt(2.5)));
  CHECK(s.ci.lo == Approx(3 - 2.776 * std::sqrt(2.5 / 5)));
  CHECK(std::isinf(summarize({7}).ci.hi));  // one value tells nothing
  CHECK(slope({0, 1, 2, 3}, {1, 3, 5, 7}) == Approx(2));
  CHECK(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1));
  CHECK(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1));
  // x = 1,2,3,4; y = 1,3,2,4: 5 concordant pairs, 1 discordant, no ties.
  CHECK(kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(4.0 / 6));
  // tau-b with a tie in y: pairs (C, D, ties in y) = (4, 1, 1): (4 - 1) / sqrt(5 * 6).
  CHECK(kendall_tau({1, 2, 3, 4}, {1, 2, 2, 0.5}) == Approx((2.0 - 3.0) / std::sqrt(5.0 * 6.0)));
}

TEST_CASE("the verdict rule: inside holds, outside fails, across the edge is inconclusive",
          "[theory]") {
  CHECK(decide({0.4, 0.6}, {0.25, 0.75}) == Verdict::holds);
  CHECK(decide({0.8, 0.9}, {0.25, 0.75}) == Verdict::fails);
  CHECK(decide({0.1, 0.2}, {0.25, 0.75}) == Verdict::fails);
  CHECK(decide({0.7, 0.9}, {0.25, 0.75}) == Verdict::inconclusive);
  CHECK(all_of({Verdict::holds, Verdict::holds}) == Verdict::holds);
  CHECK(all_of({Verdict::holds, Verdict::inconclusive}) == Verdict::inconclusive);
  CHECK(all_of({Verdict::inconclusive, Verdict::fails}) == Verdict::fails);
}

TEST_CASE("the exponent fit recovers p = 0.5 from rho(t) = 3 + 2 sqrt(t)", "[theory]") {
  std::vector<double> t, rho;
  for (int i = 1; i <= 500; ++i) t.push_back(i), rho.push_back(3 + 2 * std::sqrt(i));
  const auto fits = saturate::norm_growth_fit(t, rho);
  const auto power = std::find_if(fits.begin(), fits.end(), [](auto& f) { return f.f == "t^p"; });
  REQUIRE(power != fits.end());
  CHECK(power->p == Approx(0.5).margin(1e-3));
  CHECK(power->p_lo <= 0.5);
  CHECK(power->p_hi >= 0.5);
  CHECK(power->a == Approx(3).margin(1e-2));
  CHECK(power->b == Approx(2).margin(1e-2));
}

namespace {

// A tiny recogniser in double precision with its weights set from a fixed normal stream.
nets::Transformer<double> tiny_model(nets::NormPosition pos, int layers) {
  nets::ModelConfig c;
  c.d_model = 4, c.n_heads = 2, c.d_ff = 8, c.n_layers = layers, c.max_length = 8;
  c.norm_position = pos;
  c.init_std = 0.5;
  c.seed = 3;
  nets::Transformer<double> m(c, 2);
  m.init();
  return m;
}

nets::Batch<double> tiny_batch() {
  static std::vector<Example> examples = {
      {{0, 1, 1}, 1, std::nullopt}, {{1, 0}, 0, std::nullopt}, {{0, 0, 0, 1}, 1, std::nullopt}};
  std::vector<const Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  return nets::make_batch<double>(ptrs, 2, nets::Objective::recognize);
}

}  // namespace

TEST_CASE("xiong's FFN gradient norms equal finite-difference norms", "[theory]") {
  for (auto pos : {nets::NormPosition::pre, nets::NormPosition::post}) {
    auto model = tiny_model(pos, 3);
    const auto batch = tiny_batch();
    const auto norms = ffn_gradient_norms(model, batch);
    REQUIRE(norms.size() == 3);
    for (int l = 0; l < 3; ++l) {
      double fd = 0;
      for (const char* w : {"ffn.w1", "ffn.w2"}) {
        const auto* t = model.layout().find(fmt::format("layers.{}.{}", l, w));
        for (std::size_t i = 0; i < t->size; ++i) {
          double& x = model.params[t->offset + i];
          const double saved = x, h = 1e-6;
          x = saved + h;
          const double plus = model.forward(batch);
          x = saved - h;
          const double minus = model.forward(batch);
          x = saved;
          const double g = (plus - minus) / (2 * h);
          fd += g * g;
        }
      }
      INFO("layer " << l);
      CHECK(norms[l] == Approx(std::sqrt(fd)).epsilon(1e-5));
      CHECK(norms[l] > 0);
    }
  }
}

TEST_CASE("tensor and layer norms: every tensor, and each layer's tensors together",
          "[theory][nets]") {
  nets::ModelConfig c;
  c.d_model = 4, c.n_heads = 1, c.d_ff = 4, c.n_layers = 2, c.max_length = 4;
  nets::ParameterLayout layout(c, 2);
  std::vector<float> x(layout.total(), 0.0f);
  x[layout.find("layers.1.ffn.b1")->offset] = 3;
  x[layout.find("layers.1.attn.wo")->offset + 5] = 4;
  x[layout.find("head.w")->offset] = 1;
  double total = 0;
  for (const auto& [name, v] : nets::tensor_norms(layout, x.data())) {
    total += v * v;
    if (name == "layers.1.ffn.b1") CHECK(v == 3);  // vectors are included
    if (name == "layers.0.ffn.b1") CHECK(v == 0);
  }
  CHECK(total == Approx(26));
  const auto layers = nets::layer_norms(layout, x.data());
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].second == 0);
  CHECK(layers[1].first == "layer.1");
  CHECK(layers[1].second == Approx(5));
}

TEST_CASE(
    "log_grad_norms writes every tensor's and layer's gradient norm, and they make up grad_norm",
    "[theory][nets]") {
  const auto dir = test::scratch_dir("gradlog");
  nets::RunConfig config;
  config.set("steps", "3");
  config.set("checkpoint_every", "0");
  config.set("eval_every", "0");
  config.set("train_lengths", "1:6");
  config.set("test_lengths", "7:8");
  config.set("eval_per_length", "2");
  config.set("log_grad_norms", "true");
  config.set("grad_clip", "0.01");  // the logged norms are before clipping
  nets::train(resolve_language("parity"), config, {dir / "run", false, true, true});
  std::ifstream in(dir / "run" / "metrics.jsonl");
  std::string line;
  int steps = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (!j.contains("step")) continue;
    ++steps;
    double sum = 0;
    int tensors = 0;
    for (const auto& [key, v] : j.items())
      if (key.rfind("grad.", 0) == 0 && key.rfind("grad.layer.", 0) != 0)
        sum += v.get<double>() * v.get<double>(), ++tensors;
    CHECK(tensors == static_cast<int>(nets::ParameterLayout(config.model, 2).tensors().size()));
    CHECK(std::sqrt(sum) == Approx(j["grad_norm"].get<double>()).epsilon(1e-4));
    CHECK(j["grad_norm"].get<double>() > 0.01);
    CHECK(j.contains("grad.layer.1"));
    CHECK(j.contains("grad.layers.0.ffn.w2"));
  }
  CHECK(steps == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("layer states: each layer's output is the next one's input, and the FFN adds up",
          "[theory][nets]") {
  for (auto pos : {nets::NormPosition::pre, nets::NormPosition::none}) {
    auto model = tiny_model(pos, 2);
    model.set_introspection(true);
    const auto batch = tiny_batch();
    model.forward(batch);
    const int C = 4, F = 8, N = batch.B * batch.Tn;
    const auto s0 = model.layer_states(0), s1 = model.layer_states(1);
    CHECK(*s0.out == *s1.in);
    // out = after_attention + W2 f(hidden) + b2 (pre-LN and no norm: no norm after the FFN).
    const double* w2 = model.param("layers.0.ffn.w2");
    const double* b2 = model.param("layers.0.ffn.b2");
    double worst = 0;
    for (int n = 0; n < N; ++n)
      for (int c = 0; c < C; ++c) {
        double y = (*s0.after_attention)[n * C + c] + b2[c];
        for (int f = 0; f < F; ++f) y += w2[c * F + f] * (*s0.ffn_hidden)[n * F + f];
        worst = std::max(worst, std::abs(y - (*s0.out)[n * C + c]));
      }
    CHECK(worst < 1e-12);
    for (double h : *s0.ffn_hidden) CHECK(h >= 0);  // relu
  }
}

TEST_CASE("theory --seeds: 1..1000 when given, 0 included", "[theory][cli]") {
  for (const char* seeds : {"0", "-1", "1001"}) {
    const auto r = saturn::test::run_saturn(std::string("theory --seeds ") + seeds +
                                            " --out /nonexistent/never-written");
    CHECK(r.code == 2);
    CHECK(r.err == fmt::format("saturn: --seeds: expected 1..1000 (got {})\n", seeds));
  }
}

TEST_CASE("the majority task: labels, sampled margins and a learnable setting", "[theory]") {
  using theory::majority_of;
  CHECK(majority_of({0, 1, 1, 2, 1, 0}, 3).symbol == 1);
  CHECK(majority_of({0, 1, 1, 2, 1, 0}, 3).lead == 1);
  CHECK(majority_of({2, 0, 2, 0}, 3).symbol == 0);  // a tie: the smallest, lead 0
  CHECK(majority_of({2, 0, 2, 0}, 3).lead == 0);
  CHECK(theory::majority_labels({0, 1, 1, 2, 1, 0}, 3) ==
        std::vector<int>{-1, 1, 1, 1, 1, 1, 1, -1});

  const theory::MajorityTask task;  // 20 classes, length 50, margin 6 (Brody et al.)
  Rng rng(5);
  std::vector<int> wins(task.classes, 0);
  for (int i = 0; i < 400; ++i) {
    const Word w = theory::sample_majority_word(task, rng);
    REQUIRE(w.size() == 50u);
    const auto m = majority_of(w, task.classes);
    CHECK(m.lead >= 6);
    ++wins[m.symbol];
  }
  for (int c = 0; c < task.classes; ++c) CHECK(wins[c] > 0);

  // A small setting the loop must learn: 4 classes, length 12, lead >= 3.
  nets::ModelConfig mc;
  mc.d_model = 8, mc.n_heads = 1, mc.n_layers = 1, mc.d_ff = 32;
  mc.norm_affine = false, mc.norm_eps = 0, mc.positional = nets::Positional::none;
  mc.objective = nets::Objective::label, mc.max_length = 12, mc.init_std = 0.3, mc.seed = 2;
  const auto run = theory::train_majority(mc, {4, 12, 3}, {.steps = 300, .lr = 3e-3, .seed = 2});
  REQUIRE(run.train_accuracy.size() == 300u);
  CHECK(run.train_accuracy.front() < 0.6);
  CHECK(run.test_accuracy > 0.9);
  CHECK(run.loss.back() < run.loss.front());
}

TEST_CASE("attention uniformity: exactly uniform with a zero query, not at a large init",
          "[theory]") {
  nets::ModelConfig mc;
  mc.d_model = 8, mc.n_heads = 1, mc.n_layers = 1, mc.d_ff = 32;
  mc.norm_affine = false, mc.norm_eps = 0, mc.positional = nets::Positional::none;
  mc.objective = nets::Objective::label, mc.max_length = 50, mc.norm = nets::NormKind::scale;
  Rng rng(1);
  std::vector<Word> words;
  for (int i = 0; i < 16; ++i) words.push_back(theory::sample_majority_word({}, rng));
  auto uniformity = [&](double init_std, bool zero_query) {
    mc.init_std = init_std;
    nets::Transformer<float> model(mc, 20);
    model.init();
    if (zero_query) {  // W_Q = 0 and b_Q = 0: every score is 0, attention exactly 1/n
      std::fill_n(model.param("layers.0.attn.wqkv"), 8 * 8, 0.0f);
      std::fill_n(model.param("layers.0.attn.bqkv"), 8, 0.0f);
    }
    return theory::attention_uniformity(model, words);
  };
  const auto zero = uniformity(0.5, true);
  CHECK(zero.entropy == Approx(1.0).epsilon(1e-6));
  CHECK(zero.total_variation == Approx(0.0).margin(1e-6));
  // The default init is uniform for free (so no criterion on it can separate conditions);
  // init_std 0.5 (the brody suite's) is not.
  CHECK(uniformity(0.02, false).entropy > 0.999);
  const auto large = uniformity(0.5, false);
  CHECK(large.entropy < 0.95);
  CHECK(large.total_variation > 0.1);
  CHECK(large.query_angle_deg > 0);
  CHECK(large.query_angle_deg <= 90);
}

TEST_CASE("xiong.warmup's largest trained lr and grad-by-layer's fitted ratio on known profiles",
          "[theory]") {
  // The largest lr whose run trains, whether or not smaller ones do; none: -1.
  CHECK(largest_trained({0.98, 0.97, 0.6, 0.5}, 0.75) == 1);
  CHECK(largest_trained({0.98, 0.5, 0.8, 0.5}, 0.75) == 2);
  CHECK(largest_trained({0.5, 0.6}, 0.75) == -1);
  CHECK(largest_trained({0.75}, 0.75) == 0);
  // A geometric profile g(l) = 2 * 1.1^l over 8 layers is fitted exactly: last/first 1.1^7.
  std::vector<double> growing, falling, flat(8, 3.0);
  for (int l = 0; l < 8; ++l)
    growing.push_back(2 * std::pow(1.1, l)), falling.push_back(std::pow(0.45, l / 7.0));
  CHECK(fitted_last_first_ratio(growing) == Approx(std::pow(1.1, 7)));
  CHECK(fitted_last_first_ratio(flat) == Approx(1));
  CHECK(fitted_last_first_ratio(falling) == Approx(0.45));
  // The Pre-LN rule (no growth: below 1.5) holds for a falling profile and fails for a growing
  // one, which the Post-LN rule (at least 1.5) accepts: each rule can fail.
  const double g = fitted_last_first_ratio(growing), f = fitted_last_first_ratio(falling);
  CHECK(decide({f, f}, {0, 1.5}) == Verdict::holds);
  CHECK(decide({g, g}, {0, 1.5}) == Verdict::fails);
  CHECK(decide({g, g}, {1.5, INFINITY}) == Verdict::holds);
  CHECK(decide({f, f}, {1.5, INFINITY}) == Verdict::fails);
}

TEST_CASE("final_accuracy scores a run's last checkpoint on exact words and keeps the score",
          "[theory]") {
  const auto dir = test::scratch_dir("final-accuracy");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "run");
  // All-zero parameters: every logit is 0, so every word is rejected. Dyck-1 at length 1 has
  // only rejected words (K right), at length 2 K accepted (wrong) and K rejected (right): 2K/3K.
  nets::RunConfig config;
  config.set("d_model", "8");
  config.set("n_heads", "2");
  nets::Checkpoint ck;
  ck.config = config;
  ck.num_symbols = 2;
  ck.language_name = "dyck-1";
  ck.params.assign(nets::ParameterLayout(config.model, 2).total(), 0.0f);
  nets::save_checkpoint(dir / "run" / "ckpt-5.safetensors", ck);
  Context c(TheoryOptions{.out = dir / "out", .progress = false});
  for (Negatives negatives : {Negatives::uniform, Negatives::mixed})
    CHECK(final_accuracy(c, dir / "run", "dyck-1", 1, 2, 4, negatives, 7) == Approx(2.0 / 3));
  // Read back from DIR/units: the same number without the checkpoint.
  std::filesystem::remove(dir / "run" / "ckpt-5.safetensors");
  CHECK(final_accuracy(c, dir / "run", "dyck-1", 1, 2, 4, Negatives::mixed, 7) == Approx(2.0 / 3));
  std::filesystem::remove_all(dir);
}
