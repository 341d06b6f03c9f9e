// Training regimes toward hard attention (issue 24 §1): the inverse-temperature schedule and
// the scale a checkpoint records, straight-through average-hard attention, the score margin.
#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.h"
#include "gradcheck.h"
#include "lang/builtin.h"
#include "lang/sample.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/margin.h"
#include "nets/model.h"
#include "nets/train.h"
#include "support/run_saturn.h"

using namespace saturn;
using namespace saturn::nets;
namespace fs = std::filesystem;

namespace {

fs::path regime_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / fmt::format("saturn-regime-{}-{}", name, ::getpid());
  fs::remove_all(d);
  return d;
}

RunConfig small_run(std::initializer_list<const char*> extra) {
  RunConfig c;
  for (auto kv : {"d_model=8", "n_heads=2", "n_layers=1", "d_ff=16", "steps=8",
                  "checkpoint_every=4", "eval_every=4", "train_lengths=1:8", "test_lengths=9:10",
                  "max_length=10", "eval_per_length=2", "batch_size=8"})
    c.set_assignment(kv);
  for (auto kv : extra) c.set_assignment(kv);
  return c;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A (sequence, head) batch over random q, k, v: B = 2 sequences (one padded), H = 2.
struct Qkv {
  int B = 2, Tn = 5, C = 4, H = 2;
  std::vector<int> lengths = {5, 3};
  std::vector<double> qkv;
  explicit Qkv(unsigned seed) {
    std::mt19937 rng(seed);
    qkv = test::random_vector(static_cast<std::size_t>(B) * Tn * 3 * C, rng);
  }
};

}  // namespace

TEST_CASE("the inverse-temperature schedule at steps 0, mid and end", "[nets]") {
  ModelConfig c;
  c.set("attention_scale", "1");
  c.set("attention_scale_end", "16");
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("attention_scale_end"));  // constant: refused
  c.set("attention_scale_schedule", "linear");
  c.validate();
  CHECK(c.attention_scale_at(0, 100) == 1.0);
  CHECK(c.attention_scale_at(50, 100) == Approx(8.5).epsilon(1e-15));
  CHECK(c.attention_scale_at(25, 100) == Approx(4.75).epsilon(1e-15));
  CHECK(c.attention_scale_at(100, 100) == 16.0);
  c.set("attention_scale_schedule", "geometric");
  CHECK(c.attention_scale_at(0, 100) == 1.0);
  CHECK(c.attention_scale_at(50, 100) == Approx(4.0).epsilon(1e-14));
  CHECK(c.attention_scale_at(25, 100) == Approx(2.0).epsilon(1e-14));
  CHECK(c.attention_scale_at(100, 100) == 16.0);
  ModelConfig constant;  // the default: end = start, at every step
  constant.set("attention_scale", "3");
  CHECK(constant.attention_scale_at(7, 10) == 3.0);
  CHECK(constant.to_map().at("attention_scale_end") == "3");
}

TEST_CASE("a scheduled run's checkpoints hold their step's scale, and resuming equals not stopping",
          "[nets]") {
  RunConfig c =
      small_run({"attention_scale=1", "attention_scale_end=5", "attention_scale_schedule=linear"});
  const fs::path a = regime_dir("sched-a"), r = regime_dir("sched-r");
  train(builtin("majority"), c, {a, false, true});
  for (auto [step, scale] : {std::pair{0, 1.0}, {4, 3.0}, {8, 5.0}}) {
    const Checkpoint k = load_checkpoint(a / fmt::format("ckpt-{}.safetensors", step));
    CHECK(k.config.model.attention_scale == scale);
    REQUIRE(k.start_attention_scale);
    CHECK(*k.start_attention_scale == 1.0);
    // Every inference builds its model from the loaded config: it runs at the step's scale.
    Transformer<double> model(k.config.model, k.num_symbols);
    CHECK(model.attention().score_scale == scale);
  }
  // config.toml keeps the start value (what --resume compares).
  RunConfig written;
  written.load(a / "config.toml");
  CHECK(written.model.attention_scale == 1.0);
  fs::create_directories(r);
  for (const char* f : {"ckpt-4.safetensors", "config.toml", "metrics.jsonl"})
    fs::copy(a / f, r / f);
  train(builtin("majority"), written, {r, true, true});
  auto without_speed = [](const fs::path& run) {
    std::vector<nlohmann::json> out;
    for (const auto& line : lines_of(run / "metrics.jsonl")) {
      auto j = nlohmann::json::parse(line);
      j.erase("tokens_per_s");
      out.push_back(j);
    }
    return out;
  };
  const auto ma = without_speed(a);
  CHECK(ma == without_speed(r));
  CHECK(ma.at(0).at("attention_scale") == 1.5);  // step 1 of 8: 1 + 4/8
  CHECK(load_checkpoint(a / "ckpt-8.safetensors").params ==
        load_checkpoint(r / "ckpt-8.safetensors").params);
  for (const auto& d : {a, r}) fs::remove_all(d);
}

