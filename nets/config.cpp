#include "nets/config.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "base/error.h"
#include "base/names.h"

namespace saturn::nets {

namespace {

int positive(const std::string& key, const std::string& value, int max) {
  return static_cast<int>(parse_integer(key, value, 1, max));
}

}  // namespace

std::int64_t parse_integer(const std::string& key, const std::string& value, std::int64_t min,
                           std::int64_t max) {
  std::int64_t out = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && ptr == end && (out < min || out > max)))
    throw InputError(
        fmt::format("{}: must be a whole number in {}..{} (got {})", key, min, max, value));
  if (ec != std::errc() || ptr != end)
    throw InputError(fmt::format("{}: expected a whole number, got '{}'", key, value));
  return out;
}

double parse_real(const std::string& key, const std::string& value, double min, double max) {
  double out = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (ec != std::errc() || ptr != end || !std::isfinite(out))
    throw InputError(fmt::format("{}: expected a finite number, got '{}'", key, value));
  if (out < min || out > max)
    throw InputError(fmt::format("{}: must be in [{}, {}] (got {})", key, min, max, value));
  // -0 is 0: no key gives the sign of zero a meaning, and the configuration must read back
  // as written (the config fuzzer found `lr = -0.0` written as "-0" and read as 0).
  return out == 0 ? 0.0 : out;
}

bool parse_bool(const std::string& key, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  throw InputError(fmt::format("{}: expected true or false, got '{}'", key, value));
}

const std::vector<std::string>& model_keys() {
  static const std::vector<std::string> keys = {"d_model",
                                                "n_heads",
                                                "n_layers",
                                                "d_ff",
                                                "ffn_activation",
                                                "norm_position",
                                                "norm",
                                                "norm_affine",
                                                "norm_eps",
                                                "attention",
                                                "attention_alpha",
                                                "qk_norm",
                                                "attention_gate",
                                                "positional",
                                                "causal",
                                                "bias",
                                                "readout",
                                                "objective",
                                                "init_std",
                                                "seed",
                                                "max_length",
                                                "attention_scale",
                                                "attention_scale_end",
                                                "attention_scale_schedule",
                                                "attention_set",
                                                "attention_tolerance",
                                                "attention_margin",
                                                "attention_margin_gap"};
  return keys;
}

void ModelConfig::set(const std::string& key, const std::string& value) {
  if (key == "d_model")
    d_model = positive(key, value, kMaxWidth);
  else if (key == "n_heads")
    n_heads = positive(key, value, kMaxWidth);
  else if (key == "n_layers")
    n_layers = positive(key, value, kMaxLayers);
  else if (key == "d_ff")
    d_ff = positive(key, value, kMaxWidth);
  else if (key == "ffn_activation")
    ffn_activation = parse_name<int>(std::array{"relu", "gelu"}, key, value) == 0
                         ? Activation::relu
                         : Activation::gelu;
  else if (key == "norm_position")
    norm_position = parse_name<NormPosition>(kNormPositionNames, key, value);
  else if (key == "norm")
    norm = parse_name<NormKind>(kNormNames, key, value);
  else if (key == "norm_affine")
    norm_affine = parse_bool(key, value);
  else if (key == "norm_eps")
    norm_eps = parse_real(key, value, 0, 1);
  else if (key == "attention") {
    const int index = parse_name<int>(kAttentionNames, key, value);
    attention_hard = value == "hard";
    attention_sparsemax = value == "sparsemax";
    attention_softmax = index == 0 || attention_hard;
    if (!attention_softmax && !attention_sparsemax)
      attention_pointwise = static_cast<Activation>(index - 1);
  } else if (key == "attention_alpha")
    attention_alpha = parse_real(key, value, -16, 16);
  else if (key == "attention_scale")
    attention_scale = parse_real(key, value, 1e-6, 1e6);
  else if (key == "attention_scale_end")
    attention_scale_end = parse_real(key, value, 1e-6, 1e6);
  else if (key == "attention_scale_schedule")
    attention_scale_schedule = parse_name<ScaleSchedule>(kScaleScheduleNames, key, value);
  else if (key == "attention_set")
    attention_set = parse_name<AttentionSet>(kAttentionSetNames, key, value);
  else if (key == "attention_tolerance")
    attention_tolerance = parse_real(key, value, 0, 1e6);
  else if (key == "attention_margin")
    attention_margin = parse_real(key, value, 0, 1e6);
  else if (key == "attention_margin_gap")
    attention_margin_gap = parse_real(key, value, 0, 1e6);
  else if (key == "qk_norm")
    qk_norm = parse_bool(key, value);
  else if (key == "attention_gate")
    attention_gate = parse_bool(key, value);
  else if (key == "positional")
    positional = parse_name<Positional>(kPositionalNames, key, value);
  else if (key == "causal")
    causal = parse_bool(key, value);
  else if (key == "bias")
    bias = parse_bool(key, value);
  else if (key == "readout")
    readout = parse_name<Readout>(kReadoutNames, key, value);
  else if (key == "objective")
    objective = parse_name<Objective>(kObjectiveNames, key, value);
  else if (key == "init_std") {
    init_std = parse_real(key, value, 0, 1e3);
    if (init_std <= 0) throw InputError(fmt::format("init_std: must be > 0 (got {})", value));
  } else if (key == "seed") {
    std::uint64_t parsed = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
    if (ec != std::errc() || ptr != end)
      throw InputError(
          fmt::format("seed: expected a whole number in 0..{} (got '{}')", UINT64_MAX, value));
    seed = parsed;
  } else if (key == "max_length")
    max_length = positive(key, value, kMaxLength);
  else
    throw InputError(fmt::format("unknown key '{}'", key));
}

