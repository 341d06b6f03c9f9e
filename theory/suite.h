// The theory-suite framework (`saturn theory`): claims with their criteria written down before
// they run, a context that trains and measures with saturn's own libraries (finished runs and
// measurements are kept in the output directory and not redone), and the report: a table,
// DIR/report.md, DIR/results.json and figures (SVG and PNG through gnuplot).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nets/run_config.h"
#include "theory/stats.h"

namespace saturn::sweep {
class MpiSession;
}

namespace saturn::theory {

using Json = nlohmann::ordered_json;

// A theorem check can only fail through a bug (the paper proves it); an empirical claim is
// about what training or initialisation does, and can fail at our scale.
enum class ClaimKind { empirical, theorem };
const char* to_string(ClaimKind k);

// What a claim measures and how it is decided, fixed in the code before anything runs.
struct ClaimSpec {
  std::string id;         // "xiong.grad-depth"
  std::string paper;      // "Xiong et al. 2020"
  std::string measured;   // short: what is measured
  std::string expected;   // short: the outcome as the paper states it
  std::string criterion;  // the decision rule: holds / fails / inconclusive
  // The paper's own statement this claim tests, quoted, with where it stands:
  // "\"...\" (Sec. 3.2, Fig. 4)".
  std::string quote;
  // The effect that counts as a replication, fixed before running: "Post-LN gain >= 0.01".
  std::string min_effect;
  ClaimKind kind = ClaimKind::empirical;
};

// The evidence per seed (or per run): one row each, cells as printed. Every claim that trains
// or samples over seeds fills it; report.md prints it under the claim.
struct SeedTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  bool empty() const { return rows.empty(); }
};

// A claim's effect: a paired difference (or a statistic) over seeds with its 95% interval, set
// against the minimum that counts as a replication (`min_effect`). The verdict still comes from
// `decide` (stats.h); this is what the report shows beside it.
struct Effect {
  std::string name;  // "warm-up gain, Post-LN (accuracy)"
  Summary summary;
  double minimum = 0;  // the smallest effect that counts, on the same scale
};

// A figure: a gnuplot script reading the file named by the variable `data`.
struct Figure {
  std::string data, script;
};

struct ClaimResult {
  explicit ClaimResult(ClaimSpec s) : spec(std::move(s)) {}
  ClaimSpec spec;
  std::string setup;  // one paragraph: models, languages, training, seeds
  std::string value;  // the measured value with its spread or interval
  Verdict verdict = Verdict::inconclusive;
  std::string differs;  // how our setting differs from the paper's
  Json numbers;         // every number behind the value
  SeedTable per_seed;
  std::vector<Effect> effects;
  std::optional<Figure> figure;
};

// quick: minutes on 2 cores (what the tests run); full: longer, more seeds; paper: settings near
// each paper's, for a cluster (`--plan` estimates its core-hours): wider and deeper models,
// 10^4 steps and more, 20 seeds. Each suite's Setting has its own paper row; what a suite does
// not set for paper (probe counts, grids) is its full setting (Context::full() is true there).
enum class Scale { quick, full, paper };
const char* to_string(Scale s);

struct TheoryOptions {
  Scale scale = Scale::quick;
  int seeds = 0;    // 0: the suite's default for the scale
  int threads = 0;  // 0: every core
  std::filesystem::path out = "saturn-theory";
  bool progress = true;  // lines on stderr
};

// --scale's name: quick, full or paper; throws InputError naming --scale.
Scale parse_scale(const std::string& name);
// The options as `saturn theory` checks them (the CLI and the Python package): --seeds 1..1000
// when given (seeds_given; options.seeds 0 stands for "not given"), --threads 0..4096, --out not
// empty. Throws InputError naming the flag.
void check_options(const TheoryOptions& options, bool seeds_given);

// A model's size as a suite's Setting states it per scale (what `--scale paper` widens).
struct Shape {
  int n_layers = 2, d_model = 32, n_heads = 2, d_ff = 64;
  void apply(nets::ModelConfig& m) const {
    m.n_layers = n_layers;
    m.d_model = d_model;
    m.n_heads = n_heads;
    m.d_ff = d_ff;
  }
  // "2 layers, d_model 32, 2 heads, d_ff 64", as the reports state a model.
  std::string text() const;
};

// One training run a claim needs: a name (unique within the suite), a language, a config.
struct RunRequest {
  std::string name, language;
  nets::RunConfig config;
};
struct RunOutcome {
  std::filesystem::path dir;
  double in_range = 0, out_of_range = 0, final_loss = 0;
};

