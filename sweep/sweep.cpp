#include "sweep/sweep.h"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/names.h"
#include "base/read_file.h"
#include "lang/builtin.h"
#include "loop/close.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"
#include "nets/train.h"
#include "saturate/plot.h"
#include "sweep/pool.h"

namespace saturn::sweep {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr double kClosedFaithfulness = 0.99;
constexpr std::uint64_t kEvalSeedIn = 0xE7A1, kEvalSeedOut = 0xE7A2;  // as `saturn learn`

Json read_json(const fs::path& path) {
  const Json j = Json::parse(read_file(path, "result", kMaxTextFile), nullptr, false);
  if (j.is_discarded()) throw InputError(fmt::format("{}: not JSON", path.string()));
  return j;
}

Json per_length_json(const nets::EvalResult& r) {
  Json j = Json::object();
  for (const auto& [n, ct] : r.per_length)
    j[std::to_string(n)] = static_cast<double>(ct.first) / static_cast<double>(ct.second);
  return j;
}

// [extract]: the loop on the task's last checkpoint (circuit in the run directory).
void add_extract_fields(Json& r, const ExtractSpec& x, const std::string& language,
                        const fs::path& dir) {
  loop::LoopOptions o;
  o.run = dir;
  o.against = x.against.empty() ? language : x.against;
  o.max_length = x.max_length;
  o.method = parse_name<verify::Method>(verify::kMethodNames, "extract.method", x.method);
  o.timeout = x.timeout;
  o.exhaustive_max = x.exhaustive_max;
  const loop::LoopResult e = loop::close_loop(o);
  const auto rate = [](const saturate::Faithfulness::Count& c) {
    return c.words ? Json(c.rate()) : Json(nullptr);
  };
  r["faithfulness_in"] = rate(e.in);
  r["faithfulness_out"] = rate(e.beyond);
  r["verdict"] = e.verdict.kind == verify::Verdict::equivalent       ? "equivalent"
                 : e.verdict.kind == verify::Verdict::counterexample ? "counterexample"
                                                                     : "unknown";
  r["proved_up_to"] = e.verdict.proved_up_to;
  r["timed_out"] = e.timed_out;
  r["extract_seconds"] = e.seconds;
}

// Closed: the loop proved the circuit and the circuit is faithful in and beyond the training range.
bool closed(const Json& r) {
  const auto at_least = [&](const char* key) {
    return r.contains(key) && r[key].is_number() && r[key].get<double>() >= kClosedFaithfulness;
  };
  return r.value("verdict", "") == "equivalent" && at_least("faithfulness_in") &&
         at_least("faithfulness_out");
}

}  // namespace

int threads_per_task(int jobs, int requested) {
  if (requested > 0) return requested;
  return std::max(1, omp_get_num_procs() / std::max(1, jobs));
}

void check_options(const SweepOptions& o) {
  const auto check_range = [](const char* flag, int value, int lo, int hi) {
    if (value < lo || value > hi)
      throw InputError(fmt::format("{}: expected {}..{} (got {})", flag, lo, hi, value));
  };
  check_range("--jobs", o.jobs, 1, 4096);
  check_range("--threads", o.threads, 0, 4096);
}

std::string run_sweep(const Grid& grid, const SweepOptions& options) {
  check_options(options);
  prepare_out(grid, options);
  const nets::RunDirectory lock(options.out, nets::RunDirectory::Mode::resume);
  run_local(grid, options);
  return gather(grid, options.out);
}

void prepare_out(const Grid& grid, const SweepOptions& o) {
  std::error_code ec;
  const fs::path kept = o.out / "grid.toml";
  if (fs::exists(o.out) && !fs::is_directory(o.out))
    throw InputError(fmt::format("--out: {} exists and is not a directory", o.out.string()));
  if (fs::exists(o.out) && !fs::is_empty(o.out, ec)) {
    if (!o.resume)
      throw InputError(fmt::format(
          "--out: {} is not empty; continue the sweep with --resume, or choose a new directory",
          o.out.string()));
    // (Without grid.toml: a sweep whose first task is just starting, e.g. a SLURM array.)
    if (!fs::exists(kept)) write_file_atomically(kept, grid.text);
    if (read_file(kept, "grid", kMaxTextFile) != grid.text)
      throw InputError(fmt::format(
          "--resume: {} holds the sweep of another grid ({} differs from {}); choose a new "
          "directory",
          o.out.string(), kept.string(), grid.file.string()));
    return;
  }
  fs::create_directories(o.out, ec);
  if (ec)
    throw InputError(fmt::format("--out: cannot create {} ({})", o.out.string(), ec.message()));
  write_file_atomically(kept, grid.text);
}

