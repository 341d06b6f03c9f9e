// The loop in one call: a trained run's checkpoint -> probe words -> the most faithful saturated
// circuit (saturate/extract.h) -> its faithfulness over every word where the budget allows
// (loop/exhaustive.h) -> the circuit file -> bounded equivalence with a language (verify/).
// `saturn extract` prints this; `saturn sweep` with an [extract] table records it per task.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lang/language.h"
#include "loop/exhaustive.h"
#include "nets/checkpoint.h"
#include "saturate/extract.h"
#include "verify/equivalence.h"

namespace saturn::loop {

inline constexpr long kDefaultExhaustiveMax = 1L << 22;

struct LoopOptions {
  std::filesystem::path run;        // a run directory or a checkpoint file
  std::string checkpoint = "last";  // STEP or last (for a run directory)
  std::string against;              // the language: built-in name or spec file
  int max_length = -1;              // longest word verified (required)
  int min_length = -1;              // shortest word verified (-1: the shortest training length)
  verify::Method method = verify::Method::automatic;
  double timeout = 0;  // seconds for the exhaustive pass and verification together (0: none)
  int bits = 0;        // weights rounded to 2^-bits (0: the smallest that keeps the decisions)
  int per_length = 0;  // probe words per length and class (0: about 600 per range)
  saturate::TieRule tie;
  std::uint64_t seed = 0;                       // for the probe words
  bool search = true;                           // false: every head at argmax
  long exhaustive_max = kDefaultExhaustiveMax;  // words per length enumerated (0: probes only)
  std::filesystem::path out;                    // circuit file (empty: RUN/circuit.json)
  bool progress = false;                        // verify's progress line on stderr
};

struct LoopResult {
  std::filesystem::path checkpoint, circuit_path;
  long step = 0;
  std::shared_ptr<const Language> language;
  int train_lo = 0, train_hi = 0, out_hi = 0;  // probes cover train_lo..out_hi
  saturate::Extraction extraction;             // circuit with faithfulness (all words or sampled)
  saturate::Faithfulness::Count in, beyond;    // in range, out of range
  Exhaustive exhaustive;                       // per length: "all" or "sampled", margins
  verify::Reference reference;
  verify::Verdict verdict;
  bool outside_training_lengths = false;  // a counterexample outside train_lo..train_hi
  bool timed_out = false;                 // verdict unknown because a timeout hit
  double seconds = 0;                     // the whole loop
};

// Checks the options (InputError naming the flag), then runs the loop. `on_extracted` (if set) is
// called with the result so far once the circuit is written and before verification starts.
LoopResult close_loop(const LoopOptions& options,
                      const std::function<void(const LoopResult&)>& on_extracted = {});

// A run directory's checkpoint at `which` (STEP or last), or `run` itself when it is a file.
std::filesystem::path pick_checkpoint(const std::filesystem::path& run, const std::string& which);

}  // namespace saturn::loop
