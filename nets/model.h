// The transformer encoder over [BOS] w1 ... wn [EOS], templated on the scalar type (float
// for training, double for gradient checks). All parameters live in one contiguous arena with
// named views (so the norm, scaling by c, checkpoints and optimisers are one loop each); the
// gradients likewise. Layer l, with N = norm, A = attention, F = FFN:
//   pre:  x' = x + A(N1(x));   x'' = x' + F(N2(x'))          ... and a final norm before the
//   readout post: x' = N1(x + A(x));   x'' = N2(x' + F(x'))           (Xiong et al. 2020) none: x'
//   = x + A(x);       x'' = x' + F(x')
#pragma once

#include <string>
#include <vector>

#include "nets/attention.h"
#include "nets/buffer.h"
#include "nets/config.h"

namespace saturn::nets {

struct TensorInfo {
  std::string name;
  std::vector<int> shape;
  std::size_t offset = 0, size = 0;
};

// Tensor names and shapes for a configuration, e.g. "layers.0.attn.wqkv" [3C, C].
class ParameterLayout {
 public:
  ParameterLayout(const ModelConfig& config, int num_symbols);
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;  // null if absent
  std::size_t total() const { return total_; }

 private:
  void add(const std::string& name, std::vector<int> shape);
  std::vector<TensorInfo> tensors_;
  std::size_t total_ = 0;
};

// Bytes a model of this configuration takes, estimated in doubles (so huge sizes cannot wrap)
// from the same sizes Transformer allocates: parameters and gradients (and, when training,
// Adam's two moments), the activations of a batch of B sequences of Tn tokens each, and the
// per-thread attention scratch. `scalar_bytes`: 4 (float) or 8 (double).
double model_memory(const ModelConfig& config, int num_symbols, double B, double Tn, bool training,
                    int scalar_bytes = 4, bool introspect = false);
// Throws LimitError naming `knob` when model_memory exceeds the memory budget.
void require_model_memory(const ModelConfig& config, int num_symbols, double B, double Tn,
                          bool training, const std::string& knob, int scalar_bytes = 4,
                          bool introspect = false);

// Merrill et al. (2021)'s norm rho: the L2 norm of all non-scalar parameters concatenated.
double parameter_norm(const ParameterLayout& layout, const float* params);
// The same norm without the LayerNorm gains and biases (group "norm"): at init the gains (all 1)
// are most of rho(0)^2, so this is the norm of the weights that can grow from N(0, init_std).
double weight_norm(const ParameterLayout& layout, const float* params);
// The same norm per group ("embed", "attn", "ffn", "norm", "readout") and per layer
// ("layer.0", ...), in that order. Groups and layers each partition the non-scalar parameters.
std::vector<std::pair<std::string, double>> parameter_group_norms(const ParameterLayout& layout,
                                                                  const float* params);

// The L2 norm of every tensor (all of them, vectors included), in layout order; and of every
// layer's tensors together ("layer.0", ...). Used for gradients (log_grad_norms, inspect).
std::vector<std::pair<std::string, double>> tensor_norms(const ParameterLayout& layout,
                                                         const float* data);
std::vector<std::pair<std::string, double>> layer_norms(const ParameterLayout& layout,
                                                        const float* data);

// A batch of words as token ids: symbols 0..k-1, BOS = k, EOS = k+1, padding after EOS.
template <class T>
struct Batch {
  int B = 0, Tn = 0;         // Tn = longest word + 2
  std::vector<int> tokens;   // (B, Tn)
  std::vector<int> lengths;  // (B): word length + 2
  // recognize: targets (B) in {0,1}. next-symbol: targets and mask (B, Tn, k+1): position t
  // (BOS = 0) holds the prefix w[:t]; outputs are the k symbols and "end" (prefix accepted).
  // label: targets (B, Tn) class indices 0..k-1 (as T), mask (B, Tn) 1 where labelled.
  Buffer<T> targets, mask;
};

template <class T>
class Transformer {
 public:
  Transformer(const ModelConfig& config, int num_symbols);

  const ModelConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  int num_symbols() const { return k_; }
  int num_outputs() const { return output_count(config_.objective, k_); }

  // Normal(0, init_std) weights and embeddings, zero biases, unit gains; from config.seed.
  void init();
  T* param(const std::string& name);  // null if the configuration has no such tensor
  T* grad(const std::string& name);

  // Mean loss over the batch, plus the score margin penalty when attention_margin > 0 (alone:
  // margin_loss()); logits() holds (B), (B, Tn, k+1) (next-symbol) or (B, Tn, k) (label)
  // outputs afterwards.
  T forward(const Batch<T>& batch);
  T margin_loss() const { return margin_loss_; }
  // Accumulates dloss/dparams into grads (call zero_grad first). Needs the last forward.
  void backward(const Batch<T>& batch);
  void zero_grad();
  const Buffer<T>& logits() const { return logits_; }

