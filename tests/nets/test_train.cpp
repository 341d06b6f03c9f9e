// Training: learnability of the shipped recipes (small, fast versions), determinism, resume,
// and checkpoint validation.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "lang/builtin.h"
#include "lang/spec.h"
#include "nets/checkpoint.h"
#include "nets/train.h"

using namespace saturn;
using namespace saturn::nets;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / fmt::format("saturn-{}-{}", name, ::getpid());
  fs::remove_all(d);
  return d;
}

RunConfig recipe(const std::string& file) {
  RunConfig c;
  c.load(fs::path(SATURN_SOURCE_DIR) / "examples" / "configs" / file);
  return c;
}

// metrics.jsonl without the wall-clock field.
std::vector<nlohmann::json> metrics(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("tokens_per_s");
    out.push_back(j);
  }
  return out;
}

double held_out_accuracy(const fs::path& run, const std::string& lang, int lo, int hi) {
  Checkpoint c = load_checkpoint(latest_checkpoint(run));
  Transformer<float> model(c.config.model, c.num_symbols);
  model.params.assign(c.params.begin(), c.params.end());
  Sampler sampler(builtin(lang));
  return evaluate(model, sampler, lo, hi, 50, false, /*seed, unlike training's*/ 987654321)
      .accuracy();
}

}  // namespace

TEST_CASE("the majority recipe reaches 99% on held-out words of lengths 1..40", "[nets]") {
  fs::path run = fresh_dir("majority");
  train(builtin("majority"), recipe("majority.toml"), {run, false, true});
  CHECK(held_out_accuracy(run, "majority", 1, 40) >= 0.99);
  fs::remove_all(run);
}

TEST_CASE("the dyck1 recipe (shortened) reaches 95% on held-out words of lengths 1..40", "[nets]") {
  fs::path run = fresh_dir("dyck1");
  RunConfig c = recipe("dyck1.toml");
  c.set("steps", "600");  // the full recipe runs 1500 steps; 500 already give 0.99
  train(builtin("dyck-1"), c, {run, false, true});
  CHECK(held_out_accuracy(run, "dyck-1", 1, 40) >= 0.95);
  fs::remove_all(run);
}

TEST_CASE("training is deterministic, and resuming equals not stopping", "[nets]") {
  RunConfig c;
  for (auto kv : {"d_model=16", "d_ff=32", "steps=40", "checkpoint_every=20", "eval_every=20",
                  "train_lengths=1:12", "test_lengths=13:16", "max_length=16", "eval_per_length=4",
                  "batch_size=8"})
    c.set_assignment(kv);
  fs::path a = fresh_dir("det-a"), b = fresh_dir("det-b"), r = fresh_dir("det-resume");
  train(builtin("dyck-1"), c, {a, false, true});
  train(builtin("dyck-1"), c, {b, false, true});
  REQUIRE(metrics(a).size() == 40 + 2);
  CHECK(metrics(a) == metrics(b));
  // Stop at step 20: keep only what an interrupted run would have left.
  fs::create_directories(r);
  for (const char* f : {"ckpt-20.safetensors", "config.toml", "metrics.jsonl"})
    fs::copy(a / f, r / f);
  RunConfig resumed;
  resumed.load(r / "config.toml");
  train(builtin("dyck-1"), resumed, {r, true, true});
  CHECK(metrics(r) == metrics(a));
  Checkpoint x = load_checkpoint(a / "ckpt-40.safetensors"),
             y = load_checkpoint(r / "ckpt-40.safetensors");
  CHECK(x.params == y.params);
  CHECK(x.adam_m == y.adam_m);
  for (const auto& d : {a, b, r}) fs::remove_all(d);
}

