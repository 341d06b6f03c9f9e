// Hardening of nets/ (issue "no crash, no silent wrong answer"): strict configuration values,
// sizes checked against the memory budget before allocation, run directories that are locked
// and never mixed, resume that checks what it continues, words longer than max_length refused.
#include <catch2/catch.hpp>

#include <cmath>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "lang/builtin.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"
#include "nets/train.h"
#include "support/run_saturn.h"

using namespace saturn;
using namespace saturn::nets;
namespace fs = std::filesystem;
using saturn::test::run_saturn;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / fmt::format("saturn-limits-{}-{}", name, ::getpid());
  fs::remove_all(d);
  return d;
}

// A run small enough to train in a fraction of a second.
RunConfig tiny() {
  RunConfig c;
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"d_model", "8"},
                                                        {"n_heads", "2"},
                                                        {"d_ff", "16"},
                                                        {"n_layers", "1"},
                                                        {"steps", "6"},
                                                        {"batch_size", "4"},
                                                        {"checkpoint_every", "3"},
                                                        {"eval_every", "3"},
                                                        {"train_lengths", "1:6"},
                                                        {"test_lengths", "7:8"},
                                                        {"eval_per_length", "2"},
                                                        {"max_length", "16"}})
    c.set(k, v);
  return c;
}

}  // namespace

TEST_CASE("configuration values: ranges, finite, never coerced", "[nets]") {
  RunConfig c;
  CHECK_THAT(error_of([&] { c.set("d_model", "1e3"); }),
             Catch::Contains("d_model: expected a whole number, got '1e3'"));
  CHECK_THAT(error_of([&] { c.set("d_model", "4294967304"); }),
             Catch::Contains("d_model: must be a whole number in 1..65536"));
  CHECK_THAT(error_of([&] { c.set("lr", "nan"); }),
             Catch::Contains("lr: expected a finite number"));
  CHECK_THAT(error_of([&] { c.set("lr", "inf"); }),
             Catch::Contains("lr: expected a finite number"));
  CHECK_THAT(error_of([&] { c.set("norm_eps", "-1"); }),
             Catch::Contains("norm_eps: must be in [0, 1]"));
  CHECK_THAT(error_of([&] { c.set("init_std", "0"); }), Catch::Contains("init_std: must be > 0"));
  CHECK_THAT(error_of([&] { c.set("causal", "1"); }),
             Catch::Contains("causal: expected true or false, got '1'"));
  CHECK_THAT(error_of([&] { c.set("batch_size", "0"); }),
             Catch::Contains("batch_size: must be a whole number in 1.."));
  CHECK_THAT(
      error_of([&] { c.set("stepz", "5"); }),
      Catch::Contains("unknown key 'stepz': not a model or training key (did you mean 'steps'?)"));
  c.set("seed", "18446744073709551615");
  CHECK(c.model.seed == UINT64_MAX);
  // -0 reads as 0 and writes back as 0 (found by the config fuzzer: "-0" read back as 0).
  RunConfig zero;
  zero.load_text("lr = -0.0\n", "run.toml");
  CHECK(!std::signbit(zero.train.optimizer.lr));
  RunConfig again;
  again.load_text(zero.to_toml(), "again.toml");
  CHECK(again.to_map() == zero.to_map());
  // A TOML float is not an integer, even when whole; errors carry file:line:col.
  CHECK_THAT(error_of([&] { RunConfig().load_text("steps = 1000.0\n", "run.toml"); }),
             Catch::Contains("run.toml:1:9: steps: expected a whole number, got '1000.0'"));
  CHECK_THAT(error_of([&] { RunConfig().load_text("norm_eps = 2.5\n", "run.toml"); }),
             Catch::Contains("run.toml:1:12: norm_eps: must be in [0, 1]"));
  CHECK_THAT(error_of([&] { RunConfig().load_text("d_model = 10\nn_heads = 3\n", "run.toml"); }),
             Catch::Contains("run.toml: d_model (10) must be divisible by n_heads (3)"));
}

TEST_CASE("model sizes are checked against the memory budget before allocation", "[nets]") {
  ModelConfig big;
  big.d_model = 20000;
  big.n_heads = 4;
  CHECK(model_memory(big, 2, 32, 42, true) > 4e9);
  const auto saved = memory_budget();
  set_memory_budget(std::uint64_t(1) << 30);
  CHECK_THROWS_AS(require_model_memory(big, 2, 32, 42, true, "d_model"), LimitError);
  CHECK_THAT(error_of([&] { require_model_memory(big, 2, 32, 42, true, "d_model"); }),
             Catch::Contains("d_model: a model with d_model 20000"));
  RunConfig c = tiny();
  c.set("d_model", "20000");
  c.set("n_heads", "4");
  const auto dir = fresh_dir("budget");
  CHECK_THROWS_AS(train(builtin("majority"), c, {dir, false, true}), LimitError);
  CHECK(!fs::exists(dir));  // refused before the run directory was made
  set_memory_budget(saved);
  // The estimate is of the right order: a model's parameters alone are counted exactly.
  ModelConfig small;
  Transformer<float> model(small, 2);
  CHECK(model_memory(small, 2, 1, 3, false) >= 2.0 * 4 * model.params.size());
  CHECK(model_memory(small, 2, 1, 3, false) < 3.0 * 4 * model.params.size() + 1e6);
}

