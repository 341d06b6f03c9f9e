// `saturn sweep GRID.toml --out DIR [--jobs J] [--threads T] [--resume]`: a grid of runs on this
// machine, or over MPI ranks under mpirun; `--emit-slurm FILE` writes an sbatch script instead.
#include <fmt/format.h>

#include "base/atomic_file.h"
#include "base/error.h"
#include "cli/commands.h"
#include "cli/slurm_option.h"
#include "sweep/mpi.h"
#include "sweep/sweep.h"

namespace saturn::cli {

namespace {

struct SweepArgs {
  std::string grid, out, emit_slurm;
  int jobs = 1, threads = 0, task = -1;
  bool task_given = false;
  bool resume = false, quiet = false;
  sweep::SlurmOptions slurm;
};

void check_range(const char* flag, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw InputError(fmt::format("{}: expected {}..{} (got {})", flag, lo, hi, value));
}

void run_sweep(const SweepArgs& o) {
  sweep::SweepOptions options{o.out, o.jobs, o.threads, o.resume, o.quiet};
  sweep::check_options(options);
  const sweep::Grid grid = sweep::load_grid(o.grid);
  if (!o.emit_slurm.empty()) {
    const sweep::SlurmOptions slurm =
        checked_slurm_options(o.slurm, {{"GRID", o.grid}, {"--out", o.out}});
    write_file_atomically(o.emit_slurm, sweep::slurm_script(grid, o.grid, o.out, slurm));
    fmt::print("wrote {} ({} tasks{}); submit it with: sbatch {}\n", o.emit_slurm,
               grid.tasks().size(), o.slurm.array ? ", one per array element" : "", o.emit_slurm);
    return;
  }
  if (o.task_given) {
    // One task (a SLURM array element): no gathering; `--resume` later gathers.
    const auto tasks = grid.tasks();
    check_range("--task", o.task, 0, static_cast<int>(tasks.size()) - 1);
    options.resume = true;
    sweep::prepare_out(grid, options);
    sweep::run_task(grid, tasks[o.task], o.out, sweep::threads_per_task(1, o.threads));
    return;
  }
  if (sweep::launched_by_mpi()) {
    if (auto summary = sweep::run_mpi(grid, options)) fmt::print("{}", *summary);
    return;
  }
  fmt::print("{}", sweep::run_sweep(grid, options));
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(
      "sweep", "Train a grid of languages x configurations x seeds; results, summary, heat map");
  cmd->add_option("GRID", o->grid, "The grid's TOML file (README: saturn sweep)")->required();
  cmd->add_option("--out", o->out, "Sweep directory")->required();
  cmd->add_option("--jobs", o->jobs, "Tasks at once on this machine")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads per task (default: cores / jobs)");
  cmd->add_flag("--resume", o->resume, "Continue a sweep: finished tasks are skipped");
  cmd->add_option("--task", o->task,
                  "Run only task K (0-based, grid order): a SLURM array element");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress lines");
  cmd->add_option("--emit-slurm", o->emit_slurm, "Write an sbatch script to FILE and stop");
  add_slurm_options(cmd, o->slurm, "A job array, one task per element");
  cmd->callback([o, cmd] {
    o->task_given = cmd->count("--task") > 0;
    run_sweep(*o);
  });
}

}  // namespace saturn::cli