std::map<std::string, std::string> ModelConfig::to_map() const {
  auto q = [](const char* s) { return fmt::format("\"{}\"", s); };
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  // "hard" and "sparsemax" by name: kAttentionNames may grow before them.
  const char* attention =
      attention_hard ? "hard"
      : attention_sparsemax
          ? "sparsemax"
          : kAttentionNames[attention_softmax ? 0 : 1 + static_cast<int>(attention_pointwise)];
  return {{"d_model", std::to_string(d_model)},
          {"n_heads", std::to_string(n_heads)},
          {"n_layers", std::to_string(n_layers)},
          {"d_ff", std::to_string(d_ff)},
          {"ffn_activation", q(to_string(ffn_activation))},
          {"norm_position", q(name_of(kNormPositionNames, norm_position))},
          {"norm", q(to_string(norm))},
          {"norm_affine", b(norm_affine)},
          {"norm_eps", fmt::format("{}", norm_eps)},
          {"attention", q(attention)},
          {"attention_alpha", fmt::format("{}", attention_alpha)},
          {"attention_scale", fmt::format("{}", attention_scale)},
          {"attention_scale_end", fmt::format("{}", attention_scale_end.value_or(attention_scale))},
          {"attention_scale_schedule", q(name_of(kScaleScheduleNames, attention_scale_schedule))},
          {"attention_set", q(name_of(kAttentionSetNames, attention_set))},
          {"attention_tolerance", fmt::format("{}", attention_tolerance)},
          {"attention_margin", fmt::format("{}", attention_margin)},
          {"attention_margin_gap", fmt::format("{}", attention_margin_gap)},
          {"qk_norm", b(qk_norm)},
          {"attention_gate", b(attention_gate)},
          {"positional", q(to_string(positional))},
          {"causal", b(causal)},
          {"bias", b(bias)},
          {"readout", q(name_of(kReadoutNames, readout))},
          // label has no config name (config.h): written for the record, never read back.
          {"objective",
           q(objective == Objective::label ? "label" : name_of(kObjectiveNames, objective))},
          {"init_std", fmt::format("{}", init_std)},
          {"seed", std::to_string(seed)},
          {"max_length", std::to_string(max_length)}};
}

void ModelConfig::validate() const {
  if (d_model % n_heads)
    throw InputError(
        fmt::format("d_model ({}) must be divisible by n_heads ({})", d_model, n_heads));
  if (ffn_activation != Activation::relu && ffn_activation != Activation::gelu)
    throw InputError("ffn_activation: expected relu or gelu");
  if (!(norm_eps >= 0 && norm_eps <= 1)) throw InputError("norm_eps: must be in [0, 1]");
  if (!(init_std > 0 && init_std <= 1e3)) throw InputError("init_std: must be in (0, 1000]");
  // No silent misconfiguration: a regime key that would have no effect is refused.
  const double end = attention_scale_end.value_or(attention_scale);
  if (attention_scale_schedule == ScaleSchedule::constant && end != attention_scale)
    throw InputError(fmt::format(
        "attention_scale_end ({}) differs from attention_scale ({}) under attention_scale_schedule "
        "= \"constant\"; choose \"linear\" or \"geometric\"",
        end, attention_scale));
  if (!(end >= 1e-6 && end <= 1e6)) throw InputError("attention_scale_end: must be in [1e-6, 1e6]");
  if (attention_margin > 0 && !attention_softmax)
    throw InputError(
        "attention_margin: needs attention = \"softmax\" or \"hard\" (pointwise attention has "
        "no attended set)");
  if (attention_margin > 0 && attention_set == AttentionSet::uniform)
    throw InputError(
        "attention_margin: vacuous with attention_set = \"uniform\" (every visible key is "
        "attended)");
  if (attention_margin == 0 && attention_margin_gap != 1.0)
    throw InputError("attention_margin_gap: used only with attention_margin > 0");
  if (attention_set != AttentionSet::argmax && !attention_hard && attention_margin == 0)
    throw InputError("attention_set: used only with attention = \"hard\" or attention_margin > 0");
  if (attention_tolerance != 0.5 && attention_set != AttentionSet::tolerance)
    throw InputError("attention_tolerance: used only with attention_set = \"tolerance\"");
}

double ModelConfig::attention_scale_at(long step, long steps) const {
  const double start = attention_scale, end = attention_scale_end.value_or(attention_scale);
  if (attention_scale_schedule == ScaleSchedule::constant || steps <= 0 || step <= 0) return start;
  if (step >= steps) return end;
  const double t = static_cast<double>(step) / static_cast<double>(steps);
  if (attention_scale_schedule == ScaleSchedule::linear) return start + (end - start) * t;
  return start * std::exp(t * std::log(end / start));  // geometric: log-linear
}

double ModelConfig::set_tolerance() const {
  switch (attention_set) {
    case AttentionSet::argmax:
      return 0.0;
    case AttentionSet::tolerance:
      return attention_tolerance;
    default:
      return INFINITY;
  }
}

}  // namespace saturn::nets