std::vector<int> pending_tasks(const Grid& grid, const fs::path& out) {
  std::vector<int> pending;
  const auto tasks = grid.tasks();
  for (int i = 0; i < static_cast<int>(tasks.size()); ++i)
    if (!fs::exists(grid.run_dir(out, tasks[i]) / "result.json")) pending.push_back(i);
  return pending;
}

void run_task(const Grid& grid, const Task& task, const fs::path& out, int threads) {
  const fs::path dir = grid.run_dir(out, task);
  const fs::path result = dir / "result.json";
  if (fs::exists(result)) return;
  omp_set_num_threads(threads);
  const GridLanguage& gl = grid.languages[task.language];
  auto language = resolve_language(gl.spec);
  const nets::RunConfig config = grid.config(task);
  // A run killed before its config.toml starts afresh; one killed later resumes.
  const bool resume = fs::exists(dir / "config.toml");
  fs::create_directories(dir.parent_path());
  nets::train(language, config,
              {.out = dir, .resume = resume, .quiet = true, .overwrite = !resume});
  const nets::Checkpoint ck = nets::load_checkpoint(nets::latest_checkpoint(dir));
  nets::Transformer<float> model(ck.config.model, ck.num_symbols);
  model.params.assign(ck.params.begin(), ck.params.end());
  Sampler sampler(language);
  const auto [train_lo, train_hi] = parse_length_range(config.train.train_lengths, "train_lengths");
  const auto [test_lo, test_hi] = parse_length_range(config.train.test_lengths, "test_lengths");
  const auto in = nets::evaluate(model, sampler, train_lo, train_hi, grid.per_length, false,
                                 kEvalSeedIn, 64, grid.eval_negatives);
  const auto outr = nets::evaluate(model, sampler, test_lo, test_hi, grid.per_length, false,
                                   kEvalSeedOut, 64, grid.eval_negatives);
  const Json s = read_json(dir / "summary.json");
  Json r;
  r["language"] = gl.name;
  r["config"] = grid.configs[task.config].id;
  Json keys = Json::object();
  for (const auto& [k, v] : grid.configs[task.config].keys) keys[k] = v;
  r["keys"] = keys;
  r["seed"] = task.seed;
  r["run"] = fs::relative(dir, out).string();
  r["objective"] =
      config.model.objective == nets::Objective::recognize ? "recognize" : "next-symbol";
  r["eval_negatives"] = to_string(grid.eval_negatives);
  r["train_lengths"] = config.train.train_lengths;
  r["test_lengths"] = config.train.test_lengths;
  r["steps"] = ck.step;
  if (!s.contains("final_loss") || !s["final_loss"].is_number())
    throw InputError(fmt::format("{}: no final_loss", (dir / "summary.json").string()));
  r["final_loss"] = s["final_loss"].get<double>();
  r["final_norm"] = nets::parameter_norm(model.layout(), ck.params.data());  // as param_norm
  r["in_range"] = in.accuracy();
  r["out_of_range"] = outr.accuracy();
  r["ch_score"] = nets::mean_over_lengths(outr);
  r["per_length"] = per_length_json(in);
  const Json out_curve = per_length_json(outr);
  for (const auto& [n, acc] : out_curve.items()) r["per_length"][n] = acc;
  r["threads"] = threads;
  r["seconds"] = s.value("wall_seconds", 0.0);
  if (grid.extract) add_extract_fields(r, *grid.extract, gl.spec, dir);
  // Written last: a task killed before this (in training or in extraction) is redone on --resume.
  write_file_atomically(result, r.dump() + "\n");
}