TEST_CASE("hard attention: tied scores average uniformly, the set rule picks the rest", "[nets]") {
  // One sequence of 3 keys, one head, dh = 2 (C = 2): q = (1, 0) at every position; keys
  // (2, 0), (2, 0), (1.7, 0): scaled scores (scale 1, 1/sqrt 2) 1.414, 1.414, 1.202.
  const int B = 1, Tn = 3, C = 2, H = 1;
  std::vector<double> qkv = {1, 0, 2,   0, 10, 0,  //
                             1, 0, 2,   0, 20, 1,  //
                             1, 0, 1.7, 0, 60, 2};
  const std::vector<int> lengths = {3};
  std::vector<double> out(static_cast<std::size_t>(Tn) * C);
  AttentionSpec spec;
  spec.hard = HardAttention::average;
  SECTION("argmax: the two tied keys, each 1/2") {
    attention_forward(out.data(), static_cast<double*>(nullptr), qkv.data(), lengths.data(), spec,
                      B, Tn, C, H);
    CHECK(out[0] == 15.0);
    CHECK(out[1] == 0.5);
  }
  SECTION("tolerance 0.25 (> 0.212): all three, each 1/3") {
    spec.tolerance = {0.25};
    attention_forward(out.data(), static_cast<double*>(nullptr), qkv.data(), lengths.data(), spec,
                      B, Tn, C, H);
    CHECK(out[0] == Approx(30.0).epsilon(1e-15));
    CHECK(out[1] == Approx(1.0).epsilon(1e-15));
  }
  SECTION("the model's config sets the rule: attention = \"hard\", attention_set = \"uniform\"") {
    ModelConfig c;
    c.set("attention", "hard");
    c.set("attention_set", "uniform");
    c.validate();
    CHECK(c.to_map().at("attention") == "\"hard\"");
    Transformer<double> model(c, 2);
    CHECK(model.attention().hard == HardAttention::average);
    REQUIRE(model.attention().tolerance.size() == 4u);  // 2 layers x 2 heads
    CHECK(std::isinf(model.attention().tolerance[3]));
  }
}

