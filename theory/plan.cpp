#include "theory/plan.h"

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <map>

#include "base/error.h"
#include "lang/builtin.h"
#include "nets/train.h"

namespace saturn::theory {

namespace fs = std::filesystem;

int evaluations(const nets::TrainConfig& train) {
  if (train.eval_every <= 0) return 1;
  return train.steps / train.eval_every + (train.steps % train.eval_every != 0 ? 1 : 0);
}

double estimate_seconds(const nets::TrainConfig& train, const ShapeTiming& t) {
  if (t.steps_per_s <= 0) return 0;
  return train.steps / t.steps_per_s + evaluations(train) * t.eval_seconds;
}

std::string shape_key(const RunRequest& r) {
  nets::RunConfig c = r.config;
  c.model.seed = 0;
  c.train.steps = 1;
  c.train.eval_every = 1;
  c.train.checkpoint_every = 1;
  c.train.optimizer = {};
  return r.language + "\n" + c.to_toml();
}

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU seconds of the calling thread for one run of `steps` steps, evaluated and checkpointed
// once (at the end), in a temporary directory removed afterwards.
double cpu_seconds_of_run(const std::string& language, nets::RunConfig config, int steps) {
  static std::atomic<int> counter{0};
  config.train.steps = steps;
  config.train.eval_every = steps;
  config.train.checkpoint_every = steps;
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("saturn-timing-{}-{}", ::getpid(), counter++);
  const double t0 = thread_cpu_seconds();
  try {
    nets::train(resolve_language(language), config, {.out = dir, .quiet = true, .overwrite = true});
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  const double seconds = thread_cpu_seconds() - t0;
  std::error_code ec;
  fs::remove_all(dir, ec);
  return seconds;
}

}  // namespace

ShapeTiming time_shape(const std::string& language, nets::RunConfig config, int steps) {
  steps = std::max(1, steps);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);  // the runs train on one thread each: its CPU time is the run's cost
  double one = 0, two = 0;
  try {
    // Longer timing runs until the steps' difference stands well above the start-up's noise
    // (tiny models run thousands of steps a second), or the runs are as long as the real one.
    for (;;) {
      one = cpu_seconds_of_run(language, config, steps);
      two = cpu_seconds_of_run(language, config, 2 * steps);
      const double diff = two - one;
      if ((diff >= 0.05 && diff >= 0.25 * one) || 2 * steps >= config.train.steps) break;
      steps *= 4;
    }
  } catch (...) {
    omp_set_num_threads(saved);
    throw;
  }
  omp_set_num_threads(saved);
  // The difference is `steps` training steps alone; the rest of the shorter run is start-up,
  // one evaluation and one checkpoint, counted as the cost of an evaluation (an upper bound).
  // When noise hides the difference, the longer run counts whole as steps (an upper bound too).
  ShapeTiming t;
  t.steps = steps;
  const double per_step = two > one ? (two - one) / steps : two / (2.0 * steps);
  t.steps_per_s = per_step > 0 ? 1 / per_step : 0;
  t.eval_seconds = two > one ? std::max(0.0, one - steps * per_step) : 0;
  return t;
}

namespace {

std::string range_text(double lo, double hi, int digits) {
  return lo == hi ? fmt::format("{:.{}f}", lo, digits)
                  : fmt::format("{:.{}f}-{:.{}f}", lo, digits, hi, digits);
}

}  // namespace

