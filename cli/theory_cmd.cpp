// `saturn theory`: the theory-checking suites (theory/). Exit 0 when every claim run holds, 1
// when any fails or is inconclusive, 2 on bad input.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/commands.h"
#include "theory/suite.h"

namespace saturn::cli {

void add_theory_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "theory", "Run the theory-checking suites: each paper's claims as numbers that can fail");
  struct Options {
    std::string suites = "all", scale = "quick", out = "saturn-theory";
    int seeds = 0, threads = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  std::vector<std::string> names;
  for (const auto& s : theory::suites()) names.push_back(s.name);
  cmd->add_option("--suite", o->suites,
                  fmt::format("Suites NAME[,NAME...] or all ({})", fmt::join(names, ", ")))
      ->capture_default_str();
  cmd->add_option("--scale", o->scale, "quick (minutes, what the tests run) or full")
      ->capture_default_str();
  auto* seeds_option = cmd->add_option("--seeds", o->seeds,
                                       "Seeds per configuration (default: the suite's, per scale)");
  cmd->add_option("--threads", o->threads, "Runs trained at once (default: every core)");
  cmd->add_option("--out", o->out, "Output directory: report.md, results.json, figures/, runs/")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print results.json instead of the table");
  cmd->callback([o, seeds_option] {
    theory::TheoryOptions options;
    if (o->scale != "quick" && o->scale != "full")
      throw InputError(fmt::format("--scale: expected quick or full (got '{}')", o->scale));
    options.scale = o->scale == "full" ? theory::Scale::full : theory::Scale::quick;
    // 0 stands for "not given" inside; given, it must be a count.
    if (seeds_option->count() > 0 && (o->seeds < 1 || o->seeds > 1000))
      throw InputError(fmt::format("--seeds: expected 1..1000 (got {})", o->seeds));
    if (o->threads < 0 || o->threads > 4096)
      throw InputError(fmt::format("--threads: expected 1..4096 (got {})", o->threads));
    if (o->out.empty()) throw InputError("--out: expected a directory");
    options.seeds = o->seeds;
    options.threads = o->threads;
    options.out = o->out;
    const auto selected = theory::select_suites(o->suites);
    const auto results = theory::run_theory(selected, options);
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