TEST_CASE("straight-through backward: hard weights for dV, the softmax Jacobian for dq and dk",
          "[nets]") {
  auto causal = GENERATE(false, true);
  Qkv x(5);
  AttentionSpec hard;
  hard.hard = HardAttention::average;
  hard.causal = causal;
  hard.score_scale = 1.7;
  hard.tolerance = {0.0, 0.4};  // head 0 argmax, head 1 tolerance
  AttentionSpec soft = hard;
  soft.hard = HardAttention::none;
  soft.tolerance.clear();
  std::mt19937 rng(9);
  const auto dout = test::random_vector(static_cast<std::size_t>(x.B) * x.Tn * x.C, rng);
  std::vector<double> dqkv(x.qkv.size(), 0.0);
  attention_backward(dqkv.data(), dout.data(), x.qkv.data(), static_cast<const double*>(nullptr),
                     x.lengths.data(), hard, x.B, x.Tn, x.C, x.H);
  // Independently: <dout, out> under softmax differentiated in q and k, under hard attention
  // (linear in v) differentiated in v, both by central differences.
  std::vector<double> out(dout.size());
  auto objective = [&](const AttentionSpec& spec) {
    attention_forward(out.data(), static_cast<double*>(nullptr), x.qkv.data(), x.lengths.data(),
                      spec, x.B, x.Tn, x.C, x.H);
    return test::dot(out, dout);
  };
  double worst_qk = 0, worst_v = 0, norm_v = 0;
  const double h = 1e-6;
  for (std::size_t i = 0; i < x.qkv.size(); ++i) {
    const bool value = (i % (3 * x.C)) >= static_cast<std::size_t>(2 * x.C);
    const AttentionSpec& spec = value ? hard : soft;
    const double saved = x.qkv[i];
    x.qkv[i] = saved + h;
    const double plus = objective(spec);
    x.qkv[i] = saved - h;
    const double minus = objective(spec);
    x.qkv[i] = saved;
    const double numeric = (plus - minus) / (2 * h);
    double& worst = value ? worst_v : worst_qk;
    worst = std::max(worst, std::abs(numeric - dqkv[i]) / std::max(1.0, std::abs(numeric)));
    if (value) norm_v += dqkv[i] * dqkv[i];
  }
  CHECK(worst_qk < 1e-7);
  CHECK(worst_v < 1e-7);
  CHECK(norm_v > 1e-6);
  // And it is not the softmax backward: dV differs.
  std::vector<double> dsoft(x.qkv.size(), 0.0);
  attention_backward(dsoft.data(), dout.data(), x.qkv.data(), static_cast<const double*>(nullptr),
                     x.lengths.data(), soft, x.B, x.Tn, x.C, x.H);
  double dv_difference = 0;
  for (std::size_t i = 0; i < dsoft.size(); ++i)
    if ((i % (3 * x.C)) >= static_cast<std::size_t>(2 * x.C))
      dv_difference = std::max(dv_difference, std::abs(dsoft[i] - dqkv[i]));
  CHECK(dv_difference > 1e-3);
}

TEST_CASE("the score margin: a hand-computed row, and its gradient by finite differences",
          "[nets]") {
  SECTION("one row: scores 3, 2.9, 0 (argmax set {0}), gap 1: hinge 0.9") {
    // dh = 1, scale 1: s_j = q k_j. One query row per sequence (query_pos).
    std::vector<double> qkv = {1, 3, 0, 0, 2.9, 0, 0, 0, 0};
    const std::vector<int> lengths = {3}, query_pos = {0};
    AttentionSpec spec;
    double sum = 0;
    CHECK(margin_forward(&sum, qkv.data(), lengths.data(), spec, 0.0, 1.0, 1, 3, 1, 1,
                         query_pos.data()) == 1);
    CHECK(sum == Approx(0.9).epsilon(1e-12));
    // Tolerance 0.2: the set is {0, 1}, the gap 2.9 - 0 > 1: no hinge.
    CHECK(margin_forward(&sum, qkv.data(), lengths.data(), spec, 0.2, 1.0, 1, 3, 1, 1,
                         query_pos.data()) == 1);
    CHECK(sum == 0.0);
  }
  SECTION("the whole model with a margin: gradient of loss + penalty") {
    auto keys =
        GENERATE(std::vector<std::pair<const char*, const char*>>{{"attention_set", "argmax"}},
                 std::vector<std::pair<const char*, const char*>>{{"attention_set", "tolerance"},
                                                                  {"attention_tolerance", "0.3"},
                                                                  {"causal", "true"},
                                                                  {"readout", "eos"}});
    ModelConfig config;
    config.d_model = 8;
    config.n_heads = 2;
    config.d_ff = 12;
    config.init_std = 0.5;
    config.max_length = 8;
    config.seed = 4;
    config.set("attention_margin", "0.7");
    config.set("attention_margin_gap", "3");
    for (auto [k, v] : keys) config.set(k, v);
    auto lang = builtin("dyck-1");
    std::vector<Example> examples;
    for (const char* w : {"(())", "()", "())(()"}) {
      Word word = lang->alphabet().parse(w);
      examples.push_back({word, lang->accepts(word) ? 1 : 0, std::nullopt});
    }
    std::vector<const Example*> ptrs;
    for (const auto& e : examples) ptrs.push_back(&e);
    Transformer<double> model(config, 2);
    model.init();
    auto batch = make_batch<double>(ptrs, 2, config.objective);
    auto loss = [&] { return model.forward(batch); };
    REQUIRE(std::isfinite(loss()));
    CHECK(model.margin_loss() > 0.1);  // gap 3 is far from met at init
    model.zero_grad();
    model.backward(batch);
    CHECK(test::gradient_error(model.params, model.grads, loss) < 1e-6);
    // Without the margin the gradient differs: the check covers the penalty's own part.
    ModelConfig plain = config;
    plain.attention_margin = 0, plain.attention_margin_gap = 1;
    plain.attention_set = AttentionSet::argmax, plain.attention_tolerance = 0.5;
    Transformer<double> without(plain, 2);
    without.params = model.params;
    const double task = without.forward(batch);
    CHECK(loss() == Approx(task + model.margin_loss()).epsilon(1e-12));
    without.zero_grad();
    without.backward(batch);
    double difference = 0;
    for (std::size_t i = 0; i < model.grads.size(); ++i)
      difference = std::max(difference, std::abs(model.grads[i] - without.grads[i]));
    CHECK(difference > 1e-4);
  }
}