PlanReport plan_report(const Plan& plan, const TheoryOptions& options, int timing_steps) {
  // One timing run per shape, in the order the shapes first appear.
  std::map<std::string, ShapeTiming> timings;
  for (const auto& r : plan.runs) {
    const std::string key = shape_key(r.request);
    if (!timings.count(key))
      timings[key] = time_shape(r.request.language, r.request.config, timing_steps);
  }
  struct Row {
    std::string suite;
    int batch = 0, runs = 0, finished = 0;
    double steps_lo = 1e300, steps_hi = 0, sps_lo = 1e300, sps_hi = 0, seconds = 0, left = 0;
    std::string models;
  };
  std::vector<Row> rows;
  for (const auto& r : plan.runs) {
    if (rows.empty() || rows.back().suite != r.suite || rows.back().batch != r.batch) {
      Row row;
      row.suite = r.suite;
      row.batch = r.batch;
      rows.push_back(row);
    }
    Row& row = rows.back();
    const ShapeTiming& t = timings.at(shape_key(r.request));
    const auto& m = r.request.config.model;
    const std::string model = fmt::format("{}x{}", m.d_model, m.n_layers);
    if (row.models.find(model) == std::string::npos)
      row.models += (row.models.empty() ? "" : ",") + model;
    const double steps = r.request.config.train.steps,
                 secs = estimate_seconds(r.request.config.train, t);
    ++row.runs;
    row.finished += r.finished;
    row.steps_lo = std::min(row.steps_lo, steps);
    row.steps_hi = std::max(row.steps_hi, steps);
    row.sps_lo = std::min(row.sps_lo, t.steps_per_s);
    row.sps_hi = std::max(row.sps_hi, t.steps_per_s);
    row.seconds += secs;
    if (!r.finished) row.left += secs;
  }
  PlanReport out;
  out.json["scale"] = to_string(options.scale);
  out.json["timing_steps"] = timing_steps;
  Json batches = Json::array();
  out.table =
      fmt::format("{:<9} {:>5} {:>5} {:>9} {:>11} {:>10} {:>13} {:>11} {:>10}\n", "suite", "batch",
                  "runs", "finished", "steps/run", "model", "steps/s (1t)", "core-hours", "left");
  double total = 0, left = 0;
  int runs = 0;
  for (const auto& row : rows) {
    out.table += fmt::format(
        "{:<9} {:>5} {:>5} {:>9} {:>11} {:>10} {:>13} {:>11.3f} {:>10.3f}\n", row.suite, row.batch,
        row.runs, row.finished, range_text(row.steps_lo, row.steps_hi, 0), row.models,
        range_text(row.sps_lo, row.sps_hi, 1), row.seconds / 3600, row.left / 3600);
    total += row.seconds;
    left += row.left;
    runs += row.runs;
    batches.push_back({{"suite", row.suite},
                       {"batch", row.batch},
                       {"runs", row.runs},
                       {"finished", row.finished},
                       {"steps", {row.steps_lo, row.steps_hi}},
                       {"models", row.models},
                       {"steps_per_s", {row.sps_lo, row.sps_hi}},
                       {"core_hours", row.seconds / 3600},
                       {"core_hours_left", row.left / 3600}});
  }
  out.table += fmt::format("{:<9} {:>5} {:>5} {:>9} {:>11} {:>10} {:>13} {:>11.3f} {:>10.3f}\n",
                           "total", "", runs, "", "", "", "", total / 3600, left / 3600);
  out.table += fmt::format(
      "Estimate per run: steps / (steps/s) + evaluations x (seconds of one evaluation), in CPU "
      "time of one thread, from two timing runs of each model shape ({} shapes), of K and 2K "
      "steps (K from {}, longer until the difference is clear); measurements after training are "
      "not counted.\n",
      timings.size(), timing_steps);
  if (!plan.stopped.empty())
    out.table += fmt::format(
        "Each suite was planned up to its first batch with unfinished runs: {} (a later batch, if "
        "any, needs this one's results: plan again once it has finished).\n",
        fmt::join(plan.stopped, ", "));
  out.json["batches"] = batches;
  out.json["core_hours"] = total / 3600;
  out.json["core_hours_left"] = left / 3600;
  out.json["stopped"] = plan.stopped;
  return out;
}

std::string theory_slurm_script(const Plan& plan, const std::string& args, const fs::path& out,
                                const sweep::SlurmOptions& o) {
  const std::string d = fs::absolute(out).string();
  sweep::SlurmJob job;
  job.name = "saturn-theory";
  job.written_by = "`saturn theory --emit-slurm`: " + args;
  job.shared = o.binary + " and " + d;
  job.tasks = plan.runs.size();
  job.array_command =
      fmt::format("'{}' theory {} --out '{}' --task \"$SLURM_ARRAY_TASK_ID\"", o.binary, args, d);
  // (It also trains the batches the plan could not reach: they needed the array's results.)
  job.gather_command =
      fmt::format("'{}' theory {} --out '{}' --threads {}", o.binary, args, d, o.threads);
  job.mpi_command =
      fmt::format("'{}' theory {} --out '{}' --threads {}", o.binary, args, d, o.threads);
  return sweep::slurm_job_script(job, o);
}

}  // namespace saturn::theory
