// The parameter layout of a model configuration, memory estimates before allocation, and the
// parameter norms training logs (split from model.cpp).
#include <fmt/format.h>

#include <omp.h>

#include <cmath>

#include "base/budget.h"
#include "base/error.h"
#include "nets/model.h"

namespace saturn::nets {

namespace {
bool has_affine(const ModelConfig& c) {
  return c.has_norm_layers() && c.norm_affine;
}
}  // namespace

// ------------------------------------------------------------------ layout

ParameterLayout::ParameterLayout(const ModelConfig& c, int k) {
  const int C = c.d_model, F = c.d_ff, V = k + 2, dh = c.d_model / c.n_heads;
  const int outputs = output_count(c.objective, k);
  add("embed.wte", {V, C});
  if (c.positional == Positional::learned) add("embed.wpe", {c.max_length + 2, C});
  if (c.positional == Positional::fraction) add("embed.wfrac", {C});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("layers.{}.", l);
    if (has_affine(c)) add(p + "ln1.g", {C}), add(p + "ln1.b", {C});
    add(p + "attn.wqkv", {3 * C, C});
    if (c.bias) add(p + "attn.bqkv", {3 * C});
    if (c.qk_norm && c.norm_affine) {
      for (const char* t : {"attn.q_ln.g", "attn.q_ln.b", "attn.k_ln.g", "attn.k_ln.b"})
        add(p + t, {dh});
    }
    if (c.attention_gate) {
      add(p + "attn.wgate", {C, C});
      if (c.bias) add(p + "attn.bgate", {C});
    }
    add(p + "attn.wo", {C, C});
    if (c.bias) add(p + "attn.bo", {C});
    if (has_affine(c)) add(p + "ln2.g", {C}), add(p + "ln2.b", {C});
    add(p + "ffn.w1", {F, C});
    if (c.bias) add(p + "ffn.b1", {F});
    add(p + "ffn.w2", {C, F});
    if (c.bias) add(p + "ffn.b2", {C});
  }
  if (c.norm_position == NormPosition::pre && has_affine(c)) add("lnf.g", {C}), add("lnf.b", {C});
  add("head.w", {outputs, C});
  if (c.bias) add("head.b", {outputs});
}

void ParameterLayout::add(const std::string& name, std::vector<int> shape) {
  std::size_t size = 1;
  for (int d : shape) size *= static_cast<std::size_t>(d);
  tensors_.push_back({name, std::move(shape), total_, size});
  total_ += size;
}

const TensorInfo* ParameterLayout::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

double model_memory(const ModelConfig& c, int k, double B, double Tn, bool training,
                    int scalar_bytes, bool introspect) {
  const double C = c.d_model, F = c.d_ff, H = c.n_heads, L = c.n_layers, V = k + 2.0;
  const double N = B * Tn;
  // Parameters: embeddings, per layer 4C^2 + 2CF (+ C^2 gate) and vectors, the head.
  const double positions = c.positional == Positional::learned ? (c.max_length + 2.0) * C : C;
  const double per_layer = 4 * C * C + 2 * C * F + (c.attention_gate ? C * C : 0) + 16 * C + F;
  const double params = V * C + positions + L * per_layer + (k + 2.0) * C;
  const double copies = training ? 4 : 2;  // params, grads (+ Adam's m and v)
  // Activations kept per layer (Transformer::resize): 13 C + 2 F + 4 H + 4 per row, and the
  // (B, H, Tn, Tn) weights when introspecting; then the global buffers and workspaces.
  const double activations = L * N * (13 * C + 2 * F + 4 * H + 4) +
                             (introspect ? L * B * H * Tn * Tn : 0) + N * (8 * C + 3 * F + 8) +
                             N * (k + 1.0) * 2;
  // Attention weights of one (sequence, head), per thread: three Tn x Tn matrices in backward.
  const double scratch = 3 * Tn * Tn * omp_get_max_threads();
  return scalar_bytes * (params * copies + activations + scratch);
}

void require_model_memory(const ModelConfig& config, int k, double B, double Tn, bool training,
                          const std::string& knob, int scalar_bytes, bool introspect) {
  require_memory(model_memory(config, k, B, Tn, training, scalar_bytes, introspect), knob,
                 fmt::format("a model with d_model {}, d_ff {}, {} layers{} on batches of {:.0f} "
                             "words of up to {:.0f} symbols",
                             config.d_model, config.d_ff, config.n_layers,
                             training ? ", trained," : "", B, Tn - 2));
}

namespace {
// "layers.3.attn.wqkv" -> 3, else -1; and the group of a tensor name.
int layer_of(const std::string& name) {
  if (name.rfind("layers.", 0) != 0) return -1;
  return std::stoi(name.substr(7));
}
const char* group_of(const std::string& name) {
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("ln1.") || has("ln2.") || has("lnf.") || has("q_ln.") || has("k_ln.")) return "norm";
  if (name.rfind("embed.", 0) == 0) return "embed";
  if (name.rfind("head.", 0) == 0) return "readout";
  return has(".attn.") ? "attn" : "ffn";
}
double sum_of_squares(const float* x, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}
}  // namespace

double parameter_norm(const ParameterLayout& layout, const float* params) {
  double s = 0;
  for (const auto& t : layout.tensors())
    if (t.size > 1) s += sum_of_squares(params + t.offset, t.size);
  return std::sqrt(s);
}

double weight_norm(const ParameterLayout& layout, const float* params) {
  double s = 0;
  for (const auto& t : layout.tensors())
    if (t.size > 1 && std::string(group_of(t.name)) != "norm")
      s += sum_of_squares(params + t.offset, t.size);
  return std::sqrt(s);
}

std::vector<std::pair<std::string, double>> parameter_group_norms(const ParameterLayout& layout,
                                                                  const float* params) {
  std::vector<std::pair<std::string, double>> out;
  for (const char* g : {"embed", "attn", "ffn", "norm", "readout"}) out.emplace_back(g, 0.0);
  int layers = 0;
  for (const auto& t : layout.tensors()) layers = std::max(layers, layer_of(t.name) + 1);
  for (int l = 0; l < layers; ++l) out.emplace_back(fmt::format("layer.{}", l), 0.0);
  for (const auto& t : layout.tensors()) {
    if (t.size <= 1) continue;
    const double s = sum_of_squares(params + t.offset, t.size);
    for (auto& [name, v] : out)
      if (name == group_of(t.name)) v += s;
    if (const int l = layer_of(t.name); l >= 0) out[5 + l].second += s;
  }
  for (auto& [name, v] : out) v = std::sqrt(v);
  return out;
}

std::vector<std::pair<std::string, double>> tensor_norms(const ParameterLayout& layout,
                                                         const float* data) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& t : layout.tensors())
    out.emplace_back(t.name, std::sqrt(sum_of_squares(data + t.offset, t.size)));
  return out;
}

std::vector<std::pair<std::string, double>> layer_norms(const ParameterLayout& layout,
                                                        const float* data) {
  std::vector<double> sums;
  for (const auto& t : layout.tensors())
    if (const int l = layer_of(t.name); l >= 0) {
      if (sums.size() <= static_cast<std::size_t>(l)) sums.resize(l + 1, 0.0);
      sums[l] += sum_of_squares(data + t.offset, t.size);
    }
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t l = 0; l < sums.size(); ++l)
    out.emplace_back(fmt::format("layer.{}", l), std::sqrt(sums[l]));
  return out;
}

}  // namespace saturn::nets
