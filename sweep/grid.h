// A sweep's grid (GRID.toml): languages x configurations x seeds, each task one normal run
// directory. Format (README, "saturn sweep"):
//
//   languages = ["parity", "majority"]   # built-in names or spec files (relative to GRID.toml)
//   seeds = 3                            # 1..3, or a list [1, 7, 9]
//   per_length = 32                      # test words per class per length for the results
//   eval_negatives = "mixed"             # the results' test negatives: uniform, near-miss, mixed
//   steps = 300                          # any other top-level key: a training/model key for all
//   train_lengths = "1:20"
//   [grid]                               # lists: every combination of their values
//   layers = [1, 2]
//   [[points]]                           # or listed points (each crossed with [grid])
//   lr = 0.001
//   [per_language.binary-addition]       # keys for one language only
//   train_lengths = "1:12"
//   [extract]                            # after training, close the loop (loop/close.h)
//   max_length = 24                      # required; against, method, timeout, exhaustive_max
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nets/run_config.h"

namespace saturn::sweep {

using Keys = std::vector<std::pair<std::string, std::string>>;  // key, value text, in order

struct GridLanguage {
  std::string spec;  // as written in the grid (a built-in name or a resolved file path)
  std::string name;  // the language's own name: its directory under runs/
  Keys keys;         // [per_language.NAME]
};

struct GridConfig {
  std::string id;             // c1, c2, ...
  Keys keys;                  // the varied keys of this point
  std::string label() const;  // "layers=1 lr=0.001", or "(defaults)"
};

// [extract]: after training, each task runs the extract -> verify loop on its last checkpoint.
struct ExtractSpec {
  std::string against;  // a language (built-in or a resolved spec file); empty: the task's own
  int max_length = 0;
  std::string method = "auto";  // auto, enumerate, smt or counts
  double timeout = 0;           // seconds, 0: none
  long exhaustive_max = 1L << 22;
};

struct Task {
  int language = 0, config = 0;
  std::uint64_t seed = 0;
};

struct Grid {
  std::filesystem::path file;
  std::string text;  // the file's contents, kept in the sweep directory
  std::vector<GridLanguage> languages;
  std::vector<GridConfig> configs;
  std::vector<std::uint64_t> seeds;
  Keys fixed;  // top-level keys, for every task
  int per_length = 32;
  // How the results' test negatives are drawn (`eval_negatives`): mixed by default, half
  // uniform and half one edit from an accepted word, so that a test is not won by spotting
  // random strings.
  Negatives eval_negatives = Negatives::mixed;
  std::optional<ExtractSpec> extract;  // [extract], when the grid has one

  // Every task, languages outermost, then configurations, then seeds.
  std::vector<Task> tasks() const;
  // The task's run configuration: defaults, fixed keys, the language's keys, the point's, seed.
  nets::RunConfig config(const Task& t) const;
  // DIR/runs/LANGUAGE/CONFIG/seed-S.
  std::filesystem::path run_dir(const std::filesystem::path& out, const Task& t) const;
};

// Reads and checks GRID.toml: every task's configuration is built once, so a bad key or value is
// refused here naming file:line:col, before anything runs. Throws InputError.
Grid load_grid(const std::filesystem::path& path);
// The same for a grid's text, as if read from `path` (spec files are found beside it).
Grid load_grid_text(const std::string& text, const std::filesystem::path& path);

}  // namespace saturn::sweep
