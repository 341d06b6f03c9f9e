// Model configuration: every knob the theory papers vary (see README, "Train"). Loaded from
// TOML, overridden by `--set key=value`, written back as the resolved config.toml.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nets/activation.h"
#include "nets/embedding.h"
#include "nets/norm.h"

namespace saturn::nets {

enum class NormPosition { pre, post, none };
enum class Readout { bos, eos, mean };
// `label` (per-position multi-class: every labelled position predicts one of the k symbols as a
// class, softmax cross-entropy) is a model-level objective that saturn theory trains (the brody
// suite's majority-of-20 task); it has no config name, so `saturn train` cannot select it.
enum class Objective { recognize, next_symbol, label };
// Outputs per scored row: one logit per word (recognize); k symbols and "end" per position
// (next-symbol); k classes per position (label).
inline int output_count(Objective objective, int num_symbols) {
  return objective == Objective::recognize     ? 1
         : objective == Objective::next_symbol ? num_symbols + 1
                                               : num_symbols;
}
inline constexpr std::array<const char*, 3> kNormPositionNames = {"pre", "post", "none"};
inline constexpr std::array<const char*, 3> kReadoutNames = {"bos", "eos", "mean"};
inline constexpr std::array<const char*, 2> kObjectiveNames = {"recognize", "next-symbol"};
// `attention`: softmax, one of the pointwise activations (in kActivationNames' order),
// sparsemax (Martins & Astudillo 2016), or "hard" (straight-through average-hard attention).
// sparsemax and hard are set by name, not by index.
inline constexpr std::array<const char*, 10> kAttentionNames = {
    "softmax",  "relu",  "relu2",   "gelu",      "softplus",
    "identity", "relu6", "sigmoid", "sparsemax", "hard"};
// `attention_scale_schedule`: how the inverse temperature goes from attention_scale (step 0) to
// attention_scale_end (the last step): fixed, arithmetic or log-linear interpolation.
enum class ScaleSchedule { constant, linear, geometric };
inline constexpr std::array<const char*, 3> kScaleScheduleNames = {"constant", "linear",
                                                                   "geometric"};
// `attention_set`: a row's attended set for hard attention and the score margin: the argmax
// keys, the keys within attention_tolerance of the row's maximum, or every visible key.
enum class AttentionSet { argmax, tolerance, uniform };
inline constexpr std::array<const char*, 3> kAttentionSetNames = {"argmax", "tolerance", "uniform"};

// Hard limits on the sizes (the memory budget usually binds first): every size product the
// kernels form then fits their index types.
inline constexpr int kMaxWidth = 65536;     // d_model, d_ff, n_heads
inline constexpr int kMaxLayers = 1024;     // n_layers
inline constexpr int kMaxLength = 1000000;  // max_length

// Strict readers for key values, naming the key: a whole number in [min, max] ("1.0", "1e3",
// "true" are not), a finite real in [min, max], true or false.
std::int64_t parse_integer(const std::string& key, const std::string& value, std::int64_t min,
                           std::int64_t max);
double parse_real(const std::string& key, const std::string& value, double min, double max);
bool parse_bool(const std::string& key, const std::string& value);
// The model keys, in to_map()'s order.
const std::vector<std::string>& model_keys();

struct ModelConfig {
  int d_model = 32, n_heads = 2, n_layers = 2, d_ff = 64;
  Activation ffn_activation = Activation::relu;  // relu or gelu
  NormPosition norm_position = NormPosition::pre;
  NormKind norm = NormKind::layernorm;
  bool norm_affine = true;
  double norm_eps = 1e-5;
  bool attention_softmax = true;                      // `attention = "softmax"`
  Activation attention_pointwise = Activation::relu;  // `attention = "relu"` etc.
  bool attention_sparsemax = false;                   // `attention = "sparsemax"`
  double attention_alpha = 1.0;
  // Softmax scores q.k / sqrt(dh) multiplied by this inverse temperature, in training and
  // inference (a knob that pushes training toward saturated attention; saturate/extract.h).
  // With a schedule it is the value at step 0; a checkpoint loaded for inference holds the
  // value of its step here (nets/checkpoint.h).
  double attention_scale = 1.0;
  std::optional<double> attention_scale_end{};  // unset: attention_scale (constant)
  ScaleSchedule attention_scale_schedule = ScaleSchedule::constant;
  // `attention = "hard"`: the forward pass averages over each row's set (attention_set), the
  // backward pass is softmax's at the same scale (straight-through; attention_softmax is true).
  bool attention_hard = false;
  AttentionSet attention_set = AttentionSet::argmax;
  double attention_tolerance = 0.5;  // on scaled scores, for attention_set = "tolerance"
  // Score margin: lambda * max(0, gap - (min_{j in S} s_j - max_{k not in S} s_k)) per row,
  // S the row's set; 0 is off (nets/margin.h).
  double attention_margin = 0, attention_margin_gap = 1.0;
  bool qk_norm = false;
  bool attention_gate = false;
  Positional positional = Positional::learned;
  bool causal = false;
  bool bias = true;
  Readout readout = Readout::bos;
  Objective objective = Objective::recognize;
  double init_std = 0.02;
  std::uint64_t seed = 0;
  int max_length = 512;  // longest word (learned positions are allocated for it plus BOS/EOS)

  // Whether the blocks have norm layers (a position and a kind other than none).
  bool has_norm_layers() const {
    return norm_position != NormPosition::none && norm != NormKind::none;
  }
  // The inverse temperature at training step `step` of `steps` (step 0: attention_scale; step
  // `steps`: attention_scale_end), under attention_scale_schedule.
  double attention_scale_at(long step, long steps) const;
  // The set rule's tolerance on scaled scores: 0 (argmax), attention_tolerance, or +infinity
  // (uniform), as AttentionSpec::tolerance takes it.
  double set_tolerance() const;
  // Sets one key from its text form; throws InputError naming the key and the allowed values.
  void set(const std::string& key, const std::string& value);
  // All keys with their values, in a fixed order, as TOML-ready text values.
  std::map<std::string, std::string> to_map() const;
  // Throws InputError when the combination is invalid (e.g. d_model not divisible by n_heads).
  void validate() const;
};

}  // namespace saturn::nets