TEST_CASE("bad checkpoints are named, with what is wrong", "[nets]") {
  fs::path dir = fresh_dir("ckpt");
  fs::create_directories(dir);
  RunConfig c;
  c.set("d_model", "8");
  c.set("n_heads", "2");
  Checkpoint ck;
  ck.config = c;
  ck.num_symbols = 2;
  ck.language_name = "majority";
  ck.params.assign(ParameterLayout(c.model, 2).total(), 0.5f);
  save_checkpoint(dir / "good.safetensors", ck);
  CHECK(load_checkpoint(dir / "good.safetensors").params == ck.params);

  std::ifstream in(dir / "good.safetensors", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto message = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir / name, std::ios::binary) << content;
    try {
      load_checkpoint(dir / name);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message("short.safetensors", bytes.substr(0, 5)),
             Catch::Contains("short.safetensors: truncated"));
  CHECK_THAT(message("cut.safetensors", bytes.substr(0, bytes.size() - 10)),
             Catch::Contains("truncated: tensor 'head.w' ends at byte"));
  CHECK_THAT(message("junk.safetensors", std::string("\x04\0\0\0\0\0\0\0{{{{", 12)),
             Catch::Contains("not valid JSON"));
  // A foreign safetensors file: valid, but no saturn metadata.
  std::string foreign = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string len(8, '\0');
  len[0] = static_cast<char>(foreign.size());
  CHECK_THAT(message("foreign.safetensors", len + foreign + std::string(4, '\0')),
             Catch::Contains("not a saturn checkpoint"));
  // The config in the metadata says d_model 16, the tensors were saved for 8.
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  std::string config = header["__metadata__"]["config"];
  config.replace(config.find("d_model = 8"), 11, "d_model = 16");
  header["__metadata__"]["config"] = config;
  std::string h = header.dump();
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  CHECK_THAT(message("shape.safetensors", prefix + h + bytes.substr(8 + n)),
             Catch::Contains("tensor 'embed.wte' has shape [4,8], config says [4,16]"));
  fs::remove_all(dir);
}

TEST_CASE("bad configuration values name the key and every allowed value", "[nets]") {
  auto error = [](const std::string& text) {
    RunConfig c;
    try {
      c.load_text(text, "run.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // The key as written in the file, not the command-line flag of `saturn lang sample`.
  CHECK(
      error("negatives = \"some\"\n") ==
      "run.toml:1:13: negatives: unknown value 'some' (expected none, uniform, near-miss, mixed)");
  CHECK_THAT(error("attention = \"foo\"\n"),
             Catch::Contains(
                 "attention: unknown value 'foo' (expected softmax, relu, relu2, gelu, softplus, "
                 "identity, relu6, sigmoid, sparsemax, hard)"));
  CHECK_THAT(error("steps = 1.5\n"), Catch::Contains("steps: expected a whole number, got '1.5'"));
  CHECK_THAT(error("ffn_activation = \"relu2\"\n"), Catch::Contains("(expected relu, gelu)"));
  // And every name reads back as what it printed.
  RunConfig c;
  c.load_text(
      "attention = \"relu6\"\nnorm = \"rms\"\npositional = \"fraction\"\nschedule = "
      "\"warmup_linear\"\n"
      "optimizer = \"adamw\"\nobjective = \"next-symbol\"\nreadout = \"mean\"\nnorm_position = "
      "\"post\"\n",
      "run.toml");
  RunConfig back;
  back.load_text(c.to_toml(), "back.toml");
  CHECK(back.to_toml() == c.to_toml());
  CHECK(c.to_toml().find("attention = \"relu6\"") != std::string::npos);
  CHECK(c.to_toml().find("schedule = \"warmup_linear\"") != std::string::npos);
}

TEST_CASE("learn: mean over seeds and the Chomsky-hierarchy score", "[nets]") {
  // Lengths weigh equally in the CH score, words in accuracy().
  EvalResult r;
  r.per_length[1] = {1, 2};
  r.per_length[2] = {9, 10};
  CHECK(mean_over_lengths(r) == Approx(0.7));
  CHECK(r.accuracy() == Approx(10.0 / 12.0));
  RunConfig c;
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"d_model", "8"},
                                                        {"n_heads", "1"},
                                                        {"d_ff", "16"},
                                                        {"n_layers", "1"},
                                                        {"steps", "30"},
                                                        {"train_lengths", "1:6"},
                                                        {"test_lengths", "7:9"},
                                                        {"negatives", "near-miss"},
                                                        {"eval_every", "0"},
                                                        {"checkpoint_every", "0"}})
    c.set(k, v);
  const auto dir = fresh_dir("learn-mean");
  const auto rep = learnability(resolve_language("majority"), c, 3, dir, 4, true);
  REQUIRE(rep.seeds.size() == 3);
  double in = 0, out = 0, ch = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    in += rep.in_range[i].accuracy() / 3;
    out += rep.out_of_range[i].accuracy() / 3;
    ch = std::max(ch, mean_over_lengths(rep.out_of_range[i]));
  }
  CHECK(rep.mean_in == Approx(in));
  CHECK(rep.mean_out == Approx(out));
  CHECK(rep.ch_score == Approx(ch));
  CHECK(rep.mean_in <= rep.best_in);
  // The runs trained with the negatives asked for.
  RunConfig back;
  back.load(dir / "seed-0" / "config.toml");
  CHECK(back.train.negatives == Negatives::near_miss);
  fs::remove_all(dir);
}