TEST_CASE("a word longer than max_length is refused, not read past the positions", "[nets]") {
  ModelConfig m;
  m.max_length = 4;
  Transformer<float> model(m, 2);
  model.init();
  Example e{Word(5, 0), 1, std::nullopt};
  std::vector<const Example*> ptrs{&e};
  const auto batch = make_batch<float>(ptrs, 2, Objective::recognize);
  CHECK_THAT(error_of([&] { model.forward(batch); }),
             Catch::Contains("a word of length 5 is longer than the model's max_length (4)"));
}

TEST_CASE("run directories: fresh, overwrite, resume, and one writer at a time", "[nets]") {
  const auto dir = fresh_dir("rundir");
  const auto lang = builtin("majority");
  train(lang, tiny(), {dir, false, true});
  const auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  const auto first = listing();
  CHECK(std::count(first.begin(), first.end(), "ckpt-6.safetensors") == 1);
  // A fresh run into it is refused; --overwrite replaces it.
  CHECK_THAT(error_of([&] {
               train(lang, tiny(), {dir, false, true});
             }),
             Catch::Contains("is not empty (it holds a run); continue it with --resume"));
  RunConfig shorter = tiny();
  shorter.set("steps", "2");
  shorter.set("checkpoint_every", "1");
  train(lang, shorter, {dir, false, true, /*overwrite=*/true});
  const auto second = listing();
  CHECK(std::count(second.begin(), second.end(), "ckpt-6.safetensors") == 0);
  CHECK(std::count(second.begin(), second.end(), "ckpt-2.safetensors") == 1);
  // --overwrite does not empty a directory that holds no run.
  const auto other = fresh_dir("notarun");
  fs::create_directories(other);
  std::ofstream(other / "notes.txt") << "mine";
  CHECK_THAT(error_of([&] {
               train(lang, tiny(), {other, false, true, true});
             }),
             Catch::Contains("holds no saturn run"));
  CHECK(fs::exists(other / "notes.txt"));
  // --resume: a different language or key is refused; a finished run is left alone.
  CHECK_THAT(error_of([&] {
               train(builtin("parity"), shorter, {dir, true, true});
             }),
             Catch::Contains("was trained on 'majority', not on 'parity'"));
  RunConfig changed = shorter;
  changed.set("lr", "0.5");
  CHECK_THAT(error_of([&] {
               train(lang, changed, {dir, true, true});
             }),
             Catch::Contains("only `steps` may change when a run is resumed; changed: lr = 0.5"));
  const std::string metrics = saturn::test::slurp(dir / "metrics.jsonl"),
                    summary = saturn::test::slurp(dir / "summary.json");
  CHECK(train(lang, shorter, {dir, true, true}).already_finished);
  CHECK(saturn::test::slurp(dir / "metrics.jsonl") == metrics);
  CHECK(saturn::test::slurp(dir / "summary.json") == summary);
  // More steps continue it.
  RunConfig longer = shorter;
  longer.set("steps", "4");
  CHECK(train(lang, longer, {dir, true, true}).steps == 4);
  // A second writer is refused, naming the holder.
  const int fd = ::open((dir / ".lock").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  CHECK_THAT(error_of([&] { RunDirectory(dir, RunDirectory::Mode::resume); }),
             Catch::Contains("is in use by another saturn (pid"));
  ::close(fd);
  CHECK_NOTHROW(RunDirectory(dir, RunDirectory::Mode::resume));
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST_CASE("checkpoint names and files out of range are named", "[nets]") {
  const auto dir = fresh_dir("names");
  fs::create_directories(dir);
  std::ofstream(dir / "ckpt-99999999999999999999.safetensors") << "x";
  CHECK_THAT(error_of([&] { list_checkpoints(dir); }),
             Catch::Contains("the step in this checkpoint's name is out of range"));
  fs::remove_all(dir);
  CHECK_THAT(error_of([] { load_checkpoint("/dev/zero"); }), Catch::Contains("/dev/zero:"));
}

TEST_CASE("train and eval at the command line: named errors, exit 2", "[nets][cli]") {
  const auto dir = fresh_dir("cli");
  fs::create_directories(dir);
  const std::string run = (dir / "run").string();
  auto r = run_saturn("train --lang majority --out " + run +
                      " --set steps=3 --set d_model=8 --set n_heads=2 --set d_ff=8 "
                      "--set max_length=12 --set train_lengths=1:6 --set test_lengths=7:12 -q");
  REQUIRE(r.code == 0);
  r = run_saturn("eval " + run + " --lengths 20000:20000");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--lengths: 20000 is longer than the model's max_length (12)"));
  std::ofstream(dir / "long.jsonl")
      << "{\"word\":\"" << std::string(13, 'a') << "\",\"label\":1}\n";
  r = run_saturn("eval " + run + " --data " + (dir / "long.jsonl").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("long.jsonl:1: word: a word of length 13 is longer"));
  // A mislabelled data file (aab is not in majority) is refused by eval and train, naming the
  // line, unless --no-check-labels says the noise is deliberate.
  std::ofstream(dir / "noisy.jsonl") << "{\"word\":\"aaa\",\"label\":1}\n"
                                     << "{\"word\":\"abb\",\"label\":1}\n";
  const std::string noisy = (dir / "noisy.jsonl").string();
  r = run_saturn("eval " + run + " --data " + noisy);
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: " + noisy +
                     ":2: label: is 1, but the word abb is not in majority (--no-check-labels "
                     "accepts mislabelled data)\n");
  r = run_saturn("eval " + run + " --data " + noisy + " --no-check-labels --logits " +
                 (dir / "logits.json").string());
  CHECK(r.code == 0);
  // A per-length table, and the words beside the logits, in the file's order.
  CHECK_THAT(r.out, Catch::Contains("length  accuracy  words\n     3"));
  {
    std::ifstream in(dir / "logits.json");
    const auto lj = nlohmann::json::parse(in);
    CHECK(lj["words"] == nlohmann::json::array({"aaa", "abb"}));
    CHECK(lj["logits"].size() == 2);
  }
  r = run_saturn("eval " + run + " --data " + noisy + " --no-check-labels --json");
  REQUIRE(r.code == 0);
  const auto ej = nlohmann::json::parse(r.out);
  CHECK(ej["words"] == 2);
  CHECK(ej["per_length"]["3"]["words"] == 2);
  r = run_saturn("train --lang majority --out " + (dir / "noisy").string() +
                 " --set steps=2 --set d_model=8 --set n_heads=2 --set d_ff=8 --set "
                 "max_length=12 --set train_lengths=1:6 --set test_lengths=7:12 -q --set data=" +
                 noisy);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("noisy.jsonl:2: label: is 1, but the word abb"));
  r = run_saturn("train --lang majority --out " + (dir / "noisy").string() +
                 " --set steps=2 --set d_model=8 --set n_heads=2 --set d_ff=8 --set "
                 "max_length=12 --set train_lengths=1:6 --set test_lengths=7:12 -q --overwrite "
                 "--no-check-labels --set data=" +
                 noisy);
  CHECK(r.code == 0);
  r = run_saturn("learn --lang majority --seeds 1 --train-lengths 1:4 --test-lengths 5:6 --out " +
                 (dir / "learn").string() + " --negatives bogus");
  CHECK(r.code == 2);
  CHECK(r.err ==
        "saturn: --negatives: unknown value 'bogus' (expected none, uniform, near-miss, mixed)\n");
  r = run_saturn("learn --lang majority --seeds 1 --train-lengths 1:4 --test-lengths 5:6 --out " +
                 (dir / "learn").string() + " --objective next");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: --objective: unknown value 'next' (expected recognize, next-symbol)\n");
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  r = run_saturn("eval " + run + " --lang parity --lengths 1:3");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--lang: parity's alphabet (0 1) is not the model's (a b)"));
  r = run_saturn("train --lang majority --out " + run + " --set steps=3");
  CHECK(r.code == 2);
  r = run_saturn("train --lang majority --out /dev/null/x --set steps=3");
  CHECK(r.code == 2);
  CHECK(saturn::test::count_lines(r.err) == 1);
  r = run_saturn("train --lang majority --out " + (dir / "r2").string() +
                 " --set steps=3 --set data=/dev/zero");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("data: /dev/zero is not a regular file"));
  // Issue 23: a string for a number key is refused, not read as the number.
  std::ofstream(dir / "quoted.toml") << "steps = 3\nd_model = \"8\"\n";
  r = run_saturn("train --lang majority --out " + (dir / "r3").string() + " --config " +
                 (dir / "quoted.toml").string());
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: " + (dir / "quoted.toml").string() +
                     ":2:11: d_model: expected a number, got the string \"8\" (write it "
                     "without quotes)\n");
  std::ofstream(dir / "quoted.toml") << "qk_norm = \"true\"\n";
  r = run_saturn("train --lang majority --out " + (dir / "r3").string() + " --config " +
                 (dir / "quoted.toml").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(":1:11: qk_norm: expected a boolean, got the string"));
  CHECK_FALSE(fs::exists(dir / "r3"));
  // inspect: a word that starts with '-' needs --, and the message says so.
  r = run_saturn("inspect " + run + " -a");
  CHECK(r.code == 2);
  CHECK(r.err ==
        "saturn: inspect: unknown option '-a'; a word that begins with '-' goes after --, as in: "
        "saturn inspect ... -- -a\n");
  r = run_saturn("inspect " + run + " -- ab");
  CHECK(r.code == 0);
  fs::remove_all(dir);
}

