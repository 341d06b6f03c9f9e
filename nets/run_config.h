// A run's configuration: model keys (config.h) and training keys, in one flat TOML table;
// every key can also be given as `--set key=value`. The resolved form is written to
// RUN_DIR/config.toml and into every checkpoint.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lang/dataset.h"
#include "nets/config.h"
#include "nets/optim.h"

namespace saturn::nets {

struct TrainConfig {
  OptimizerConfig optimizer;  // optimizer, lr, schedule, warmup_steps, weight_decay, grad_clip
  int batch_size = 32;
  int steps = 1000;
  int eval_every = 100;
  int checkpoint_every = 100;
  std::string train_lengths = "1:40";
  std::string test_lengths = "41:100";
  Negatives negatives = Negatives::uniform;
  int eval_per_length = 32;  // words per class per length at each evaluation
  std::string data;          // JSONL file (saturn lang sample) to train on; empty: fresh samples
  // Every metrics line also carries "grad.TENSOR" (each tensor's gradient norm, by checkpoint
  // name) and "grad.layer.L" (each layer's), before clipping.
  bool log_grad_norms = false;
};

// A TOML float as the text of a key's value, shortest round trip, which an integer key refuses
// ("1000.0", not "1000").
std::string float_text(double v);

// Whether a key's value is text in TOML (names, length ranges, paths: `norm = "layer"`); the
// other keys take numbers or booleans, and a string such as "2" for them is refused.
bool is_text_key(const std::string& key);
// The message for a TOML string given to a key of another type (is_text_key false).
std::string quoted_value_error(const std::string& key, const std::string& value);

// The training keys (model keys: config.h's model_keys()).
const std::vector<std::string>& training_keys();

struct RunConfig {
  ModelConfig model;
  TrainConfig train;

  // Model or training key; throws InputError naming the key.
  void set(const std::string& key, const std::string& value);
  // "key=value" as given to --set.
  void set_assignment(const std::string& assignment);
  // Reads a TOML file of flat keys; errors name file:line:col.
  void load(const std::filesystem::path& path);
  void load_text(const std::string& text, const std::string& source);
  std::string to_toml() const;
  // Every key with its TOML value text (model and training).
  std::map<std::string, std::string> to_map() const;
};

// The configuration `saturn train` (and saturn.train in Python) trains with: with `resume`, the
// run's own DIR/config.toml (a --config file is then refused); otherwise the defaults, then
// `config_file` (when not empty), then the `sets` ("key=value", in order). Resuming a directory
// that holds no config.toml with nothing given is refused: the defaults would train something
// nobody asked for. Throws InputError.
RunConfig run_config_for(const std::filesystem::path& out, bool resume,
                         const std::string& config_file, const std::vector<std::string>& sets);

}  // namespace saturn::nets
