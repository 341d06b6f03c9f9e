// `saturn memories`: a checkpoint's FFN units as key-value memories (Geva et al. 2021): each
// key's top triggers among probe prefixes (or words), its value projected to the outputs, and
// the agreement between the two per layer, next to the exact chance rates.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "lang/words.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"
#include "saturate/memories.h"

namespace saturn::cli {

namespace {

using Json = nlohmann::ordered_json;

struct MemoriesOptions {
  std::string checkpoint, lang, lengths;
  int top = 10, per_length = 30;
  std::uint64_t seed = 0;
  bool json = false;
};

std::string output_name(const Alphabet& a, bool next_symbol, int o) {
  if (!next_symbol) return o == 1 ? "accept" : "reject";
  return o < a.size() ? a.name(o) : "end";
}

void run(const MemoriesOptions& o) {
  if (o.top < 1 || o.top > 10000)
    throw InputError(fmt::format("--top: expected 1..10000 (got {})", o.top));
  if (o.per_length < 1 || o.per_length > (1 << 16))
    throw InputError(fmt::format("--per-length: expected 1..{} (got {})", 1 << 16, o.per_length));
  const auto path = nets::latest_checkpoint(o.checkpoint);
  nets::Checkpoint c = nets::load_checkpoint(path);
  c.source = path.string();
  const auto language = o.lang.empty() ? nets::checkpoint_language(c) : resolve_language(o.lang);
  nets::check_alphabet(c, *language);
  const nets::ModelConfig& mc = c.config.model;
  const auto [train_lo, train_hi] =
      parse_length_range(c.config.train.train_lengths, "train_lengths");
  const std::string lengths = o.lengths.empty() ? c.config.train.train_lengths : o.lengths;
  const auto [lo, hi] = parse_length_range(lengths, "--lengths");
  if (hi > mc.max_length)
    throw InputError(
        fmt::format("--lengths: {} is longer than the model's max_length ({})", hi, mc.max_length));
  require_memory(4.0 * o.per_length * (hi - lo + 1) * (64 + 2.0 * hi) * (hi + 2.0), "--per-length",
                 "the probe words and their targets");
  nets::require_model_memory(mc, c.num_symbols, 32, hi + 2.0, false, "--lengths", 8, true);
  const bool next_symbol = mc.objective == nets::Objective::next_symbol;
  Sampler sampler(language);
  auto probes = saturate::memory_probes(sampler, next_symbol, lo, hi, o.per_length,
                                        std::max(train_hi, hi), o.seed);
  const saturate::MemoryReport r = saturate::ffn_memories(c, std::move(probes), o.top);
  const Alphabet& a = language->alphabet();
  const auto trigger_text = [&](const saturate::Trigger& t) {
    const Word& w = r.probes[t.word].word;
    return format_word(Word(w.begin(), w.begin() + t.length), a);
  };
  if (o.json) {
    Json j;
    j["checkpoint"] = c.source;
    j["step"] = c.step;
    j["language"] = language->name();
    j["objective"] = next_symbol ? "next_symbol" : "recognize";
    j["lengths"] = lengths;
    j["probe_words"] = r.probes.size();
    j["top"] = o.top;
    Json layers = Json::array();
    for (const auto& l : r.layers)
      layers.push_back({{"layer", l.layer},
                        {"active_keys", l.active},
                        {"agreement", l.agreement},
                        {"chance", l.chance},
                        {"best_constant", l.best_constant},
                        {"same_last", l.same_last},
                        {"chance_same_last", l.chance_same_last},
                        {"same_bigram", l.same_bigram},
                        {"chance_same_bigram", l.chance_same_bigram}});
    j["layers"] = layers;
    Json keys = Json::array();
    for (const auto& m : r.memories) {
      Json triggers = Json::array();
      for (const auto& t : m.triggers)
        triggers.push_back(
            {{"trigger", trigger_text(t)}, {"coefficient", t.coefficient}, {"agrees", t.agrees}});
      keys.push_back({{"layer", m.layer},
                      {"unit", m.unit},
                      {"value_scores", m.value_scores},
                      {"prediction", output_name(a, next_symbol, m.prediction)},
                      {"agreement", m.agreement},
                      {"active", m.active},
                      {"same_last", m.same_last},
                      {"same_bigram", m.same_bigram},
                      {"triggers", triggers}});
    }
    j["keys"] = keys;
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{} (step {}), {} ({}); {} probe words, lengths {}; top {} triggers per key\n",
             c.source, c.step, language->name(), next_symbol ? "next-symbol" : "recogniser",
             r.probes.size(), lengths, o.top);
  fmt::print("{:>5} {:>6} {:>9} {:>7} {:>9} {:>9} {:>9} {:>11} {:>9}\n", "layer", "active",
             "agreement", "chance", "constant", "same-last", "(chance)", "same-bigram", "(chance)");
  for (const auto& l : r.layers)
    fmt::print("{:>5} {:>6} {:>9.3f} {:>7.3f} {:>9.3f} {:>9.3f} {:>9.3g} {:>11.3f} {:>9.3g}\n",
               l.layer, l.active, l.agreement, l.chance, l.best_constant, l.same_last,
               l.chance_same_last, l.same_bigram, l.chance_same_bigram);
  fmt::print("(layer means over active keys: all top triggers with a positive coefficient)\n");
  fmt::print(
      "\nactive keys: layer.unit -> the value's prediction, agreement; triggers "
      "(coefficient; * where the prediction is right)\n");
  for (const auto& m : r.memories) {
    if (!m.active) continue;
    std::string line = fmt::format("{}.{:<3} -> {:<6} {:.2f};", m.layer, m.unit,
                                   output_name(a, next_symbol, m.prediction), m.agreement);
    for (const auto& t : m.triggers)
      line += fmt::format(" {}{} ({:.2f})", trigger_text(t), t.agrees ? "*" : "", t.coefficient);
    fmt::print("{}\n", line);
  }
}

}  // namespace

void add_memories_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "memories",
      "FFN units as key-value memories (Geva et al. 2021): triggers, values, agreement");
  add_threads_option(cmd);
  auto o = std::make_shared<MemoriesOptions>();
  cmd->add_option("CKPT", o->checkpoint, "Checkpoint file, or a run directory (its last)")
      ->required();
  cmd->add_option("--lang", o->lang, "Language of the probes (default: the trained one)");
  cmd->add_option("--top", o->top, "Triggers per key")->capture_default_str();
  cmd->add_option("--lengths", o->lengths, "Probe word lengths A:B (default: the training's)");
  cmd->add_option("--per-length", o->per_length, "Probe words per length (all when fewer)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the probe words")->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace saturn::cli
