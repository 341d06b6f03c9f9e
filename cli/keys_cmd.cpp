// `saturn keys`: exact selectability of keys (Brody et al. 2023), for a point file or for the
// keys a checkpoint's attention heads compute on probe words.
#include <fmt/format.h>

#include <omp.h>

#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "base/names.h"
#include "base/read_file.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"
#include "saturate/probe.h"
#include "verify/keys.h"
#include "verify/selectable.h"

namespace saturn::cli {

namespace {

using Json = nlohmann::ordered_json;

struct KeysOptions {
  std::string points, checkpoint, lang, lengths;
  int per_length = 20;
  std::uint64_t seed = 0;
  bool json = false;
};

std::string index_list(const std::vector<std::size_t>& v) {
  if (v.empty()) return "-";
  return fmt::format("{}", fmt::join(v, " "));
}

void keys_of_points(const KeysOptions& o) {
  const std::string text = read_file(o.points, "point file", std::uint64_t(256) << 20);
  const verify::PointSet points = verify::read_points(text, o.points);
  if (o.json) {
    fmt::print("{}\n", verify::point_selectability_json(points, omp_get_max_threads()));
    return;
  }
  verify::SelectabilityStats stats;
  const auto status = verify::selectability(points, omp_get_max_threads(), &stats);
  std::vector<std::size_t> selectable, tied, unselectable;
  for (std::size_t i = 0; i < status.size(); ++i) {
    if (status[i] == verify::Selectability::unselectable)
      unselectable.push_back(i);
    else
      selectable.push_back(i);
    if (status[i] == verify::Selectability::tied) tied.push_back(i);
  }
  fmt::print("{}: {} points in {} dimensions, {} distinct\n", o.points, points.size(), points.d,
             stats.distinct);
  fmt::print("selectable     {:>6}: {}\n", selectable.size(), index_list(selectable));
  fmt::print("  only in a tie {:>5}: {}\n", tied.size(), index_list(tied));
  fmt::print("un-selectable  {:>6}: {}\n", unselectable.size(), index_list(unselectable));
}

void keys_of_model(const KeysOptions& o) {
  if (o.lang.empty() || o.lengths.empty())
    throw InputError("keys CKPT: needs --lang L and --lengths A:B (the probe words)");
  if (o.per_length < 1 || o.per_length > (1 << 16))
    throw InputError(fmt::format("--per-length: expected 1..{} (got {})", 1 << 16, o.per_length));
  const auto path = nets::latest_checkpoint(o.checkpoint);
  nets::Checkpoint c = nets::load_checkpoint(path);
  c.source = path.string();
  const auto language = resolve_language(o.lang);
  nets::check_alphabet(c, *language);
  const auto [lo, hi] = parse_length_range(o.lengths, "--lengths");
  const nets::ModelConfig& mc = c.config.model;
  if (hi > mc.max_length)
    throw InputError(
        fmt::format("--lengths: {} is longer than the model's max_length ({})", hi, mc.max_length));
  require_memory(4.0 * o.per_length * (hi - lo + 1) * (64 + 2.0 * hi), "--per-length",
                 "the probe words");
  nets::require_model_memory(mc, c.num_symbols, 1, hi + 2.0, false, "--lengths", 8, true);
  Sampler sampler(language);
  const auto probes = saturate::probe_set(sampler, lo, hi, o.per_length, o.seed);
  const auto heads = verify::key_selectability(c, probes, omp_get_max_threads());
  if (o.json) {
    Json j;
    j["checkpoint"] = c.source;
    j["step"] = c.step;
    j["language"] = language->name();
    j["lengths"] = o.lengths;
    j["words"] = probes.size();
    j["norm"] = nets::to_string(mc.norm);
    j["norm_position"] = name_of(nets::kNormPositionNames, mc.norm_position);
    Json rows = Json::array();
    for (const auto& h : heads)
      rows.push_back({{"layer", h.layer},
                      {"head", h.head},
                      {"keys", h.keys},
                      {"selectable", h.selectable},
                      {"tied", h.tied},
                      {"unselectable", h.unselectable},
                      {"unselectable_fraction", h.unselectable_fraction()}});
    j["heads"] = rows;
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{} (step {}), norm {} ({}), {} probe words of {}, lengths {}\n", c.source, c.step,
             nets::to_string(mc.norm), name_of(nets::kNormPositionNames, mc.norm_position),
             probes.size(), language->name(), o.lengths);
  fmt::print(
      "keys: every position of each word (BOS, symbols, EOS), classified among that word's "
      "keys; computed in double from the float32 weights, each an exact dyadic rational\n");
  fmt::print("{:>5} {:>4} {:>8} {:>10} {:>8} {:>13} {:>9}\n", "layer", "head", "keys", "selectable",
             "tied", "un-selectable", "fraction");
  for (const auto& h : heads)
    fmt::print("{:>5} {:>4} {:>8} {:>10} {:>8} {:>13} {:>9.4f}\n", h.layer, h.head, h.keys,
               h.selectable, h.tied, h.unselectable, h.unselectable_fraction());
}

}  // namespace

void add_keys_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "keys", "Exact selectability of keys (Brody et al. 2023): a point file, or a model's heads");
  auto o = std::make_shared<KeysOptions>();
  cmd->add_option("CKPT", o->checkpoint, "Checkpoint file, or a run directory (its last)");
  cmd->add_option("--points", o->points,
                  "JSON {\"points\": [[x, ...], ...]}; numbers are read exactly, \"p/q\" allowed");
  cmd->add_option("--lang", o->lang, "CKPT: language of the probe words");
  cmd->add_option("--lengths", o->lengths, "CKPT: probe word lengths A:B");
  cmd->add_option("--per-length", o->per_length,
                  "CKPT: accepted and rejected words per length (all when fewer)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "CKPT: seed of the probe words")->capture_default_str();
  add_threads_option(cmd);
  cmd->add_flag("--json", o->json, "One JSON object");
  cmd->callback([o] {
    if (o->points.empty() == o->checkpoint.empty())
      throw InputError("keys: give either --points FILE or a checkpoint CKPT");
    if (!o->points.empty()) {
      if (!o->lang.empty() || !o->lengths.empty())
        throw InputError("--lang and --lengths go with CKPT, not --points");
      return keys_of_points(*o);
    }
    keys_of_model(*o);
  });
}

}  // namespace saturn::cli
