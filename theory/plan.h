// `saturn theory --plan`: each suite's training runs with their steps and estimated core-hours,
// calibrated from a short timing run of every model shape on this machine; and the SLURM
// script of `--emit-slurm` (the runs as a job array or an MPI job, theory/suite.h's plan).
#pragma once

#include <string>

#include "nets/run_config.h"
#include "sweep/sweep.h"
#include "theory/suite.h"

namespace saturn::theory {

// A model shape's speed on one thread, in CPU time of that thread (so a busy machine does not
// slow it): training steps per second and the seconds of one evaluation with its checkpoint
// (and the run's start-up: an upper bound).
struct ShapeTiming {
  double steps_per_s = 0, eval_seconds = 0;
  int steps = 0;  // the shorter timing run's
};

// Trains copies of `config` for K and 2K steps (evaluated only at the end) on the calling
// thread, in temporary directories removed afterwards; the difference of their CPU times is K
// training steps. K starts at `steps` and grows 4x until the difference is at least 50 ms and a
// quarter of the shorter run, or the runs reach the real run's length.
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
// steps/s, estimated core-hours) and its JSON. Times each shape (time_shape, `timing_steps`).
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
