// saturn sweep: the grid file, local runs and their resumption, MPI against local, SLURM scripts.
#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "sweep/grid.h"
#include "sweep/mpi.h"
#include "sweep/sweep.h"

using namespace saturn;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / fmt::format("saturn-sweep-{}-{}", name, ::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

fs::path write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// 2 languages x 2 configurations x 2 seeds, a few steps each.
const char* kSmallGrid = R"(languages = ["parity", "majority"]
seeds = 2
per_length = 4
steps = 12
eval_every = 12
checkpoint_every = 6
train_lengths = "1:6"
test_lengths = "7:9"
d_model = 8
n_heads = 2
[grid]
n_layers = [1, 2]
)";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// Every row of results.jsonl without its timing, by run.
std::map<std::string, Json> rows(const fs::path& out) {
  std::map<std::string, Json> m;
  std::ifstream in(out / "results.jsonl");
  for (std::string line; std::getline(in, line);) {
    Json j = Json::parse(line);
    j.erase("seconds");
    j.erase("extract_seconds");
    m[j["run"].get<std::string>()] = j;
  }
  return m;
}

int run_shell(const std::string& command) {
  return std::system(command.c_str());
}

}  // namespace

TEST_CASE("a grid is the product of [grid] lists, crossed with [[points]]", "[sweep]") {
  const fs::path d = temp_dir("grid");
  const auto g = sweep::load_grid(write(d / "g.toml", R"(languages = ["parity", "dyck-1"]
seeds = [3, 5]
steps = 7
[[points]]
lr = 0.01
[[points]]
lr = 0.002
[grid]
n_layers = [1, 2, 3]
[per_language.dyck-1]
train_lengths = "2:10"
)"));
  REQUIRE(g.configs.size() == 6);
  CHECK(g.configs[0].label() == "lr=0.01 n_layers=1");
  CHECK(g.configs[5].label() == "lr=0.002 n_layers=3");
  const auto tasks = g.tasks();
  REQUIRE(tasks.size() == 2 * 6 * 2);
  CHECK(tasks[1].seed == 5);
  const auto c = g.config(tasks.back());
  CHECK(c.model.n_layers == 3);
  CHECK(c.model.seed == 5);
  CHECK(c.train.steps == 7);
  CHECK(c.train.train_lengths == "2:10");
  CHECK(g.config(tasks.front()).train.train_lengths != "2:10");
  CHECK(g.run_dir("/o", tasks.back()) == fs::path("/o/runs/dyck-1/c6/seed-5"));
  fs::remove_all(d);
}

TEST_CASE("bad grids are refused naming file, line and key", "[sweep]") {
  const fs::path d = temp_dir("bad");
  const auto load = [&](const std::string& text) {
    return error_of([&] { sweep::load_grid(write(d / "g.toml", text)); });
  };
  const std::string f = (d / "g.toml").string();
  CHECK(load("languages = [\"parity\"]\n[grid]\nlayers = [1, 2]\n") ==
        f + ":3:10: unknown key 'layers': not a model or training key (did you mean 'n_layers'?)");
  CHECK(load("languages = []\n") ==
        f + ": 'languages' must be a non-empty list of language names or files");
  CHECK(load("languages = [\"parity\", \"parity\"]\n") ==
        f + ":1:24: languages: 'parity' is listed twice");
  CHECK(load("languages = [\"nope\"]\n").find(f + ":1:14: languages: unknown language 'nope'") ==
        0);
  CHECK(load("languages = [\"parity\"]\nseed = 3\n") ==
        f + ":2:8: seed: a sweep's seeds are its 'seeds' key");
  CHECK(load("languages = [\"parity\"]\nseeds = 0\n") == f + ":2:9: seeds: expected 1..10000");
  CHECK(load("languages = [\"parity\"]\neval_negatives = \"edits\"\n") ==
        f + ":2:18: eval_negatives: expected uniform, near-miss or mixed");
  CHECK(load("languages = [\"parity\"]\n[grid]\nn_layers = []\n") ==
        f + ":3:12: grid.n_layers: empty list");
  CHECK(load("languages = [\"parity\"]\n[per_language.majority]\nsteps = 3\n") ==
        f + ":2:1: per_language.majority: not one of the grid's languages");
  CHECK(load("languages = [\"parity\"]\nsteps = [1, 2]\n") ==
        f + ":2:9: 'steps' must be a string, number or boolean");
  CHECK(load("languages = [\"parity\"]\nobjective = \"next\"\n").find(f + ":2:13: ") == 0);
  CHECK(load("languages = [\"parity\"\n").find(f + ":") == 0);
  // Issue 23: a key in both [grid] and [[points]] (one value would be dropped), a value or a
  // point listed twice (a configuration run twice), a string for a number key.
  CHECK(load("languages = [\"parity\"]\n[[points]]\nd_model = 8\n[grid]\nd_model = [4, 8]\n") ==
        f + ":5:11: grid.d_model: also set in [[points]] (line 3); one of the two values would "
            "be dropped: set it in one place");
  CHECK(load("languages = [\"parity\"]\n[grid]\nd_model = [4, 4]\n") ==
        f + ":3:15: grid.d_model: 4 is listed twice");
  CHECK(load("languages = [\"parity\"]\n[[points]]\nd_model = 8\nlr = 0.1\n[[points]]\nlr = "
             "0.1\nd_model = 8\n") == f + ":5:1: points: the same point as [[points]] number 1");
  CHECK(load("languages = [\"parity\"]\nsteps = \"2\"\n") ==
        f + ":2:9: steps: expected a number, got the string \"2\" (write it without quotes)");
  CHECK(load("languages = [\"parity\"]\n[grid]\nn_layers = [1, \"2\"]\n") ==
        f + ":3:16: n_layers: expected a number, got the string \"2\" (write it without quotes)");
  fs::remove_all(d);
}

TEST_CASE("a local sweep writes every task, and --resume redoes only what is missing", "[sweep]") {
  const fs::path d = temp_dir("local");
  const auto grid = sweep::load_grid(write(d / "g.toml", kSmallGrid));
  sweep::SweepOptions o{d / "out", 2, 1, false, true};
  sweep::prepare_out(grid, o);
  sweep::run_local(grid, o);
  const std::string summary = sweep::gather(grid, o.out);
  CHECK(summary.find("| parity | 1:6 / 7:9 |") != std::string::npos);
  CHECK(summary.find("| c2 | n_layers=2 |") != std::string::npos);
  const auto first = rows(o.out);
  REQUIRE(first.size() == 8);
  for (const auto& [run, r] : first) {
    INFO(run);
    CHECK(r["steps"] == 12);
    CHECK(r["final_norm"].get<double>() > 0);
    CHECK(r["per_length"].size() == 9);  // lengths 1..9
    CHECK(r["in_range"].get<double>() >= 0);
    CHECK(r["eval_negatives"] == "mixed");
    CHECK(r["objective"] == "recognize");
  }
  CHECK(fs::exists(o.out / "summary.md"));
  // The final norm is the run's own: the last training line's param_norm.
  {
    std::ifstream metrics(o.out / "runs/parity/c2/seed-2/metrics.jsonl");
    double last = -1;
    for (std::string line; std::getline(metrics, line);) {
      const Json j = Json::parse(line);
      if (j.contains("param_norm")) last = j["param_norm"].get<double>();
    }
    CHECK(first.at("runs/parity/c2/seed-2")["final_norm"].get<double>() == last);
  }

  // A second sweep into the same directory needs --resume; another grid is refused.
  CHECK(error_of([&] { sweep::prepare_out(grid, o); }).find("continue the sweep with --resume") !=
        std::string::npos);
  auto other = sweep::load_grid(write(d / "h.toml", std::string(kSmallGrid) + "lr = 0.01\n"));
  sweep::SweepOptions resume = o;
  resume.resume = true;
  CHECK(error_of([&] {
          sweep::prepare_out(other, resume);
        }).find("holds the sweep of another grid") != std::string::npos);

  // Lose one task's result and its last checkpoint: --resume redoes it to the same numbers.
  const fs::path run = o.out / "runs/majority/c2/seed-1";
  fs::remove(run / "result.json");
  fs::remove(run / "ckpt-12.safetensors");
  CHECK(sweep::pending_tasks(grid, o.out).size() == 1);
  sweep::prepare_out(grid, resume);
  sweep::run_local(grid, resume);
  sweep::gather(grid, o.out);
  CHECK(rows(o.out) == first);
  fs::remove_all(d);
}

TEST_CASE("bad extract tables in a grid are refused naming file, line and key", "[sweep]") {
  const fs::path d = temp_dir("bad-extract");
  const auto load = [&](const std::string& text) {
    return error_of(
        [&] { sweep::load_grid(write(d / "g.toml", "languages = [\"first\"]\n" + text)); });
  };
  const std::string f = (d / "g.toml").string();
  CHECK(load("[extract]\nmethod = \"auto\"\n") == f + ":2:1: extract: max_length is required");
  CHECK(load("[extract]\nmax_length = 8\nmethods = \"smt\"\n") ==
        f + ":4:11: extract.methods: not a key of [extract] (against, max_length, method, "
            "timeout, exhaustive_max)");
  CHECK(load("[extract]\nmax_length = 8\nmethod = \"guess\"\n") ==
        f + ":4:10: extract.method: expected auto, enumerate, smt or counts");
  CHECK(load("[extract]\nmax_length = -1\n") ==
        f + ":3:14: extract.max_length: expected a length 0..1000000");
  CHECK(load("[extract]\nmax_length = 8\ntimeout = -2\n") ==
        f + ":4:11: extract.timeout: expected seconds in [0, 10^7] (0: none)");
  CHECK(load("[extract]\nmax_length = 8\nagainst = \"nope\"\n")
            .find(f + ":4:11: extract.against: ") == 0);
  CHECK(load("extract = 3\n") == f + ":2:11: extract: expected an [extract] table");
  fs::remove_all(d);
}

TEST_CASE("a sweep with an extract table closes the loop per task and tabulates closure",
          "[sweep]") {
  const fs::path d = temp_dir("extract");
  const auto grid = sweep::load_grid(write(d / "g.toml", R"(languages = ["first"]
seeds = 2
per_length = 4
steps = 200
eval_every = 200
checkpoint_every = 100
train_lengths = "1:6"
test_lengths = "7:10"
max_length = 12
d_model = 16
n_heads = 1
n_layers = 1
d_ff = 32
norm_position = "none"
positional = "learned"
readout = "bos"
lr = 0.003
[extract]
max_length = 10
method = "enumerate"
exhaustive_max = 512
)"));
  REQUIRE(grid.extract);
  CHECK(grid.extract->max_length == 10);
  sweep::SweepOptions o{d / "out", 2, 1, false, true};
  sweep::prepare_out(grid, o);
  sweep::run_local(grid, o);
  const std::string summary = sweep::gather(grid, o.out);
  const auto first = rows(o.out);
  REQUIRE(first.size() == 2);
  int closed = 0;
  for (const auto& [run, r] : first) {
    INFO(run << " " << r.dump());
    REQUIRE(r.contains("verdict"));
    CHECK((r["verdict"] == "equivalent" || r["verdict"] == "counterexample"));
    CHECK(r["timed_out"] == false);
    CHECK(r["faithfulness_in"].get<double>() >= 0);
    CHECK(r["faithfulness_out"].get<double>() <= 1);
    CHECK(r["proved_up_to"].get<int>() >= 0);
    CHECK(r["proved_up_to"].get<int>() <= 10);
    CHECK(fs::exists(o.out / run / "circuit.json"));
    closed += r["verdict"] == "equivalent" && r["faithfulness_in"].get<double>() >= 0.99 &&
              r["faithfulness_out"].get<double>() >= 0.99;
  }
  INFO(summary);
  CHECK(summary.find("Closed = verdict equivalent AND faithfulness_in >= 0.99") !=
        std::string::npos);
  CHECK(summary.find(fmt::format("| first | {}/2 |", closed)) != std::string::npos);

  // A task killed during extraction has no result.json: --resume redoes the extraction, to the
  // same row (timing aside).
  fs::remove(o.out / "runs/first/c1/seed-2/result.json");
  fs::remove(o.out / "runs/first/c1/seed-2/circuit.json");
  sweep::SweepOptions resume = o;
  resume.resume = true;
  sweep::prepare_out(grid, resume);
  sweep::run_local(grid, resume);
  sweep::gather(grid, o.out);
  CHECK(rows(o.out) == first);
  fs::remove_all(d);
}

TEST_CASE("saturn sweep under mpirun -n 2 equals the local sweep point by point", "[sweep][cli]") {
  if (run_shell("command -v mpirun >/dev/null 2>&1") != 0) {
    WARN("mpirun not installed (scripts/install-deps.sh installs OpenMPI): skipped");
    return;
  }
  REQUIRE(sweep::mpi_available());
  const fs::path d = temp_dir("mpi");
  write(d / "g.toml", kSmallGrid);
  const std::string bin = SATURN_BINARY;
  const std::string local =
      fmt::format("'{}' sweep '{}' --out '{}' --jobs 2 --threads 1 -q > '{}' 2>&1", bin,
                  (d / "g.toml").string(), (d / "local").string(), (d / "local.log").string());
  const std::string mpi = fmt::format(
      // (Leak checks off under ASan: OpenMPI's own allocations outlive MPI_Finalize.)
      "ASAN_OPTIONS=detect_leaks=0 mpirun -n 2 --oversubscribe --allow-run-as-root -x "
      "ASAN_OPTIONS '{}' sweep '{}' --out '{}' --threads 1 "
      "> '{}' 2>&1",
      bin, (d / "g.toml").string(), (d / "mpi").string(), (d / "mpi.log").string());
  REQUIRE(run_shell(local) == 0);
  const int rc = run_shell(mpi);
  if (rc != 0) {
    std::ifstream log(d / "mpi.log");
    FAIL("mpirun failed: " << std::string(std::istreambuf_iterator<char>(log), {}));
  }
  const auto a = rows(d / "local"), b = rows(d / "mpi");
  REQUIRE(a.size() == 8);
  CHECK(a == b);
  // Both ranks worked (dynamic assignment): each run's rank is in the log.
  std::ifstream log(d / "mpi.log");
  const std::string text(std::istreambuf_iterator<char>(log), {});
  CHECK(text.find("on rank 0") != std::string::npos);
  CHECK(text.find("on rank 1") != std::string::npos);
  CHECK(fs::exists(d / "mpi" / "summary.md"));
  fs::remove_all(d);
}

TEST_CASE("saturn sweep with an extract table under mpirun -n 2 equals the local sweep",
          "[sweep][cli]") {
  if (run_shell("command -v mpirun >/dev/null 2>&1") != 0) {
    WARN("mpirun not installed (scripts/install-deps.sh installs OpenMPI): skipped");
    return;
  }
  const fs::path d = temp_dir("mpi-extract");
  write(d / "g.toml", R"(languages = ["first", "majority"]
seeds = 1
per_length = 4
steps = 200
eval_every = 200
train_lengths = "1:6"
test_lengths = "7:10"
max_length = 12
d_model = 16
n_heads = 1
n_layers = 1
d_ff = 32
norm_position = "none"
positional = "learned"
readout = "bos"
[extract]
max_length = 10
method = "enumerate"
exhaustive_max = 1024
)");
  const std::string bin = SATURN_BINARY;
  REQUIRE(
      run_shell(fmt::format("'{}' sweep '{}' --out '{}' --jobs 2 --threads 1 -q > /dev/null 2>&1",
                            bin, (d / "g.toml").string(), (d / "local").string())) == 0);
  REQUIRE(run_shell(fmt::format(
              "ASAN_OPTIONS=detect_leaks=0 mpirun -n 2 --oversubscribe --allow-run-as-root -x "
              "ASAN_OPTIONS '{}' sweep '{}' --out '{}' --threads 1 > /dev/null 2>&1",
              bin, (d / "g.toml").string(), (d / "mpi").string())) == 0);
  const auto a = rows(d / "local"), b = rows(d / "mpi");
  REQUIRE(a.size() == 2);
  for (const auto& [run, r] : a) CHECK(r.contains("verdict"));
  CHECK(a == b);
  fs::remove_all(d);
}

TEST_CASE("saturn sweep --emit-slurm writes an MPI job or a job array", "[sweep]") {
  const fs::path d = temp_dir("slurm");
  const auto grid = sweep::load_grid(write(d / "g.toml", kSmallGrid));
  sweep::SlurmOptions o;
  o.ntasks = 3;
  o.threads = 2;
  const std::string mpi = sweep::slurm_script(grid, d / "g.toml", d / "out", o);
  CHECK(mpi.find("#SBATCH --ntasks=3\n") != std::string::npos);
  CHECK(mpi.find("#SBATCH --cpus-per-task=2\n") != std::string::npos);
  CHECK(mpi.find("srun --mpi=pmix 'saturn' sweep '" + (d / "g.toml").string() + "' --out '" +
                 (d / "out").string() + "' --resume --threads 2") != std::string::npos);
  o.array = true;
  const std::string array = sweep::slurm_script(grid, d / "g.toml", d / "out", o);
  CHECK(array.find("#SBATCH --array=0-7%3\n") != std::string::npos);
  CHECK(array.find("--task \"$SLURM_ARRAY_TASK_ID\"") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("saturn sweep --task K runs one task (a SLURM array element), --resume gathers",
          "[sweep][cli]") {
  const fs::path d = temp_dir("task");
  write(d / "g.toml", kSmallGrid);
  const std::string bin = SATURN_BINARY, grid = (d / "g.toml").string(), out = (d / "out").string();
  REQUIRE(run_shell(
              fmt::format("'{}' sweep '{}' --out '{}' --task 5 --threads 1", bin, grid, out)) == 0);
  // Task 5 in grid order: majority, c1, seed 2.
  CHECK(fs::exists(d / "out/runs/majority/c1/seed-2/result.json"));
  CHECK_FALSE(fs::exists(d / "out/runs/parity/c1/seed-1"));
  CHECK_FALSE(fs::exists(d / "out/results.jsonl"));
  CHECK(run_shell(fmt::format("'{}' sweep '{}' --out '{}' --task 8 2>/dev/null", bin, grid, out)) ==
        2 * 256);
  REQUIRE(run_shell(fmt::format("'{}' sweep '{}' --out '{}' --resume --threads 1 -q > /dev/null",
                                bin, grid, out)) == 0);
  CHECK(rows(d / "out").size() == 8);
  // What goes into an sbatch script is checked: a value that would change the script is refused.
  CHECK(run_shell(fmt::format("'{}' sweep '{}' --out '{}' --emit-slurm '{}' --slurm-time "
                              "'1:00;reboot' 2>/dev/null",
                              bin, grid, out, (d / "job.sbatch").string())) == 2 * 256);
  CHECK_FALSE(fs::exists(d / "job.sbatch"));
  // A count out of range names its own flag.
  const auto err = d / "err.txt";
  CHECK(run_shell(fmt::format("'{}' sweep '{}' --out '{}' --emit-slurm '{}' --slurm-threads 0 "
                              "2> '{}'",
                              bin, grid, out, (d / "job.sbatch").string(), err.string())) ==
        2 * 256);
  std::ifstream err_in(err);
  const std::string err_text(std::istreambuf_iterator<char>(err_in), {});
  CHECK(err_text == "saturn: --slurm-threads: expected 1..4096 (got 0)\n");
  CHECK_FALSE(fs::exists(d / "job.sbatch"));
  // (Into a new directory, so that a refusal cannot come from a non-empty --out instead.)
  for (const char* bad : {"--jobs 0", "--threads 5000", "--task -2"}) {
    INFO(bad);
    CHECK(run_shell(fmt::format("'{}' sweep '{}' --out '{}' {} 2>/dev/null", bin, grid,
                                (d / "new").string(), bad)) == 2 * 256);
    CHECK_FALSE(fs::exists(d / "new"));
  }
  REQUIRE(run_shell(fmt::format("'{}' sweep '{}' --out '{}' --emit-slurm '{}' > /dev/null", bin,
                                grid, out, (d / "job.sbatch").string())) == 0);
  std::ifstream job(d / "job.sbatch");
  const std::string script(std::istreambuf_iterator<char>(job), {});
  CHECK(script.find("srun --mpi=pmix '" + fs::canonical(bin).string() + "' sweep") !=
        std::string::npos);
  fs::remove_all(d);
}