void run_local(const Grid& grid, const SweepOptions& o) {
  const auto tasks = grid.tasks();
  const auto pending = pending_tasks(grid, o.out);
  const int threads = threads_per_task(o.jobs, o.threads);
  const auto t0 = std::chrono::steady_clock::now();
  if (!o.quiet)
    fmt::print(stderr, "[sweep] {} tasks, {} done; {} at once, {} thread{} each\n", tasks.size(),
               tasks.size() - pending.size(), o.jobs, threads, threads == 1 ? "" : "s");
  std::size_t done = tasks.size() - pending.size();
  run_pool_local(
      pending, o.jobs, threads, [&](int i) { run_task(grid, tasks[i], o.out, threads); },
      [&](int i) {
        ++done;
        if (o.quiet) return;
        const Task& t = tasks[i];
        fmt::print(stderr, "[sweep] {}/{} done  ({} {} seed {}, {:.0f} s)\n", done, tasks.size(),
                   grid.languages[t.language].name, grid.configs[t.config].id, t.seed,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      });
}

std::string gather(const Grid& grid, const fs::path& out) {
  const auto tasks = grid.tasks();
  std::string lines;
  // max / mean over seeds, per (language, config): in and out of range.
  struct Cell {
    double max_in = 0, max_out = 0, sum_in = 0, sum_out = 0;
    int n = 0, closed = 0;
  };
  std::vector<std::vector<Cell>> cells(grid.languages.size(),
                                       std::vector<Cell>(grid.configs.size()));
  double seconds = 0;
  for (const Task& t : tasks) {
    const fs::path path = grid.run_dir(out, t) / "result.json";
    if (!fs::exists(path))
      throw InputError(
          fmt::format("{}: missing; the task has not finished (run the sweep with "
                      "--resume)",
                      path.string()));
    const Json r = read_json(path);
    lines += r.dump() + "\n";
    Cell& c = cells[t.language][t.config];
    const double in = r.value("in_range", 0.0), o = r.value("out_of_range", 0.0);
    c.max_in = std::max(c.max_in, in);
    c.max_out = std::max(c.max_out, o);
    c.sum_in += in;
    c.sum_out += o;
    ++c.n;
    c.closed += closed(r);
    seconds += r.value("seconds", 0.0);
  }
  write_file_atomically(out / "results.jsonl", lines);

  std::string md = fmt::format("# saturn sweep: {}\n\n", grid.file.filename().string());
  md += fmt::format(
      "{} tasks: {} language{} x {} configuration{} x {} seed{}; {:.0f} s of training and "
      "evaluation in all. Test words per class per length: {}, negatives {}.\n\n",
      tasks.size(), grid.languages.size(), grid.languages.size() == 1 ? "" : "s",
      grid.configs.size(), grid.configs.size() == 1 ? "" : "s", grid.seeds.size(),
      grid.seeds.size() == 1 ? "" : "s", seconds, grid.per_length, to_string(grid.eval_negatives));
  md +=
      "Each cell: accuracy in the training range / out of it, the **max** over seeds (FLaRe's "
      "expressivity) and the mean (its inductive bias).\n\n";
  md += "| configuration | keys |\n|---|---|\n";
  for (const auto& c : grid.configs) md += fmt::format("| {} | {} |\n", c.id, c.label());
  md += "\n| language | lengths |";
  for (const auto& c : grid.configs) md += fmt::format(" {} max | {} mean |", c.id, c.id);
  md += "\n|---|---|";
  for (std::size_t i = 0; i < grid.configs.size(); ++i) md += "---|---|";
  md += "\n";
  std::string data;
  for (std::size_t l = 0; l < grid.languages.size(); ++l) {
    const auto rc = grid.config({static_cast<int>(l), 0, grid.seeds[0]});
    md += fmt::format("| {} | {} / {} |", grid.languages[l].name, rc.train.train_lengths,
                      rc.train.test_lengths);
    for (std::size_t c = 0; c < grid.configs.size(); ++c) {
      const Cell& cell = cells[l][c];
      md += fmt::format(" {:.3f} / {:.3f} | {:.3f} / {:.3f} |", cell.max_in, cell.max_out,
                        cell.sum_in / cell.n, cell.sum_out / cell.n);
      data += fmt::format("{} {} {:.4f}\n", c, l, cell.max_out);
    }
    md += "\n";
  }
  if (grid.extract) {
    md += fmt::format(
        "\n## Closure ([extract], verified to length {}, method {}{})\n\nEach cell: closed seeds "
        "/ seeds. Closed = verdict equivalent AND faithfulness_in >= {:.2f} AND faithfulness_out "
        ">= {:.2f} (faithfulness of the extracted circuit to the trained model: on every word of "
        "a length where exhaustive_max allows, on sampled probes beyond).\n\n| language |",
        grid.extract->max_length, grid.extract->method,
        grid.extract->timeout > 0 ? fmt::format(", timeout {:g} s", grid.extract->timeout) : "",
        kClosedFaithfulness, kClosedFaithfulness);
    for (const auto& c : grid.configs) md += fmt::format(" {} |", c.id);
    md += "\n|---|";
    for (std::size_t i = 0; i < grid.configs.size(); ++i) md += "---|";
    md += "\n";
    for (std::size_t l = 0; l < grid.languages.size(); ++l) {
      md += fmt::format("| {} |", grid.languages[l].name);
      for (std::size_t c = 0; c < grid.configs.size(); ++c)
        md += fmt::format(" {}/{} |", cells[l][c].closed, cells[l][c].n);
      md += "\n";
    }
  }
  md += "\nHeat map of the max out-of-range accuracy: heatmap.svg, heatmap.png.\n";
  write_file_atomically(out / "summary.md", md);

  // Heat map: configurations across, languages down, max out-of-range accuracy.
  std::string xtics, ytics;
  for (std::size_t c = 0; c < grid.configs.size(); ++c)
    xtics += fmt::format("{}\"{}\" {}", c ? ", " : "", grid.configs[c].id, c);
  for (std::size_t l = 0; l < grid.languages.size(); ++l)
    ytics += fmt::format("{}\"{}\" {}", l ? ", " : "", grid.languages[l].name, l);
  const std::string script = fmt::format(
      "set title 'sweep: max over seeds of the out-of-range accuracy'\n"
      "set xlabel 'configuration (grid point)'\nset ylabel 'language'\n"
      // 0..1 on purpose: accuracy's whole scale, white at chance (0.5) for binary recognition;
      // every cell is labelled with its value, so narrow differences stay readable.
      "set cblabel 'accuracy (fraction of test words; white: 0.5)'\n"
      "set xtics ({})\nset ytics ({})\nset cbrange [0:1]\nset palette defined (0 '#b2182b', 0.5 "
      "'#f7f7f7', 1 '#2166ac')\nset xrange [-0.5:{}]\nset yrange [{}:-0.5]\nunset key\n"
      "plot data using 1:2:3 with image, data using 1:2:(sprintf('%.2f', $3)) with labels\n",
      xtics, ytics, grid.configs.size() - 0.5, grid.languages.size() - 0.5);
  saturate::gnuplot_figure(out / "heatmap.svg", data, script);
  return md;
}

std::string slurm_job_script(const SlurmJob& job, const SlurmOptions& o) {
  std::string s = "#!/bin/bash\n# Written by " + job.written_by + "\n";
  s += "# Assumes a filesystem shared by every node: " + job.shared +
       " are read and written from all of them.\n";
  s += "#SBATCH --job-name=" + job.name + "\n";
  s += fmt::format("#SBATCH --cpus-per-task={}\n#SBATCH --time={}\n", o.threads, o.time);
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (o.array) {
    s += fmt::format("#SBATCH --array=0-{}%{}\n#SBATCH --ntasks=1\n", job.tasks - 1, o.ntasks);
    s += "#SBATCH --output=" + job.name + "-%A_%a.out\n\n";
    s += fmt::format("export OMP_NUM_THREADS={}\n", o.threads);
    s += job.array_command + "\n";
    s += "# When every element has finished, gather the results:\n#   " + job.gather_command + "\n";
  } else {
    s += fmt::format("#SBATCH --ntasks={}\n#SBATCH --output={}-%j.out\n\n", o.ntasks, job.name);
    s += fmt::format("export OMP_NUM_THREADS={}\n", o.threads);
    s += fmt::format(
        "# Rank 0 hands out the {} tasks one at a time and gathers the results.\n"
        "srun --mpi=pmix {}\n# or: mpirun -n {} {}\n",
        job.tasks, job.mpi_command, o.ntasks, job.mpi_command);
  }
  return s;
}

std::string slurm_script(const Grid& grid, const fs::path& grid_path, const fs::path& out,
                         const SlurmOptions& o) {
  const std::string g = fs::absolute(grid_path).string(), d = fs::absolute(out).string();
  SlurmJob job;
  job.name = "saturn-sweep";
  job.written_by = "`saturn sweep --emit-slurm`: " + g;
  job.shared = "the grid, " + o.binary + " and " + d;
  job.tasks = grid.tasks().size();
  job.array_command =
      fmt::format("'{}' sweep '{}' --out '{}' --task \"$SLURM_ARRAY_TASK_ID\" --threads {}",
                  o.binary, g, d, o.threads);
  job.gather_command = fmt::format("'{}' sweep '{}' --out '{}' --resume", o.binary, g, d);
  job.mpi_command =
      fmt::format("'{}' sweep '{}' --out '{}' --resume --threads {}", o.binary, g, d, o.threads);
  return slurm_job_script(job, o);
}

}  // namespace saturn::sweep
