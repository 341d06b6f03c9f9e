#include "theory/suite.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <omp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "lang/builtin.h"
#include "nets/train.h"
#include "saturate/plot.h"
#include "sweep/mpi.h"
#include "sweep/pool.h"

namespace saturn::theory {

namespace fs = std::filesystem;

std::string fnv_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

const char* to_string(Scale s) {
  return s == Scale::paper ? "paper" : s == Scale::full ? "full" : "quick";
}

Scale parse_scale(const std::string& name) {
  if (name != "quick" && name != "full" && name != "paper")
    throw InputError(fmt::format("--scale: expected quick, full or paper (got '{}')", name));
  return name == "paper" ? Scale::paper : name == "full" ? Scale::full : Scale::quick;
}

void check_options(const TheoryOptions& o, bool seeds_given) {
  if (seeds_given && (o.seeds < 1 || o.seeds > 1000))
    throw InputError(fmt::format("--seeds: expected 1..1000 (got {})", o.seeds));
  if (o.threads < 0 || o.threads > 4096)
    throw InputError(fmt::format("--threads: expected 1..4096 (got {})", o.threads));
  if (o.out.empty()) throw InputError("--out: expected a directory");
}

const char* to_string(ClaimKind k) {
  return k == ClaimKind::theorem ? "theorem" : "empirical";
}

std::string fmt_num(double x, int digits) {
  return fmt::format("{:.{}f}", x, digits);
}

std::vector<double> in_range(const std::vector<RunOutcome>& runs) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r.in_range);
  return v;
}

namespace {
// Thrown by train_all in plan mode at a batch with unfinished runs; caught by plan_theory.
struct PlanStop {};
}  // namespace

Context::Context(const TheoryOptions& options, const sweep::MpiSession* mpi, Plan* plan)
    : options_(options), mpi_(mpi), plan_(plan) {
  // Under mpirun the ranks on a node share its cores.
  threads_ = options.threads > 0 ? options.threads
             : mpi               ? sweep::rank_threads(0)
                                 : omp_get_num_procs();
}

bool Context::writer() const {
  return !mpi_ || mpi_->rank() == 0;
}

bool worker_rank() {
  return sweep::launched_by_mpi() && sweep::launched_rank() != 0;
}

fs::path Context::run_dir(const RunRequest& r) const {
  const std::string text = r.language + "\n" + r.config.to_toml();
  return options_.out / "runs" / fmt::format("{}-{}", r.name, fnv_hex(text).substr(0, 8));
}

void train_run(const RunRequest& r, const fs::path& dir) {
  if (fs::exists(dir / "summary.json")) return;
  const bool resume = fs::exists(dir / "config.toml");
  nets::train(resolve_language(r.language), r.config,
              {.out = dir, .resume = resume, .quiet = true, .overwrite = !resume});
}

std::string Shape::text() const {
  return fmt::format("{} layer{}, d_model {}, {} head{}, d_ff {}", n_layers,
                     n_layers == 1 ? "" : "s", d_model, n_heads, n_heads == 1 ? "" : "s", d_ff);
}

int Context::seeds(int quick, int full_seeds, int paper_seeds) const {
  if (options_.seeds > 0) return options_.seeds;
  return paper() ? paper_seeds : full() ? full_seeds : quick;
}

void Context::progress(const std::string& line) const {
  if (options_.progress && writer()) fmt::print(stderr, "[theory] {}\n", line);
}

void Context::parallel_for(int n, const std::function<void(int)>& fn) {
  std::exception_ptr error;
  const int saved_levels = omp_get_max_active_levels();
  omp_set_max_active_levels(1);  // the kernels inside each call run on one thread
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_)
  for (int i = 0; i < n; ++i) {
    bool skip = false;
#pragma omp critical(theory_error)
    skip = static_cast<bool>(error);
    if (skip) continue;
    try {
      fn(i);
    } catch (...) {
#pragma omp critical(theory_error)
      if (!error) error = std::current_exception();
    }
  }
  omp_set_max_active_levels(saved_levels);
  if (error) std::rethrow_exception(error);
}

