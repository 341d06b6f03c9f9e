// Checkpoints in the safetensors format: an 8-byte little-endian header length, a JSON header
// (tensors by name: dtype F32, shape, data offsets; "__metadata__": strings), then the data.
// Metadata holds the resolved run config, the language (name and spec text), the step, the
// data RNG and the optimizer's step count; the optimizer's moments are tensors
// "optimizer.m" / "optimizer.v". Written to a temporary file and renamed.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/language.h"
#include "nets/model.h"
#include "nets/run_config.h"

namespace saturn::nets {

struct Checkpoint {
  std::string source;  // the file it was loaded from (for messages), or empty
  // config.model.attention_scale is the inverse temperature the model had at this step (under
  // attention_scale_schedule): what every inference reads. With a schedule, the run's start
  // value is start_attention_scale, and the metadata config holds it (config.toml's, which
  // --resume compares); the step's value is the metadata's "attention_scale".
  RunConfig config;
  std::optional<double> start_attention_scale{};
  int num_symbols = 0;
  std::string language_name, language_spec;
  long step = 0;
  std::string rng_state;  // std::mt19937_64 state, as text
  long optimizer_steps = 0;
  std::vector<float> params, adam_m, adam_v;  // adam_m, adam_v empty for SGD
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Checks header length, JSON, format tag, dtypes, shapes against the config and the file
// size; throws InputError naming the file and what is wrong.
Checkpoint load_checkpoint(const std::filesystem::path& path);
// The same checks on a checkpoint's bytes; `source` names it in messages.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& source);

// The checkpoint with the highest step in a run directory (ckpt-STEP.safetensors), or a file.
std::filesystem::path latest_checkpoint(const std::filesystem::path& run_or_file);
// Every checkpoint of a run directory as (step, path), by increasing step; a file alone is
// step -1. Throws InputError when there is none.
std::vector<std::pair<long, std::filesystem::path>> list_checkpoints(
    const std::filesystem::path& run_or_file, bool may_be_empty = false);

// --lang must be over the model's alphabet: the same symbols in the same order (symbol ids are
// positions in it). Throws InputError naming --lang otherwise.
void check_alphabet(const Checkpoint& checkpoint, const Language& language);

// The language a checkpoint was trained on: its spec text, else the built-in of that name.
std::shared_ptr<const Language> checkpoint_language(const Checkpoint& checkpoint);

}  // namespace saturn::nets