// A suite's training runs gathered without training them (`--plan`, `--task`, `--emit-slurm`).
struct PlannedRun {
  std::string suite;
  int batch = 0;  // the suite's train_all call, from 0
  RunRequest request;
  std::filesystem::path dir;
  bool finished = false;  // its summary exists
};
struct Plan {
  std::vector<PlannedRun> runs;
  // Suites stopped at a batch with unfinished runs: a later batch of theirs (if any) needs this
  // one's results and is planned once it has finished.
  std::vector<std::string> stopped;
};

class Context {
 public:
  // `mpi`: every rank runs the suites, training batches are shared among the ranks, and only
  // rank 0 writes (units, figures, results). `plan`: train_all records its runs instead.
  explicit Context(const TheoryOptions& options, const sweep::MpiSession* mpi = nullptr,
                   Plan* plan = nullptr);
  // True at full and paper scale (what paper does not set is a suite's full setting).
  bool full() const { return options_.scale != Scale::quick; }
  bool paper() const { return options_.scale == Scale::paper; }
  // True while `--plan`, `--task` or `--emit-slurm` gathers the runs: a suite should reach its
  // train_all calls without the measurements that need no training (they would be thrown away).
  bool planning() const { return plan_ != nullptr; }
  const char* scale_name() const { return to_string(options_.scale); }
  // The number of seeds: --seeds when given, else `quick`, `full` or `paper` for the scale.
  int seeds(int quick, int full) const { return seeds(quick, full, full); }
  int seeds(int quick, int full, int paper) const;
  int threads() const { return threads_; }
  const std::filesystem::path& out() const { return options_.out; }

  // Trains every run, `threads()` at a time, each on one core (so its result does not depend
  // on the thread count). A run whose directory holds a summary is not trained again; an
  // interrupted one resumes from its last checkpoint. Directories: DIR/runs/NAME-HASH, the
  // hash over language and config. The runs are sweep tasks (sweep/pool.h): under mpirun they
  // are shared among the ranks, one at a time per rank. In plan mode the runs are recorded and,
  // unless every one has finished, the suite stops here (PlanStop, caught by plan_theory).
  std::vector<RunOutcome> train_all(const std::vector<RunRequest>& runs);
  // DIR/runs/NAME-HASH.
  std::filesystem::path run_dir(const RunRequest& r) const;
  // Whether this process writes the output (not a worker rank under mpirun).
  bool writer() const;
  // fn(i) for i < n on threads() threads (each call single-threaded inside); exceptions are
  // rethrown after the loop.
  void parallel_for(int n, const std::function<void(int)>& fn);
  // A measurement kept in DIR/units: computed once per key, read back afterwards.
  Json cached(const std::string& key, const std::function<Json()>& compute);
  void progress(const std::string& line) const;

 private:
  TheoryOptions options_;
  int threads_ = 1;
  const sweep::MpiSession* mpi_ = nullptr;
  Plan* plan_ = nullptr;
  int batch_ = 0;
};

// Trains one run into its directory (resumes an interrupted one; nothing when finished), with
// the calling thread's OpenMP threads.
void train_run(const RunRequest& r, const std::filesystem::path& dir);

struct Suite {
  std::string name, paper;
  std::vector<ClaimSpec> claims;
  std::function<std::vector<ClaimResult>(Context&)> run;
};

// merrill, xiong, wortsman, brody, geva, in that order.
const std::vector<Suite>& suites();
// Names from "a,b" or "all"; throws InputError naming --suite for an unknown one.
std::vector<const Suite*> select_suites(const std::string& names);

// Runs the suites into options.out (locked while it runs): report.md, results.json, figures/.
std::vector<ClaimResult> run_theory(const std::vector<const Suite*>& selected,
                                    const TheoryOptions& options);
// The training runs of the suites, without training (nothing is locked or written but the
// measurements of finished batches, kept in DIR/units as in a run).
Plan plan_theory(const std::vector<const Suite*>& selected, const TheoryOptions& options);
// Whether this process is a worker rank under mpirun (it prints nothing).
bool worker_rank();

// The table printed by `saturn theory`.
std::string format_table(const std::vector<ClaimResult>& results);
Json results_json(const std::vector<ClaimResult>& results, const TheoryOptions& options);

// Shared helpers for the suites.
std::string fnv_hex(const std::string& text);  // 16 hex digits of FNV-1a 64
std::string fmt_num(double x, int digits = 3);
// "holds (2/3 seeds)"-style counts and the mean accuracy of runs.
std::vector<double> in_range(const std::vector<RunOutcome>& runs);

}  // namespace saturn::theory