std::vector<RunOutcome> Context::train_all(const std::vector<RunRequest>& runs) {
  const int batch = batch_++;
  std::vector<fs::path> dirs;
  std::vector<int> pending;
  for (const auto& r : runs) {
    dirs.push_back(run_dir(r));
    if (!fs::exists(dirs.back() / "summary.json"))
      pending.push_back(static_cast<int>(dirs.size()) - 1);
  }
  if (plan_) {
    for (std::size_t i = 0; i < runs.size(); ++i)
      plan_->runs.push_back({"", batch, runs[i], dirs[i], fs::exists(dirs[i] / "summary.json")});
    if (!pending.empty()) throw PlanStop{};
  }
  std::size_t done = runs.size() - pending.size();
  const auto t0 = std::chrono::steady_clock::now();
  const bool show = options_.progress && writer() && ::isatty(STDERR_FILENO);
  const auto train_one = [&](int i) { train_run(runs[i], dirs[i]); };
  const auto finished = [&](int) {
    ++done;
    if (show)
      fmt::print(stderr, "\r[theory]   {}/{} runs, {:.0f} s   ", done, runs.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  // One run per core, each on one thread (so its result does not depend on the thread count).
  if (mpi_) {
    // One line per run, naming the rank that trained it (rank 0 prints).
    const auto finished_on = [&](int task, int rank) {
      ++done;
      if (options_.progress)
        fmt::print(stderr, "[theory]   {}/{} runs  ({} on rank {}, {:.0f} s)\n", done, runs.size(),
                   dirs[task].filename().string(), rank,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    };
    if (!sweep::run_pool_mpi(*mpi_, pending, 1, train_one, finished_on))
      throw InputError("stopped: a run failed on another rank (rank 0 names it)");
  } else {
    sweep::run_pool_local(pending, threads_, 1, train_one, finished);
  }
  if (show && !mpi_ && !runs.empty()) fmt::print(stderr, "\n");
  std::vector<RunOutcome> outcomes(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const fs::path& dir = dirs[i];
    const fs::path summary = dir / "summary.json";
    std::ifstream in(summary);
    const Json s = Json::parse(in, nullptr, false);
    if (s.is_discarded()) throw InputError(fmt::format("{}: not JSON", summary.string()));
    RunOutcome& o = outcomes[i];
    o.dir = dir;
    // Every figure from the summary itself: a missing one is refused, never read as 0.
    auto figure = [&](const char* key) {
      if (!s.contains(key) || !s[key].is_number())
        throw InputError(fmt::format("{}: no number '{}' (a damaged run: delete {} to retrain it)",
                                     summary.string(), key, dir.string()));
      return s[key].get<double>();
    };
    o.final_loss = figure("final_loss");
    // Accuracies are a recognizer's (a next-symbol run's summary has none).
    if (runs[i].config.model.objective == nets::Objective::recognize) {
      o.in_range = figure("in_range_accuracy");
      o.out_of_range = figure("out_of_range_accuracy");
    }
  }
  return outcomes;
}

Json Context::cached(const std::string& key, const std::function<Json()>& compute) {
  const fs::path path = options_.out / "units" / (fnv_hex(key) + ".json");
  if (fs::exists(path)) {
    std::ifstream in(path);
    const Json j = Json::parse(in, nullptr, false);
    if (!j.is_discarded() && j.value("key", "") == key && j.contains("value")) return j["value"];
  }
  Json value = compute();
  if (!writer()) return value;  // rank 0 keeps it
  fs::create_directories(path.parent_path());
  Json j;
  j["key"] = key;
  j["value"] = value;
  write_file_atomically(path, j.dump() + "\n");
  return value;
}

std::vector<const Suite*> select_suites(const std::string& names) {
  std::vector<const Suite*> out;
  if (names == "all") {
    for (const auto& s : suites()) out.push_back(&s);
    return out;
  }
  std::stringstream in(names);
  std::string name;
  std::vector<std::string> known;
  for (const auto& s : suites()) known.push_back(s.name);
  while (std::getline(in, name, ',')) {
    auto it = std::find_if(suites().begin(), suites().end(),
                           [&](const Suite& s) { return s.name == name; });
    if (it == suites().end())
      throw InputError(fmt::format("--suite: unknown suite '{}' (known: {}, or all)", name,
                                   fmt::join(known, ", ")));
    if (std::find(out.begin(), out.end(), &*it) == out.end()) out.push_back(&*it);
  }
  if (out.empty()) throw InputError("--suite: expected a suite name or all");
  return out;
}

namespace {

// flock on DIR/.lock for the whole run: a second `saturn theory` on DIR is refused.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path lock = dir / ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw InputError(fmt::format("--out: {}: cannot create a lock", lock.string()));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw InputError(fmt::format("--out: {} is in use by another saturn theory", dir.string()));
    }
  }
  ~DirLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string seed_table_markdown(const SeedTable& t) {
  std::string md = "|";
  for (const auto& c : t.columns) md += " " + md_escape(c) + " |";
  md += "\n|";
  for (std::size_t i = 0; i < t.columns.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& row : t.rows) {
    md += "|";
    for (const auto& cell : row) md += " " + md_escape(cell) + " |";
    md += "\n";
  }
  return md;
}

std::string effect_line(const Effect& e) {
  return fmt::format("{}: {} over {} seeds; the least effect that counts: {}", e.name,
                     format_summary(e.summary), e.summary.n, fmt_num(e.minimum));
}

std::string report_markdown(const std::vector<ClaimResult>& results, const TheoryOptions& o) {
  std::string md = fmt::format(
      "# saturn theory report ({} scale)\n\nEach claim's criterion, and the least effect that "
      "counts as a replication, were fixed in the code (theory/) before it ran. Verdicts: holds "
      "(the measured interval lies inside the expected region), fails (it lies outside), "
      "inconclusive (it crosses the region's edge: the spread is too wide to tell).\n\n"
      "**Theorem checks** test what a paper proves: they can fail only through a bug in saturn. "
      "**Empirical claims** test what training or initialisation does, and can fail at our "
      "scale.\n",
      to_string(o.scale));
  for (ClaimKind kind : {ClaimKind::theorem, ClaimKind::empirical}) {
    bool any = false;
    for (const auto& r : results) any = any || r.spec.kind == kind;
    if (!any) continue;
    md += fmt::format(
        "\n## {}\n\n| claim | paper | measured | expected | value | verdict |\n"
        "|---|---|---|---|---|---|\n",
        kind == ClaimKind::theorem ? "Theorem checks" : "Empirical claims");
    for (const auto& r : results)
      if (r.spec.kind == kind)
        md += fmt::format("| {} | {} | {} | {} | {} | **{}** |\n", r.spec.id, r.spec.paper,
                          md_escape(r.spec.measured), md_escape(r.spec.expected),
                          md_escape(r.value), to_string(r.verdict));
  }
  for (const auto& r : results) {
    md += fmt::format("\n## {} ({}, {})\n\n", r.spec.id, r.spec.paper,
                      r.spec.kind == ClaimKind::theorem ? "theorem check" : "empirical claim");
    if (!r.spec.quote.empty()) md += fmt::format("**The paper.** {}\n\n", r.spec.quote);
    md += fmt::format("**Setup.** {}\n\n", r.setup);
    md += fmt::format("**Criterion (fixed before running).** {}\n\n", r.spec.criterion);
    if (!r.spec.min_effect.empty())
      md += fmt::format("**Least effect that counts (fixed before running).** {}\n\n",
                        r.spec.min_effect);
    md += fmt::format("**Result.** {} — **{}**.\n\n", r.value, to_string(r.verdict));
    for (const auto& e : r.effects) md += fmt::format("- {}\n", effect_line(e));
    if (!r.effects.empty()) md += "\n";
    if (!r.per_seed.empty()) md += "**Per seed.**\n\n" + seed_table_markdown(r.per_seed) + "\n";
    if (!r.differs.empty()) md += fmt::format("**How our setting differs.** {}\n\n", r.differs);
    if (r.figure) md += fmt::format("![{}](figures/{}.svg)\n", r.spec.id, r.spec.id);
  }
  return md;
}

}  // namespace

Json results_json(const std::vector<ClaimResult>& results, const TheoryOptions& o) {
  Json j;
  j["scale"] = to_string(o.scale);
  Json claims = Json::array();
  for (const auto& r : results) {
    Json c;
    c["id"] = r.spec.id;
    c["paper"] = r.spec.paper;
    c["measured"] = r.spec.measured;
    c["expected"] = r.spec.expected;
    c["criterion"] = r.spec.criterion;
    c["kind"] = to_string(r.spec.kind);
    c["quote"] = r.spec.quote;
    c["min_effect"] = r.spec.min_effect;
    c["setup"] = r.setup;
    c["value"] = r.value;
    c["verdict"] = to_string(r.verdict);
    c["differs"] = r.differs;
    c["numbers"] = r.numbers;
    if (!r.per_seed.empty())
      c["per_seed"] = {{"columns", r.per_seed.columns}, {"rows", r.per_seed.rows}};
    Json effects = Json::array();
    for (const auto& e : r.effects)
      effects.push_back({{"name", e.name},
                         {"n", e.summary.n},
                         {"mean", e.summary.mean},
                         {"ci", {e.summary.ci.lo, e.summary.ci.hi}},
                         {"minimum", e.minimum}});
    if (!effects.empty()) c["effects"] = effects;
    if (r.figure) c["figure"] = {"figures/" + r.spec.id + ".svg", "figures/" + r.spec.id + ".png"};
    claims.push_back(c);
  }
  j["claims"] = claims;
  return j;
}

std::string format_table(const std::vector<ClaimResult>& results) {
  std::size_t w_id = 5, w_paper = 5, w_meas = 8, w_exp = 8, w_val = 5;
  for (const auto& r : results) {
    w_id = std::max(w_id, r.spec.id.size());
    w_paper = std::max(w_paper, r.spec.paper.size());
    w_meas = std::max(w_meas, r.spec.measured.size());
    w_exp = std::max(w_exp, r.spec.expected.size());
    w_val = std::max(w_val, r.value.size());
  }
  std::string out =
      fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", "claim", w_id, "paper", w_paper,
                  "measured", w_meas, "expected", w_exp, "value", w_val, "verdict");
  for (const auto& r : results)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", r.spec.id, w_id,
                       r.spec.paper, w_paper, r.spec.measured, w_meas, r.spec.expected, w_exp,
                       r.value, w_val, to_string(r.verdict));
  return out;
}