TEST_CASE("next-symbol evaluation: a word is right when every position's predicted set is exact",
          "[nets]") {
  // Over {a, b} every word is accepted, so within lengths <= hi every symbol and the end are
  // legal at every position but the last of a word of length hi (only the end is legal there).
  auto all = load_spec("name = \"all\"\nalphabet = [\"a\", \"b\"]\n[accept]\nregex = \".*\"\n",
                       "all.toml");
  ModelConfig mc;
  mc.d_model = 8;
  mc.n_heads = 2;
  mc.n_layers = 1;
  mc.d_ff = 8;
  mc.objective = Objective::next_symbol;
  Transformer<float> model(mc, 2);
  std::fill(model.params.begin(), model.params.end(), 0.0f);
  Sampler sampler(all);
  // All weights zero: every logit is 0, no output is predicted, no word is right.
  const auto none = evaluate(model, sampler, 1, 4, 5, false, 7);
  REQUIRE(none.per_length.size() == 4);
  for (const auto& [n, ct] : none.per_length) {
    CHECK(ct.first == 0);
    CHECK(ct.second == 5);
  }
  // The head's bias alone at +1: every output predicted everywhere. Right below hi = 4, wrong at
  // length 4 (whose last position allows only the end).
  const TensorInfo* bias = model.layout().find("head.b");
  REQUIRE(bias);
  std::fill_n(model.params.begin() + static_cast<std::ptrdiff_t>(bias->offset), bias->size, 1.0f);
  const auto every = evaluate(model, sampler, 1, 4, 5, false, 7);
  CHECK(every.per_length.at(1).first == 5);
  CHECK(every.per_length.at(3).first == 5);
  CHECK(every.per_length.at(4).first == 0);
  CHECK_THROWS_AS(evaluate(model, sampler, 1, 4, 5, true, 7), InputError);
}

TEST_CASE("weight_norm is param_norm without the LayerNorm gains and biases", "[nets]") {
  ModelConfig cfg;  // pre-LN, 2 layers, d_model 32: 5 norms (2 per layer and the final one)
  cfg.d_model = 32, cfg.n_layers = 2, cfg.n_heads = 2, cfg.d_ff = 64;
  Transformer<float> model(cfg, 2);
  model.init();
  const double rho = parameter_norm(model.layout(), model.params.data());
  const double w = weight_norm(model.layout(), model.params.data());
  double norms = -1;
  for (const auto& [group, n] : parameter_group_norms(model.layout(), model.params.data()))
    if (group == "norm") norms = n;
  REQUIRE(norms >= 0);
  CHECK(rho * rho == Approx(w * w + norms * norms));
  // At initialisation the gains are 1 and the biases 0: 5 x 32 ones.
  CHECK(norms * norms == Approx(5 * 32));
  CHECK(w < norms);  // N(0, 0.02) weights: the gains are most of rho(0)^2
}
