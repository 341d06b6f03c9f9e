// `saturn theory --plan`: each suite's training runs with their steps and estimated core-hours,
// calibrated from a short timing run of every model shape on this machine; and the SLURM
// script of `--emit-slurm` (the runs as a job array or an MPI job, theory/suite.h's plan).
#pragma once

#include <string>

#include "nets/run_config.h"
#include "sweep/sweep.h"
#include "theory/suite.h"

namespace saturn::theory {

// A model shape's speed on one thread: training steps per second (steps only, as the run's
// summary measures them) and the seconds of one evaluation with its checkpoint.
struct ShapeTiming {
  double steps_per_s = 0, eval_seconds = 0;
  int steps = 0;  // the timing run's
};

// Trains a copy of `config` for `steps` steps (evaluated only at the end) on one thread in a
// temporary directory, removed afterwards. Seconds: about steps / steps_per_s.
ShapeTiming time_shape(const std::string& language, nets::RunConfig config, int steps);

// The number of evaluations a run makes: one every eval_every steps, and one at the end.
int evaluations(const nets::TrainConfig& train);

// Seconds of one single-threaded run of `train`'s steps at `t`'s speed:
//   steps / steps_per_s + evaluations(train) * eval_seconds.
double estimate_seconds(const nets::TrainConfig& train, const ShapeTiming& t);

// The shape a run's speed depends on (language, model and batch keys; not seed, steps, lr or
// schedule): runs of one shape share a timing run.
std::string shape_key(const RunRequest& r);

// The plan as a table (one row per suite batch: runs, finished, steps per run, model, measured
// steps/s, estimated core-hours) and its JSON. Runs a timing run of `timing_steps` per shape.
struct PlanReport {
  std::string table;
  Json json;
};
PlanReport plan_report(const Plan& plan, const TheoryOptions& options, int timing_steps);

// The SLURM script for the suites' runs: a job array of one planned run per element
// (`saturn theory ... --task K`, then the gather run), or an MPI job of every rank running the
// suites. `args`: the suite/scale/seeds flags, as the script repeats them.
std::string theory_slurm_script(const Plan& plan, const std::string& args,
                                const std::filesystem::path& out,
                                const sweep::SlurmOptions& options);

}  // namespace saturn::theory