std::vector<ClaimResult> run_theory(const std::vector<const Suite*>& selected,
                                    const TheoryOptions& options) {
  if (fs::exists(options.out) && !fs::is_directory(options.out))
    throw InputError(fmt::format("--out: {} is not a directory", options.out.string()));
  // Under mpirun every rank runs the suites (the same code, the same requests); rank 0 locks DIR
  // and alone writes into it, besides the run directories each rank trains.
  std::optional<sweep::MpiSession> mpi;
  if (sweep::launched_by_mpi()) mpi.emplace();
  std::optional<DirLock> lock;
  std::string error;
  if (!mpi || mpi->rank() == 0) {
    try {
      lock.emplace(options.out);
    } catch (const InputError& e) {
      error = e.what();
    }
  }
  if (mpi ? mpi->any(!error.empty()) : !error.empty())
    throw InputError(error.empty() ? "stopped: rank 0 could not lock --out" : error);
  Context context(options, mpi ? &*mpi : nullptr);
  std::vector<ClaimResult> results;
  for (const Suite* s : selected) {
    check_interrupt();
    context.progress(fmt::format("suite {} ({}), {} scale, {} threads{}", s->name, s->paper,
                                 context.scale_name(), context.threads(),
                                 mpi ? fmt::format(", {} ranks", mpi->size()) : ""));
    for (auto& r : s->run(context)) results.push_back(std::move(r));
  }
  if (!context.writer()) return results;
  fs::create_directories(options.out / "figures");
  for (const auto& r : results) {
    if (!r.figure) continue;
    // The claim's id and what it measures as the title; a script's own title overrides it.
    std::string title = r.spec.id + ": " + r.spec.measured;
    for (char& ch : title)
      if (ch == '\'') ch = '`';
    saturate::gnuplot_figure(options.out / "figures" / (r.spec.id + ".svg"), r.figure->data,
                             fmt::format("set title '{}'\n{}", title, r.figure->script));
  }
  write_file_atomically(options.out / "results.json",
                        results_json(results, options).dump(2) + "\n");
  write_file_atomically(options.out / "report.md", report_markdown(results, options));
  return results;
}

Plan plan_theory(const std::vector<const Suite*>& selected, const TheoryOptions& options) {
  if (fs::exists(options.out) && !fs::is_directory(options.out))
    throw InputError(fmt::format("--out: {} is not a directory", options.out.string()));
  TheoryOptions quiet = options;
  quiet.progress = false;
  Plan plan;
  for (const Suite* s : selected) {
    check_interrupt();
    Plan mine;
    Context context(quiet, nullptr, &mine);
    try {
      s->run(context);
    } catch (const PlanStop&) {
      plan.stopped.push_back(s->name);
    }
    for (auto& r : mine.runs) {
      r.suite = s->name;
      plan.runs.push_back(std::move(r));
    }
  }
  return plan;
}

}  // namespace saturn::theory
