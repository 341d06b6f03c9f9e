// [theory]: the suites' training as sweep tasks: under mpirun (results.json identical to a local
// run), planned without training (--plan, --task), and as a SLURM job (--emit-slurm).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/run_saturn.h"
#include "theory/plan.h"

using namespace saturn;
using saturn::test::run_saturn;
using saturn::test::scratch_dir;
using saturn::test::slurp;
namespace fs = std::filesystem;

TEST_CASE("theory plan: evaluations and the estimate of a run's seconds", "[theory]") {
  nets::TrainConfig t;
  t.steps = 1000;
  t.eval_every = 100;
  CHECK(theory::evaluations(t) == 10);  // at 100, 200, ..., 1000
  t.steps = 1050;
  CHECK(theory::evaluations(t) == 11);  // and one at the end
  t.eval_every = 0;
  CHECK(theory::evaluations(t) == 1);
  theory::ShapeTiming timing;
  timing.steps_per_s = 100;
  timing.eval_seconds = 0.5;
  t.steps = 1000;
  t.eval_every = 100;
  CHECK(theory::estimate_seconds(t, timing) == Approx(10 + 10 * 0.5));
  // Runs that differ only in seed, steps or learning rate share a shape; a wider model does not.
  theory::RunRequest a{"a", "parity", {}}, b = a, c = a;
  b.config.model.seed = 7;
  b.config.train.steps = 5;
  b.config.train.optimizer.lr = 0.5;
  c.config.model.d_model = 64;
  CHECK(theory::shape_key(a) == theory::shape_key(b));
  CHECK(theory::shape_key(a) != theory::shape_key(c));
}

