// `saturn theory`: the theory-checking suites (theory/). Exit 0 when every claim run holds, 1
// when any fails or is inconclusive, 2 on bad input. Under mpirun the ranks share the training
// runs; `--plan` estimates the core-hours, `--emit-slurm` writes a cluster job, `--task K` runs
// one planned run (a SLURM array element).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "base/atomic_file.h"
#include "base/error.h"
#include "cli/commands.h"
#include "cli/slurm_option.h"
#include "theory/plan.h"
#include "theory/suite.h"

namespace saturn::cli {

void add_theory_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "theory", "Run the theory-checking suites: each paper's claims as numbers that can fail");
  struct Options {
    std::string suites = "all", scale = "quick", out = "saturn-theory";
    int seeds = 0, threads = 0, task = -1;
    bool json = false, plan = false;
    std::string emit_slurm;
    sweep::SlurmOptions slurm;
  };
  auto o = std::make_shared<Options>();
  std::vector<std::string> names;
  for (const auto& s : theory::suites()) names.push_back(s.name);
  cmd->add_option("--suite", o->suites,
                  fmt::format("Suites NAME[,NAME...] or all ({})", fmt::join(names, ", ")))
      ->capture_default_str();
  cmd->add_option("--scale", o->scale,
                  "quick (minutes, what the tests run), full, or paper (near the papers' "
                  "settings: a cluster's; see --plan)")
      ->capture_default_str();
  auto* seeds_option = cmd->add_option("--seeds", o->seeds,
                                       "Seeds per configuration (default: the suite's, per scale)");
  cmd->add_option("--threads", o->threads, "Runs trained at once (default: every core)");
  cmd->add_option("--out", o->out, "Output directory: report.md, results.json, figures/, runs/")
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "Print results.json instead of the table (with --plan: the plan)");
  cmd->add_flag("--plan", o->plan,
                "Print each suite's runs, steps and estimated core-hours (timed per model "
                "shape) and stop");
  auto* task_option = cmd->add_option(
      "--task", o->task, "Train only planned run K (0-based, --plan order): a SLURM array element");
  cmd->add_option("--emit-slurm", o->emit_slurm, "Write an sbatch script to FILE and stop");
  add_slurm_options(cmd, o->slurm, "A job array, one planned run per element");
  cmd->callback([o, seeds_option, task_option] {
    theory::TheoryOptions options;
    options.scale = theory::parse_scale(o->scale);
    options.seeds = o->seeds;
    options.threads = o->threads;
    options.out = o->out;
    // 0 stands for "not given" inside; given, it must be a count.
    theory::check_options(options, seeds_option->count() > 0);
    const auto selected = theory::select_suites(o->suites);
    if (o->plan + task_option->count() + !o->emit_slurm.empty() > 1)
      throw InputError("--plan, --task and --emit-slurm: give one of them");
    if (o->plan) {
      // Timing runs of 10 and 20 steps per shape: their difference is 10 steps alone.
      const auto report = theory::plan_report(theory::plan_theory(selected, options), options, 10);
      if (o->json)
        fmt::print("{}\n", report.json.dump(2));
      else
        fmt::print("{}", report.table);
      return;
    }
    if (task_option->count() > 0) {
      const auto plan = theory::plan_theory(selected, options);
      if (o->task < 0 || o->task >= static_cast<int>(plan.runs.size()))
        throw InputError(fmt::format("--task: expected 0..{} (the planned runs; got {})",
                                     static_cast<int>(plan.runs.size()) - 1, o->task));
      const auto& run = plan.runs[o->task];
      theory::train_run(run.request, run.dir);
      return;
    }
    if (!o->emit_slurm.empty()) {
      const sweep::SlurmOptions slurm = checked_slurm_options(o->slurm, {{"--out", o->out}});
      std::vector<std::string> names;
      for (const auto* s : selected) names.push_back(s->name);
      std::string args = fmt::format("--suite {} --scale {}", fmt::join(names, ","), o->scale);
      if (o->seeds > 0) args += fmt::format(" --seeds {}", o->seeds);
      const auto plan = theory::plan_theory(selected, options);
      if (plan.runs.empty()) throw InputError("--emit-slurm: the suites plan no training run");
      write_file_atomically(o->emit_slurm,
                            theory::theory_slurm_script(plan, args, options.out, slurm));
      fmt::print("wrote {} ({} runs{}); submit it with: sbatch {}\n", o->emit_slurm,
                 plan.runs.size(), slurm.array ? ", one per array element" : "", o->emit_slurm);
      return;
    }
    const auto results = theory::run_theory(selected, options);
    // Under mpirun rank 0 prints and gives the exit status (a worker's non-zero exit would
    // make mpirun kill rank 0 before it has printed).
    if (theory::worker_rank()) return;
    if (o->json)
      fmt::print("{}\n", theory::results_json(results, options).dump(2));
    else
      fmt::print("{}\nwrote {}/report.md, results.json, figures/\n", theory::format_table(results),
                 options.out.string());
    bool all_hold = true;
    for (const auto& r : results) all_hold = all_hold && r.verdict == theory::Verdict::holds;
    if (!all_hold) throw CLI::RuntimeError(1);
  });
}

}  // namespace saturn::cli