  // Attention knobs: scaled scores (training sets a schedule's scale per step) or the hard
  // limit (attention.h; saturate/). With spec.hard set, backward is straight-through.
  void set_attention(const AttentionSpec& spec) { spec_ = spec; }
  const AttentionSpec& attention() const { return spec_; }
  // Introspection (saturate/). On, forward keeps every layer's attention weights and every
  // position's final state. Off (the default), backward recomputes the weights instead of
  // keeping (B, H, Tn, Tn) per layer, and with a BOS/EOS readout of `recognize` the last layer
  // computes its queries, attention output and FFN only at the readout position (keys and
  // values everywhere): the same logits and gradients, without the work nothing reads.
  void set_introspection(bool on) { introspect_ = on; }
  // After forward with introspection: what the readout reads (B, Tn, C) (after the final norm
  // under pre-LN), and layer l's attention weights (B, H, Tn, Tn).
  const Buffer<T>& final_states() const;
  const Buffer<T>& attention_weights(int l) const;
  // After forward with introspection, layer l's activations at every position: its input (the
  // residual stream, (B, Tn, C)), the stream after the attention sublayer (after N1 under
  // post-LN), the FFN's hidden activations f(x W1^T + b1) ((B, Tn, d_ff): Geva et al.'s memory
  // coefficients), and its output (after N2 under post-LN); and the queries, keys and values
  // the attention scores ((B, Tn, 3C) laid out [q | k | v], after qk-norm when it is on).
  struct LayerStates {
    const Buffer<T>*in, *after_attention, *ffn_hidden, *out, *qkv;
  };
  LayerStates layer_states(int l) const;
  // Recording for an activation cache (python/, `inspect --json`), with introspection on: the
  // embedding's token term wte[tok_t] and positional term ((B, Tn, C) each; their sum is layer
  // 0's input bit for bit) and layer l's attention scores before the softmax ((B, H, Tn, Tn):
  // attention_forward's `scores`, -inf where a key is not visible). Off (the default), forward
  // computes none of them.
  void set_recording(bool on) { record_ = on; }
  const Buffer<T>& token_embeddings() const;
  const Buffer<T>& position_embeddings() const;
  const Buffer<T>& attention_scores(int l) const;

  Buffer<T> params, grads;

 private:
  struct Layer {  // activations kept for backward, (B, Tn, ...) each
    Buffer<T> in, a_in, ln1_mean, ln1_rstd, qkv_raw, qkv, qk_mean, qk_rstd, att, ao, gate, ag, s1,
        mid, f_in, ln2_mean, ln2_rstd, f1, fa, s2;
    Buffer<T> scores;        // (B, H, Tn, Tn) when recording
    Buffer<T> r_in, r_a_in;  // in and a_in at the readout rows (readout-only layer)
  };
  void resize(int B, int Tn);
  // Whether layer l computes only the readout position of each sequence.
  bool readout_only(int l) const;
  const T* p(const std::string& name) const;
  // Offsets of the layer's tensors, or null.
  T* lp(int l, const char* what) { return param(layer_name(l, what)); }
  T* lg(int l, const char* what) { return grad(layer_name(l, what)); }
  static std::string layer_name(int l, const char* what);

  void layer_forward(int l, const Batch<T>& b, const T* in, T* out);
  void layer_backward(int l, const Batch<T>& b, T* dout, T* din);

  ModelConfig config_;
  int k_;
  ParameterLayout layout_;
  AttentionSpec spec_;
  bool introspect_ = false, sized_introspect_ = false;
  bool record_ = false, sized_record_ = false;
  Buffer<T> token_embed_, position_embed_;  // (B, Tn, C) when recording
  int B_ = 0, Tn_ = 0;
  std::vector<int> query_pos_;     // (B): the readout position of each sequence
  T margin_loss_ = 0;              // the last forward's margin penalty
  std::vector<long> margin_rows_;  // (n_layers): rows the last forward's margin averaged over
  Buffer<T> x0_, xL_, xf_, lnf_mean_, lnf_rstd_, readout_, logits_, dlogits_;
  std::vector<Layer> layers_;
  Buffer<T> scratch_a_, scratch_b_, scratch_c_, scratch_qkv_,
      scratch_qk_;  // backward workspaces
  Buffer<T> grad_x_, grad_cur_, grad_readout_, scratch_rows_;
};

}  // namespace saturn::nets