TEST_CASE("saturn theory --plan, --task K and --emit-slurm agree on the planned runs",
          "[theory][cli]") {
  const fs::path d = scratch_dir("theory-plan");
  fs::remove_all(d);
  const std::string out = (d / "out").string();
  // geva with 2 seeds: one batch of 2 languages x 2 objectives (next-symbol, recognise) x 2
  // seeds.
  auto plan = run_saturn(fmt::format("theory --suite geva --seeds 2 --out {} --plan --json", out));
  INFO(plan.err);
  REQUIRE(plan.code == 0);
  auto j = nlohmann::json::parse(plan.out);
  REQUIRE(j["batches"].size() == 1);
  CHECK(j["batches"][0]["runs"] == 8);
  CHECK(j["batches"][0]["finished"] == 0);
  CHECK(j["core_hours"].get<double>() > 0);
  CHECK(j["core_hours_left"].get<double>() == Approx(j["core_hours"].get<double>()));
  CHECK(j["scale"] == "quick");
  CHECK(!fs::exists(d / "out" / "runs"));  // planning trains nothing

  // --task 1 trains the second planned run alone; the plan then counts it finished.
  const auto task = run_saturn(fmt::format("theory --suite geva --seeds 2 --out {} --task 1", out));
  INFO(task.err);
  REQUIRE(task.code == 0);
  int finished = 0;
  for (const auto& e : fs::directory_iterator(d / "out" / "runs"))
    finished += fs::exists(e.path() / "summary.json");
  CHECK(finished == 1);
  plan = run_saturn(fmt::format("theory --suite geva --seeds 2 --out {} --plan --json", out));
  j = nlohmann::json::parse(plan.out);
  CHECK(j["batches"][0]["finished"] == 1);
  CHECK(j["core_hours_left"].get<double>() < j["core_hours"].get<double>());
  CHECK(run_saturn(fmt::format("theory --suite geva --seeds 2 --out {} --task 8", out)).code == 2);

  // The job array has one element per planned run; the MPI job runs the suite on every rank.
  const std::string script = (d / "job.sh").string();
  auto r = run_saturn(fmt::format(
      "theory --suite geva --seeds 2 --out {} --emit-slurm {} --slurm-array --slurm-ntasks 3", out,
      script));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::string text = slurp(script);
  CHECK(text.find("#SBATCH --array=0-7%3\n") != std::string::npos);
  CHECK(text.find("theory --suite geva --scale quick --seeds 2 --out '" +
                  fs::absolute(out).string() + "' --task \"$SLURM_ARRAY_TASK_ID\"") !=
        std::string::npos);
  r = run_saturn(fmt::format(
      "theory --suite geva --seeds 2 --scale paper --out {} --emit-slurm {} --slurm-ntasks 8", out,
      script));
  REQUIRE(r.code == 0);
  text = slurp(script);
  CHECK(text.find("#SBATCH --ntasks=8\n") != std::string::npos);
  CHECK(text.find("srun --mpi=pmix '") != std::string::npos);
  CHECK(text.find("theory --suite geva --scale paper --seeds 2 --out '") != std::string::npos);
  CHECK(text.find("--array") == std::string::npos);
  // What goes into the script is checked, as for saturn sweep (cli/slurm_option.h): one line
  // naming the flag, exit 2, no script.
  for (const auto& [flags, named] : std::vector<std::pair<std::string, std::string>>{
           {"--slurm-time '1:00;reboot'", "--slurm-time"},
           {"--slurm-partition 'a b'", "--slurm-partition"},
           {"--slurm-ntasks 0", "--slurm-ntasks"},
           {"--slurm-threads 5000", "--slurm-threads"}}) {
    fs::remove(script);
    r = run_saturn(fmt::format("theory --suite geva --seeds 2 --out {} --emit-slurm {} {}", out,
                               script, flags));
    INFO(flags << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("saturn: " + named + ":", 0) == 0);
    CHECK(test::count_lines(r.err) == 1);
    CHECK_FALSE(fs::exists(script));
  }
  // One mode at a time.
  r = run_saturn(fmt::format("theory --suite geva --out {} --plan --task 0", out));
  CHECK(r.code == 2);
  CHECK(r.err.find("give one of them") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("saturn theory under mpirun -n 2 writes the local run's results.json byte for byte",
          "[theory][cli]") {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    WARN("mpirun not installed (scripts/install-deps.sh installs OpenMPI): skipped");
    return;
  }
  const fs::path d = scratch_dir("theory-mpi");
  fs::remove_all(d);
  fs::create_directories(d);
  // The cheapest suite (geva, 2 seeds: 4 runs of 600 steps).
  const auto local = run_saturn(
      fmt::format("theory --suite geva --seeds 2 --threads 2 --out {}", (d / "local").string()));
  INFO(local.err);
  REQUIRE((local.code == 0 || local.code == 1));
  const std::string mpi = fmt::format(
      // (Leak checks off under ASan: OpenMPI's own allocations outlive MPI_Finalize.)
      "ASAN_OPTIONS=detect_leaks=0 mpirun -n 2 --oversubscribe --allow-run-as-root -x "
      "ASAN_OPTIONS '{}' theory --suite geva --seeds 2 --out '{}' > '{}' 2> '{}'",
      SATURN_BINARY, (d / "mpi").string(), (d / "mpi.out").string(), (d / "mpi.err").string());
  const int status = std::system(mpi.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  INFO(slurp(d / "mpi.err"));
  CHECK(code == local.code);  // every claim's verdict the same, so the exit code too
  REQUIRE(fs::exists(d / "mpi" / "results.json"));
  CHECK(slurp(d / "mpi" / "results.json") == slurp(d / "local" / "results.json"));
  CHECK(slurp(d / "mpi" / "report.md") == slurp(d / "local" / "report.md"));
  // Both ranks trained (rank 0 names the rank of every run), and one table was printed.
  const std::string err = slurp(d / "mpi.err"), out = slurp(d / "mpi.out");
  CHECK(err.find("on rank 0,") != std::string::npos);
  CHECK(err.find("on rank 1,") != std::string::npos);
  // The same table (the "wrote DIR/..." line names another directory).
  const auto table = [](const std::string& text) { return text.substr(0, text.find("\nwrote ")); };
  CHECK(table(out) == table(local.out));
  CHECK(out.find("wrote " + (d / "mpi").string()) != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("theory --scale paper: each suite plans its own wider and longer runs with 20 seeds",
          "[theory]") {
  // Planning trains nothing and times nothing (the table's timing is `--plan`'s, in cli/):
  // the runs each scale asks for, compared.
  const fs::path d = scratch_dir("theory-paper-settings");
  fs::remove_all(d);
  const auto all = theory::select_suites("all");
  auto plan = [&](theory::Scale scale) {
    theory::TheoryOptions o;
    o.scale = scale;
    o.out = d;
    o.progress = false;
    return theory::plan_theory(all, o);
  };
  const theory::Plan paper = plan(theory::Scale::paper), full = plan(theory::Scale::full);
  CHECK(!fs::exists(d / "runs"));
  std::map<std::string, int> paper_runs, full_runs;
  for (const auto& r : full.runs) ++full_runs[r.suite];
  for (const auto& r : paper.runs) {
    ++paper_runs[r.suite];
    const auto& m = r.request.config.model;
    INFO(r.suite << " " << r.request.name);
    if (r.suite == "brody") {  // the paper's own small models (keys: d = 4), more seeds only
      CHECK(m.d_model <= 8);
      continue;
    }
    CHECK(m.d_model == 256);  // merrill, xiong (warm-up models), wortsman, geva
    CHECK(m.n_layers == 6);
    CHECK(m.n_heads == 8);
    CHECK(m.d_ff == 1024);
    CHECK(r.request.config.train.steps >= 10000);
  }
  for (const auto& s : all) {
    INFO(s->name);
    CHECK(paper_runs[s->name] >= 2 * full_runs[s->name]);  // 20 seeds against 10 (brody 5)
  }
  CHECK(paper_runs["merrill"] == 3 * 20);
  CHECK(paper_runs["geva"] == 4 * 20);
  fs::remove_all(d);
}