TEST_CASE("threads: --threads on every command that computes, SATURN_THREADS, deterministic runs",
          "[nets][cli]") {
  // A bad count is refused before anything else is read, naming the flag or the variable.
  for (const char* command : {"train", "learn", "eval", "saturate", "heads", "circuit", "extract",
                              "inspect", "keys", "memories", "verify"})
    for (const char* bad : {"0", "5000", "x", "-"}) {
      INFO(command << " --threads " << bad);
      const auto r = run_saturn(fmt::format("{} --threads {}", command, bad));
      CHECK(r.code == 2);
      CHECK(r.err ==
            fmt::format("saturn: --threads: expected a number of threads in 1..4096 (got '{}')\n",
                        bad));
    }
  auto r = run_saturn("eval run --lengths 1:2 --threads 2.5");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: --threads: expected a number of threads in 1..4096 (got '2.5')\n");
  // The variable is checked when a computing command starts (run_saturn puts the binary
  // first, so these go through the shell).
  const std::string bin = SATURN_BINARY;
  const auto dir = fresh_dir("threads");
  fs::create_directories(dir);
  auto shell = [&](const std::string& cmd) {
    const auto out = dir / "out", err = dir / "err";
    const int status = std::system((cmd + " >" + out.string() + " 2>" + err.string()).c_str());
    return saturn::test::Run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, saturn::test::slurp(out),
                             saturn::test::slurp(err)};
  };
  r = shell("SATURN_THREADS=x " + bin + " eval " + dir.string() + " --lengths 1:2");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: SATURN_THREADS: expected a number of threads in 1..4096 (got 'x')\n");
  r = shell("SATURN_THREADS=0 " + bin + " train --lang majority --out " + dir.string() + "/r");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: SATURN_THREADS: expected a number of threads in 1..4096 (got '0')\n");

  // Same seed and thread count twice: byte-identical checkpoints; the count used is said.
  const std::string train =
      " train --lang majority --set d_model=32 --set n_heads=2 --set d_ff=64 --set n_layers=1 "
      "--set batch_size=32 --set steps=12 --set checkpoint_every=0 --set eval_every=0 "
      "--set train_lengths=1:20 --set test_lengths=21:22 --set eval_per_length=2 "
      "--set max_length=24";
  for (const std::string threads : {"1", "2"}) {
    INFO("threads " << threads);
    std::vector<std::string> checkpoints;
    for (const std::string how : {"flag", "env"}) {
      const auto out = dir / (how + threads);
      r = how == "flag"
              ? shell(bin + train + " --out " + out.string() + " --threads " + threads)
              : shell("SATURN_THREADS=" + threads + " " + bin + train + " --out " + out.string());
      REQUIRE(r.code == 0);
      CHECK_THAT(r.err, Catch::Contains(threads == "1" ? "; 1 thread\n" : "; 2 threads\n"));
      checkpoints.push_back(saturn::test::slurp(out / "ckpt-12.safetensors"));
    }
    REQUIRE(!checkpoints[0].empty());
    CHECK(checkpoints[0] == checkpoints[1]);
  }
  // The flag overrides the variable.
  r = shell("SATURN_THREADS=1 " + bin + train + " --out " + (dir / "both").string() +
            " --threads 2");
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("; 2 threads\n"));

  // A short spin, then sleep, unless the user chose a policy (libgomp prints its settings).
  r = shell("OMP_DISPLAY_ENV=verbose " + bin + " lang list");
  CHECK_THAT(r.err, Catch::Contains("OMP_WAIT_POLICY = 'PASSIVE'"));
  CHECK_THAT(r.err, Catch::Contains("GOMP_SPINCOUNT = '1000'"));
  r = shell("OMP_WAIT_POLICY=active OMP_DISPLAY_ENV=verbose " + bin + " lang list");
  CHECK_THAT(r.err, Catch::Contains("OMP_WAIT_POLICY = 'ACTIVE'"));
  fs::remove_all(dir);
}