TEST_CASE("regime keys: a key that would have no effect is refused, naming it", "[nets]") {
  auto refused = [](std::initializer_list<std::pair<const char*, const char*>> kv) {
    ModelConfig c;
    try {
      for (auto [k, v] : kv) c.set(k, v);
      c.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused({{"attention_tolerance", "0.3"}}), Catch::Contains("attention_tolerance"));
  CHECK_THAT(refused({{"attention", "hard"}, {"attention_tolerance", "0.3"}}),
             Catch::Contains("attention_tolerance"));
  CHECK_THAT(refused({{"attention_set", "tolerance"}}), Catch::Contains("attention_set"));
  CHECK_THAT(refused({{"attention_margin_gap", "2"}}), Catch::Contains("attention_margin_gap"));
  CHECK_THAT(refused({{"attention", "relu"}, {"attention_margin", "1"}}),
             Catch::Contains("attention_margin"));
  CHECK_THAT(
      refused({{"attention", "hard"}, {"attention_set", "uniform"}, {"attention_margin", "1"}}),
      Catch::Contains("attention_margin"));
  CHECK_THAT(refused({{"attention_scale_schedule", "cosine"}}),
             Catch::Contains("attention_scale_schedule") && Catch::Contains("geometric"));
  CHECK_THAT(refused({{"attention_tolerance", "-1"}}), Catch::Contains("attention_tolerance"));
  CHECK(refused({{"attention", "hard"},
                 {"attention_set", "tolerance"},
                 {"attention_tolerance", "0.3"},
                 {"attention_margin", "0.1"}}) == "accepted");
  // Through the command line: one line, exit 2.
  const fs::path dir = regime_dir("refused");
  const auto r = test::run_saturn("train --lang majority --out " + dir.string() +
                                  " --set attention_tolerance=0.3");
  fs::remove_all(dir);
  CHECK(r.code == 2);
  CHECK(r.err.rfind("saturn: ", 0) == 0);
  CHECK_THAT(r.err, Catch::Contains("attention_tolerance"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("a short run in each regime: finite loss, and saturn eval loads its checkpoint",
          "[nets]") {
  struct Regime {
    const char* name;
    std::initializer_list<const char*> keys;
  };
  for (const Regime& regime :
       {Regime{"geometric", {"attention_scale_end=8", "attention_scale_schedule=geometric"}},
        Regime{"hard-tolerance",
               {"attention=hard", "attention_set=tolerance", "attention_tolerance=0.25"}},
        Regime{"hard-uniform", {"attention=hard", "attention_set=uniform"}},
        Regime{"margin", {"attention_margin=0.5", "attention_margin_gap=2"}},
        Regime{"hard-margin", {"attention=hard", "attention_margin=0.5"}}}) {
    INFO(regime.name);
    const fs::path dir = regime_dir(regime.name);
    const TrainSummary s = train(builtin("majority"), small_run(regime.keys), {dir, false, true});
    CHECK(std::isfinite(s.final_loss));
    const auto metrics = lines_of(dir / "metrics.jsonl");
    REQUIRE(!metrics.empty());
    if (std::string(regime.name).find("margin") != std::string::npos) {
      const auto first = nlohmann::json::parse(metrics.front());
      CHECK(first.at("margin_loss").get<double>() > 0);
      CHECK(first.at("loss").get<double>() > first.at("margin_loss").get<double>());
    }
    const auto r = test::run_saturn("eval " + dir.string() + " --lengths 1:6 --per-length 4");
    CHECK(r.code == 0);
    CHECK(r.err.find("saturn:") == std::string::npos);
    fs::remove_all(dir);
  }
}
