// `saturn sweep`: every task of a grid trained into its own run directory, evaluated per length
// in and out of the training range, and gathered into DIR/results.jsonl, DIR/summary.md and a
// heat map. Locally J tasks run at once (threads inside each); under mpirun rank 0 hands tasks
// out one at a time to whichever rank asks (sweep/mpi.h). Resumable at every level: a finished
// task (DIR/runs/.../result.json) is skipped, an interrupted one resumes from its checkpoint.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "sweep/grid.h"

namespace saturn::sweep {

struct SweepOptions {
  std::filesystem::path out;
  int jobs = 1;     // tasks at once (local)
  int threads = 0;  // threads per task; 0: cores / jobs (at least 1)
  bool resume = false;
  bool quiet = false;
};

// --jobs 1..4096 and --threads 0..4096: throws InputError naming the flag.
void check_options(const SweepOptions& options);

// `saturn sweep GRID --out DIR` on this machine (the CLI and the Python package): prepare_out,
// DIR locked while it runs (one sweep at a time; each task's run directory is locked by its
// training too), run_local, gather. Returns the summary's text. Throws InputError.
std::string run_sweep(const Grid& grid, const SweepOptions& options);

// Creates or reopens DIR for this grid: DIR/grid.toml keeps the grid, and a DIR holding another
// grid's sweep is refused; a non-empty DIR needs --resume. Throws InputError.
void prepare_out(const Grid& grid, const SweepOptions& options);

// Runs one task (skipped when its result.json exists) and writes its result.json. Threads: the
// calling thread's OpenMP thread count is set to `threads`.
void run_task(const Grid& grid, const Task& task, const std::filesystem::path& out, int threads);

// The tasks still to run (no result.json), as indices into grid.tasks().
std::vector<int> pending_tasks(const Grid& grid, const std::filesystem::path& out);

// Runs the pending tasks `jobs` at a time. `on_done(done, total, task)` after each.
void run_local(const Grid& grid, const SweepOptions& options);

// Reads every task's result.json (all must exist) and writes DIR/results.jsonl (one row per task,
// in grid order), DIR/summary.md and DIR/heatmap.{svg,png}. Returns the summary's text.
std::string gather(const Grid& grid, const std::filesystem::path& out);

// An sbatch script running the sweep on a SLURM cluster: one MPI job of `ntasks` ranks, or a job
// array of one task per element (then `saturn sweep GRID --out DIR --resume` gathers).
struct SlurmOptions {
  int ntasks = 4;
  int threads = 1;
  std::string time = "04:00:00";
  std::string partition;
  bool array = false;
  std::string binary = "saturn";  // the command the script runs
};
std::string slurm_script(const Grid& grid, const std::filesystem::path& grid_path,
                         const std::filesystem::path& out, const SlurmOptions& options);

// What a SLURM script runs, for any list of tasks (a sweep's grid, a theory suite's runs).
struct SlurmJob {
  std::string name;            // "saturn-sweep": job name and output file prefix
  std::string written_by;      // "`saturn sweep --emit-slurm`: GRID"
  std::string shared;          // what every node reads and writes: "the grid, saturn and DIR"
  std::size_t tasks = 0;       // array elements (one task each) or tasks the ranks share
  std::string array_command;   // one element's command line, reading $SLURM_ARRAY_TASK_ID
  std::string gather_command;  // run after the array to gather the results
  std::string mpi_command;     // the command every rank runs (after srun / mpirun -n N)
};
// The sbatch script: an MPI job of `ntasks` ranks, or (options.array) a job array of `tasks`
// elements, at most `ntasks` at once.
std::string slurm_job_script(const SlurmJob& job, const SlurmOptions& options);

// The threads each task gets when `jobs` run at once on this machine.
int threads_per_task(int jobs, int requested);

}  // namespace saturn::sweep
