#include "nets/model.h"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "base/budget.h"
#include "base/error.h"
#include "nets/embedding.h"
#include "nets/linear.h"
#include "nets/loss.h"
#include "nets/margin.h"
#include "nets/norm.h"

namespace saturn::nets {

// ------------------------------------------------------------------ model

template <class T>
Transformer<T>::Transformer(const ModelConfig& config, int num_symbols)
    : config_(config), k_(num_symbols), layout_(config, num_symbols) {
  config_.validate();
  spec_ = {.softmax = config.attention_softmax,
           .pointwise = config.attention_pointwise,
           .alpha = config.attention_alpha,
           .causal = config.causal,
           .score_scale = config.attention_scale,
           .sparsemax = config.attention_sparsemax};
  if (config.attention_hard) {  // straight-through average-hard attention (attention.h)
    spec_.hard = HardAttention::average;
    spec_.tolerance.assign(static_cast<std::size_t>(config.n_layers) * config.n_heads,
                           config.set_tolerance());
  }
  params.assign(layout_.total(), T(0));
  grads.assign(layout_.total(), T(0));
  layers_.resize(config.n_layers);
}

template <class T>
std::string Transformer<T>::layer_name(int l, const char* what) {
  return fmt::format("layers.{}.{}", l, what);
}

template <class T>
T* Transformer<T>::param(const std::string& name) {
  const TensorInfo* t = layout_.find(name);
  return t ? params.data() + t->offset : nullptr;
}
template <class T>
T* Transformer<T>::grad(const std::string& name) {
  const TensorInfo* t = layout_.find(name);
  return t ? grads.data() + t->offset : nullptr;
}
template <class T>
const T* Transformer<T>::p(const std::string& name) const {
  const TensorInfo* t = layout_.find(name);
  return t ? params.data() + t->offset : nullptr;
}

template <class T>
void Transformer<T>::init() {
  std::mt19937_64 rng(config_.seed);
  std::normal_distribution<double> normal(0.0, config_.init_std);
  for (const auto& t : layout_.tensors()) {
    T* x = params.data() + t.offset;
    const std::string& n = t.name;
    // Vectors are norm gains (".g"), biases, or the fraction direction (random like a weight).
    const bool gain = n.size() > 2 && n.compare(n.size() - 2, 2, ".g") == 0;
    const bool bias = t.shape.size() == 1 && !gain && n != "embed.wfrac";
    for (std::size_t i = 0; i < t.size; ++i)
      x[i] = gain ? T(1) : bias ? T(0) : static_cast<T>(normal(rng));
  }
}

template <class T>
void Transformer<T>::zero_grad() {
  std::fill(grads.begin(), grads.end(), T(0));
}

template <class T>
bool Transformer<T>::readout_only(int l) const {
  return !introspect_ && l == config_.n_layers - 1 && config_.objective == Objective::recognize &&
         config_.readout != Readout::mean;
}

template <class T>
const Buffer<T>& Transformer<T>::final_states() const {
  if (!introspect_) throw std::logic_error("final_states() needs set_introspection(true)");
  return xf_;
}

template <class T>
const Buffer<T>& Transformer<T>::attention_weights(int l) const {
  if (!introspect_) throw std::logic_error("attention_weights() needs set_introspection(true)");
  return layers_[l].att;
}

template <class T>
const Buffer<T>& Transformer<T>::token_embeddings() const {
  if (!introspect_ || !record_)
    throw std::logic_error("token_embeddings() needs set_introspection and set_recording");
  return token_embed_;
}

template <class T>
const Buffer<T>& Transformer<T>::position_embeddings() const {
  if (!introspect_ || !record_)
    throw std::logic_error("position_embeddings() needs set_introspection and set_recording");
  return position_embed_;
}

template <class T>
const Buffer<T>& Transformer<T>::attention_scores(int l) const {
  if (!introspect_ || !record_)
    throw std::logic_error("attention_scores() needs set_introspection and set_recording");
  return layers_[l].scores;
}

template <class T>
typename Transformer<T>::LayerStates Transformer<T>::layer_states(int l) const {
  if (!introspect_) throw std::logic_error("layer_states() needs set_introspection(true)");
  const Layer& L = layers_[l];
  const Buffer<T>* out = l + 1 < config_.n_layers ? &layers_[l + 1].in : &xL_;
  return {&L.in, &L.mid, &L.fa, out, config_.qk_norm ? &L.qkv : &L.qkv_raw};
}

template <class T>
void Transformer<T>::resize(int B, int Tn) {
  if (B == B_ && Tn == Tn_ && introspect_ == sized_introspect_ && record_ == sized_record_) return;
  B_ = B, Tn_ = Tn, sized_introspect_ = introspect_, sized_record_ = record_;
  const bool record = introspect_ && record_;
  const std::size_t N = static_cast<std::size_t>(B) * Tn, C = config_.d_model, F = config_.d_ff,
                    H = config_.n_heads;
  for (int l = 0; l < config_.n_layers; ++l) {
    Layer& L = layers_[l];
    // Rows after the attention: every position, or one per sequence.
    const std::size_t R = readout_only(l) ? static_cast<std::size_t>(B) : N;
    for (auto* v : {&L.in, &L.a_in}) v->assign(N * C, T(0));
    for (auto* v : {&L.ao, &L.s1, &L.mid, &L.f_in, &L.s2}) v->assign(R * C, T(0));
    for (auto* v : {&L.gate, &L.ag}) v->assign(config_.attention_gate ? R * C : 0, T(0));
    for (auto* v : {&L.r_in, &L.r_a_in}) v->assign(readout_only(l) ? R * C : 0, T(0));
    L.ln1_mean.assign(N, T(0));
    L.ln1_rstd.assign(N, T(0));
    L.ln2_mean.assign(R, T(0));
    L.ln2_rstd.assign(R, T(0));
    L.qkv_raw.assign(N * 3 * C, T(0));
    L.qkv.assign(config_.qk_norm ? N * 3 * C : 0, T(0));
    L.qk_mean.assign(N * 2 * H, T(0));
    L.qk_rstd.assign(N * 2 * H, T(0));
    L.att.assign(introspect_ ? static_cast<std::size_t>(B) * H * Tn * Tn : 0, T(0));
    L.scores.assign(record ? static_cast<std::size_t>(B) * H * Tn * Tn : 0, T(0));
    L.f1.assign(R * F, T(0));
    L.fa.assign(R * F, T(0));
  }
  for (auto* v : {&x0_, &xL_, &xf_}) v->assign(N * C, T(0));
  for (auto* v : {&token_embed_, &position_embed_}) v->assign(record ? N * C : 0, T(0));
  lnf_mean_.assign(N, T(0));
  lnf_rstd_.assign(N, T(0));
  readout_.assign(static_cast<std::size_t>(B) * C, T(0));
  logits_.assign(config_.objective == Objective::recognize
                     ? B
                     : N * static_cast<std::size_t>(output_count(config_.objective, k_)),
                 T(0));
  dlogits_.assign(logits_.size(), T(0));
  scratch_a_.assign(N * std::max(2 * C, F), T(0));
  scratch_b_.assign(N * std::max(C, F), T(0));
  scratch_c_.assign(N * C, T(0));
  scratch_qkv_.assign(N * 3 * C, T(0));
  scratch_qk_.assign(C, T(0));
  scratch_rows_.assign(2 * static_cast<std::size_t>(B) * C, T(0));
  query_pos_.assign(B, 0);
}

template <class T>
void Transformer<T>::layer_forward(int l, const Batch<T>& b, const T* in, T* out) {
  // in (N,C); out (R,C), R = N, or B for a readout-only layer (its rows: query_pos_).
  Layer& L = layers_[l];
  const int N = b.B * b.Tn, C = config_.d_model, F = config_.d_ff, H = config_.n_heads, dh = C / H;
  const bool compact = readout_only(l);
  const int R = compact ? b.B : N;
  const int* query_pos = compact ? query_pos_.data() : nullptr;
  const bool norms = config_.has_norm_layers(),
             pre = norms && config_.norm_position == NormPosition::pre,
             post = norms && config_.norm_position == NormPosition::post;
  const T eps = static_cast<T>(config_.norm_eps);
  const std::size_t RC = static_cast<std::size_t>(R) * C;
  std::copy(in, in + static_cast<std::size_t>(N) * C, L.in.begin());

  const T* a_in = L.in.data();
  if (pre) {
    norm_forward(L.a_in.data(), L.ln1_mean.data(), L.ln1_rstd.data(), L.in.data(), lp(l, "ln1.g"),
                 lp(l, "ln1.b"), config_.norm, eps, N, C);
    a_in = L.a_in.data();
  }
  // The residual stream and the attention input at the R rows.
  const T* r_in = L.in.data();
  const T* r_a_in = a_in;
  if (compact) {
    for (int i = 0; i < b.B; ++i) {
      const std::size_t row = (static_cast<std::size_t>(i) * b.Tn + query_pos[i]) * C;
      std::copy(L.in.begin() + row, L.in.begin() + row + C, L.r_in.begin() + i * C);
      std::copy(a_in + row, a_in + row + C, L.r_a_in.begin() + i * C);
    }
    r_in = L.r_in.data();
    r_a_in = L.r_a_in.data();
  }
  const T* wqkv = lp(l, "attn.wqkv");
  const T* bqkv = lp(l, "attn.bqkv");
  if (compact) {
    // Keys and values at every row, queries at the readout rows only (the other query rows
    // of qkv_raw are neither written nor read).
    T* kv = scratch_qkv_.data();  // (N, 2C); backward scratch, free during forward
    linear_forward(kv, a_in, wqkv + C * C, bqkv ? bqkv + C : nullptr, N, C, 2 * C);
    for (int n = 0; n < N; ++n)
      std::copy(kv + static_cast<std::size_t>(n) * 2 * C,
                kv + static_cast<std::size_t>(n + 1) * 2 * C,
                L.qkv_raw.begin() + static_cast<std::size_t>(n) * 3 * C + C);
    T* q = scratch_rows_.data();  // (B, C)
    linear_forward(q, r_a_in, wqkv, bqkv, b.B, C, C);
    for (int i = 0; i < b.B; ++i)
      std::copy(q + static_cast<std::size_t>(i) * C, q + static_cast<std::size_t>(i + 1) * C,
                L.qkv_raw.begin() + (static_cast<std::size_t>(i) * b.Tn + query_pos[i]) * 3 * C);
  } else {
    linear_forward(L.qkv_raw.data(), a_in, wqkv, bqkv, N, C, 3 * C);
  }
  const T* qkv = L.qkv_raw.data();
  if (config_.qk_norm) {
    // LayerNorm over each head's query and key (Wortsman et al. 2023), rows of dh.
    std::copy(L.qkv_raw.begin(), L.qkv_raw.end(), L.qkv.begin());
    for (int n = 0; n < N; ++n)
      for (int part = 0; part < 2; ++part) {
        if (part == 0 && compact && n % b.Tn != query_pos[n / b.Tn]) continue;  // no query here
        const std::size_t at = static_cast<std::size_t>(n) * 3 * C + part * C;
        const char* g = part == 0 ? "attn.q_ln.g" : "attn.k_ln.g";
        const char* bb = part == 0 ? "attn.q_ln.b" : "attn.k_ln.b";
        norm_forward(L.qkv.data() + at, L.qk_mean.data() + (n * 2 + part) * H,
                     L.qk_rstd.data() + (n * 2 + part) * H, L.qkv_raw.data() + at, lp(l, g),
                     lp(l, bb), NormKind::layernorm, eps, H, dh);
      }
    qkv = L.qkv.data();
  }
  spec_.layer = l;
  if (config_.attention_margin > 0) {
    // Mean hinge over the rows, summed over heads (nets/margin.h), weighted by lambda.
    T* head_sums = scratch_qk_.data();  // (H): free during forward
    const long rows = margin_forward(
        head_sums, qkv, b.lengths.data(), spec_, static_cast<T>(config_.set_tolerance()),
        static_cast<T>(config_.attention_margin_gap), b.B, b.Tn, C, H, query_pos);
    margin_rows_[l] = rows;
    for (int h = 0; h < H; ++h)
      margin_loss_ += static_cast<T>(config_.attention_margin) * head_sums[h] /
                      static_cast<T>(std::max(1L, rows));
  }
  attention_forward(L.ao.data(), introspect_ ? L.att.data() : nullptr, qkv, b.lengths.data(), spec_,
                    b.B, b.Tn, C, H, query_pos, introspect_ && record_ ? L.scores.data() : nullptr);
  const T* ag = L.ao.data();
  if (config_.attention_gate) {
    linear_forward(L.gate.data(), r_a_in, lp(l, "attn.wgate"), lp(l, "attn.bgate"), R, C, C);
    for (std::size_t i = 0; i < RC; ++i) L.ag[i] = L.ao[i] * L.gate[i];
    ag = L.ag.data();
  }
  linear_forward(L.s1.data(), ag, lp(l, "attn.wo"), lp(l, "attn.bo"), R, C, C);
  for (std::size_t i = 0; i < RC; ++i) L.s1[i] += r_in[i];
  const T* mid = L.s1.data();
  if (post) {
    norm_forward(L.mid.data(), L.ln1_mean.data(), L.ln1_rstd.data(), L.s1.data(), lp(l, "ln1.g"),
                 lp(l, "ln1.b"), config_.norm, eps, R, C);
    mid = L.mid.data();
  } else {
    std::copy(L.s1.begin(), L.s1.end(), L.mid.begin());
  }
  const T* f_in = mid;
  if (pre) {
    norm_forward(L.f_in.data(), L.ln2_mean.data(), L.ln2_rstd.data(), mid, lp(l, "ln2.g"),
                 lp(l, "ln2.b"), config_.norm, eps, R, C);
    f_in = L.f_in.data();
  }
  linear_forward(L.f1.data(), f_in, lp(l, "ffn.w1"), lp(l, "ffn.b1"), R, C, F);
  activation_forward(L.fa.data(), L.f1.data(), config_.ffn_activation, static_cast<long>(R) * F);
  linear_forward(L.s2.data(), L.fa.data(), lp(l, "ffn.w2"), lp(l, "ffn.b2"), R, F, C);
  for (std::size_t i = 0; i < RC; ++i) L.s2[i] += L.mid[i];
  if (post)
    norm_forward(out, L.ln2_mean.data(), L.ln2_rstd.data(), L.s2.data(), lp(l, "ln2.g"),
                 lp(l, "ln2.b"), config_.norm, eps, R, C);
  else
    std::copy(L.s2.begin(), L.s2.end(), out);
}

template <class T>
T Transformer<T>::forward(const Batch<T>& b) {
  // max_length is the longest word the model takes (it sizes learned positions): longer
  // words would read past the position table.
  if (b.Tn - 2 > config_.max_length)
    throw InputError(fmt::format("a word of length {} is longer than the model's max_length ({})",
                                 b.Tn - 2, config_.max_length));
  resize(b.B, b.Tn);
  const int N = b.B * b.Tn, C = config_.d_model;
  for (int i = 0; i < b.B; ++i)
    query_pos_[i] = config_.readout == Readout::eos ? b.lengths[i] - 1 : 0;
  margin_loss_ = 0;
  margin_rows_.assign(config_.n_layers, 0);
  embedding_forward(x0_.data(), b.tokens.data(), b.lengths.data(), p("embed.wte"),
                    config_.positional == Positional::fraction ? p("embed.wfrac") : p("embed.wpe"),
                    config_.positional, b.B, b.Tn, C);
  if (introspect_ && record_) {
    embedding_forward(token_embed_.data(), b.tokens.data(), b.lengths.data(), p("embed.wte"),
                      static_cast<const T*>(nullptr), Positional::none, b.B, b.Tn, C);
    position_forward(position_embed_.data(), b.lengths.data(),
                     config_.positional == Positional::fraction ? p("embed.wfrac") : p("embed.wpe"),
                     config_.positional, b.B, b.Tn, C);
  }
  Buffer<T>* x = &x0_;
  for (int l = 0; l < config_.n_layers; ++l) {
    layer_forward(l, b, x->data(), xL_.data());
    x = &xL_;
  }
  // Rows of the last layer's output: every position, or the readout row of each sequence.
  const bool compact = readout_only(config_.n_layers - 1);
  const int R = compact ? b.B : N;
  const T* xf = xL_.data();
  if (config_.norm_position == NormPosition::pre && config_.has_norm_layers()) {
    norm_forward(xf_.data(), lnf_mean_.data(), lnf_rstd_.data(), xL_.data(), p("lnf.g"), p("lnf.b"),
                 config_.norm, static_cast<T>(config_.norm_eps), R, C);
    xf = xf_.data();
  } else {
    std::copy(xL_.begin(), xL_.begin() + static_cast<std::size_t>(R) * C, xf_.begin());
  }
  if (config_.objective == Objective::label) {
    linear_forward(logits_.data(), xf, p("head.w"), p("head.b"), N, C, k_);
    return softmax_ce_forward(logits_.data(), b.targets.data(), b.mask.data(), static_cast<long>(N),
                              k_) +
           margin_loss_;
  }
  if (config_.objective == Objective::next_symbol) {
    linear_forward(logits_.data(), xf, p("head.w"), p("head.b"), N, C, k_ + 1);
    return bce_forward(logits_.data(), b.targets.data(), b.mask.data(),
                       static_cast<long>(logits_.size())) +
           margin_loss_;
  }
  for (int i = 0; i < b.B; ++i) {
    T* r = readout_.data() + static_cast<std::size_t>(i) * C;
    const int len = b.lengths[i];
    auto row = [&](int t) { return xf + (static_cast<std::size_t>(i) * b.Tn + t) * C; };
    if (compact) {
      std::copy(xf + static_cast<std::size_t>(i) * C, xf + static_cast<std::size_t>(i + 1) * C, r);
    } else if (config_.readout == Readout::mean) {
      std::fill(r, r + C, T(0));
      for (int t = 0; t < len; ++t)
        for (int c = 0; c < C; ++c) r[c] += row(t)[c] / T(len);
    } else {
      const T* src = row(query_pos_[i]);
      std::copy(src, src + C, r);
    }
  }
  linear_forward(logits_.data(), readout_.data(), p("head.w"), p("head.b"), b.B, C, 1);
  return bce_forward(logits_.data(), b.targets.data(), static_cast<const T*>(nullptr),
                     static_cast<long>(b.B)) +
         margin_loss_;
}

template <class T>
void Transformer<T>::layer_backward(int l, const Batch<T>& b, T* dout, T* din) {
  // dout (R,C): gradient w.r.t. the layer output (clobbered); din (N,C) += gradient w.r.t. its
  // input. R = N, or B for a readout-only layer.
  Layer& L = layers_[l];
  const int N = b.B * b.Tn, C = config_.d_model, F = config_.d_ff, H = config_.n_heads, dh = C / H;
  const bool compact = readout_only(l);
  const int R = compact ? b.B : N;
  const int* query_pos = compact ? query_pos_.data() : nullptr;
  const std::size_t NC = static_cast<std::size_t>(N) * C, RC = static_cast<std::size_t>(R) * C;
  const bool norms = config_.has_norm_layers(),
             pre = norms && config_.norm_position == NormPosition::pre,
             post = norms && config_.norm_position == NormPosition::post;
  // Adds rows (R,C) into a full (N,C) buffer: all rows, or the readout rows.
  auto scatter_add = [&](T* full, const T* rows) {
    if (!compact) {
      for (std::size_t i = 0; i < NC; ++i) full[i] += rows[i];
      return;
    }
    for (int i = 0; i < b.B; ++i) {
      T* dst = full + (static_cast<std::size_t>(i) * b.Tn + query_pos[i]) * C;
      for (int c = 0; c < C; ++c) dst[c] += rows[static_cast<std::size_t>(i) * C + c];
    }
  };
  T* ds2 = scratch_c_.data();  // dL/ds2
  if (post) {
    std::fill(ds2, ds2 + RC, T(0));
    norm_backward(ds2, lg(l, "ln2.g"), lg(l, "ln2.b"), dout, L.s2.data(), L.ln2_mean.data(),
                  L.ln2_rstd.data(), lp(l, "ln2.g"), config_.norm, R, C);
  } else {
    std::copy(dout, dout + RC, ds2);
  }
  // s2 = mid + W2 act(W1 f_in + b1) + b2
  T* dmid = dout;  // reuse: dout is no longer needed
  std::copy(ds2, ds2 + RC, dmid);
  T* dfa = scratch_a_.data();
  std::fill(dfa, dfa + static_cast<std::size_t>(R) * F, T(0));
  linear_backward(dfa, lg(l, "ffn.w2"), lg(l, "ffn.b2"), ds2, L.fa.data(), lp(l, "ffn.w2"), R, F,
                  C);
  T* df1 = scratch_b_.data();
  activation_backward(df1, dfa, L.f1.data(), config_.ffn_activation, static_cast<long>(R) * F);
  const T* f_in = pre ? L.f_in.data() : L.mid.data();
  T* dfin = scratch_a_.data();
  std::fill(dfin, dfin + RC, T(0));
  linear_backward(dfin, lg(l, "ffn.w1"), lg(l, "ffn.b1"), df1, f_in, lp(l, "ffn.w1"), R, C, F);
  if (pre)
    norm_backward(dmid, lg(l, "ln2.g"), lg(l, "ln2.b"), dfin, L.mid.data(), L.ln2_mean.data(),
                  L.ln2_rstd.data(), lp(l, "ln2.g"), config_.norm, R, C);
  else
    for (std::size_t i = 0; i < RC; ++i) dmid[i] += dfin[i];
  // mid = N1(s1) (post) or s1
  T* ds1 = scratch_c_.data();
  if (post) {
    std::fill(ds1, ds1 + RC, T(0));
    norm_backward(ds1, lg(l, "ln1.g"), lg(l, "ln1.b"), dmid, L.s1.data(), L.ln1_mean.data(),
                  L.ln1_rstd.data(), lp(l, "ln1.g"), config_.norm, R, C);
  } else {
    std::copy(dmid, dmid + RC, ds1);
  }
  // s1 = in + Wo ag + bo
  scatter_add(din, ds1);
  const T* a_in = pre ? L.a_in.data() : L.in.data();
  const T* ag = config_.attention_gate ? L.ag.data() : L.ao.data();
  T* dag = scratch_a_.data();
  std::fill(dag, dag + RC, T(0));
  linear_backward(dag, lg(l, "attn.wo"), lg(l, "attn.bo"), ds1, ag, lp(l, "attn.wo"), R, C, C);
  T* dao = dag;
  T* dgate = dmid;  // free again
  if (config_.attention_gate)
    for (std::size_t i = 0; i < RC; ++i) {
      dgate[i] = dag[i] * L.ao[i];
      dag[i] = dag[i] * L.gate[i];
    }
  T* dqkv = scratch_qkv_.data();
  std::fill(dqkv, dqkv + NC * 3, T(0));
  const T* qkv = config_.qk_norm ? L.qkv.data() : L.qkv_raw.data();
  attention_backward(dqkv, dao, qkv, introspect_ ? L.att.data() : nullptr, b.lengths.data(), spec_,
                     b.B, b.Tn, C, H, query_pos);
  if (config_.attention_margin > 0)
    margin_backward(
        dqkv, qkv, b.lengths.data(), spec_, static_cast<T>(config_.set_tolerance()),
        static_cast<T>(config_.attention_margin_gap),
        static_cast<T>(config_.attention_margin) / static_cast<T>(std::max(1L, margin_rows_[l])),
        b.B, b.Tn, C, H, query_pos);
  if (config_.qk_norm) {
    // Back through the per-head norms of q and k; v passes unchanged.
    Buffer<T>& tmp = scratch_qk_;
    for (int n = 0; n < N; ++n)
      for (int part = 0; part < 2; ++part) {
        if (part == 0 && compact && n % b.Tn != query_pos[n / b.Tn]) continue;  // as in forward
        const std::size_t at = static_cast<std::size_t>(n) * 3 * C + part * C;
        std::fill(tmp.begin(), tmp.end(), T(0));
        const char* g = part == 0 ? "attn.q_ln.g" : "attn.k_ln.g";
        const char* bb = part == 0 ? "attn.q_ln.b" : "attn.k_ln.b";
        norm_backward(tmp.data(), lg(l, g), lg(l, bb), dqkv + at, L.qkv_raw.data() + at,
                      L.qk_mean.data() + (n * 2 + part) * H, L.qk_rstd.data() + (n * 2 + part) * H,
                      lp(l, g), NormKind::layernorm, H, dh);
        std::copy(tmp.begin(), tmp.end(), dqkv + at);
      }
  }
  T* da_in = scratch_b_.data();  // dL/da_in (N,C): from qkv, then the gate adds its part
  std::fill(da_in, da_in + NC, T(0));
  const T* wqkv = lp(l, "attn.wqkv");
  T* dwqkv = lg(l, "attn.wqkv");
  T* dbqkv = lg(l, "attn.bqkv");
  if (compact) {
    // As in forward: keys and values over every row, queries over the readout rows.
    T* dkv = scratch_a_.data();  // (N, 2C)
    for (int n = 0; n < N; ++n)
      std::copy(dqkv + static_cast<std::size_t>(n) * 3 * C + C,
                dqkv + static_cast<std::size_t>(n + 1) * 3 * C,
                dkv + static_cast<std::size_t>(n) * 2 * C);
    linear_backward(da_in, dwqkv + C * C, dbqkv ? dbqkv + C : nullptr, dkv, a_in, wqkv + C * C, N,
                    C, 2 * C);
    T* dq = scratch_rows_.data();                       // (B, C)
    T* dq_in = dq + static_cast<std::size_t>(b.B) * C;  // (B, C)
    for (int i = 0; i < b.B; ++i) {
      const T* row = dqkv + (static_cast<std::size_t>(i) * b.Tn + query_pos[i]) * 3 * C;
      std::copy(row, row + C, dq + static_cast<std::size_t>(i) * C);
    }
    std::fill(dq_in, dq_in + RC, T(0));
    linear_backward(dq_in, dwqkv, dbqkv, dq, L.r_a_in.data(), wqkv, b.B, C, C);
    scatter_add(da_in, dq_in);
  } else {
    linear_backward(da_in, dwqkv, dbqkv, dqkv, a_in, wqkv, N, C, 3 * C);
  }
  if (config_.attention_gate) {
    T* dgate_in = compact ? scratch_rows_.data() : da_in;
    if (compact) std::fill(dgate_in, dgate_in + RC, T(0));
    linear_backward(dgate_in, lg(l, "attn.wgate"), lg(l, "attn.bgate"), dgate,
                    compact ? L.r_a_in.data() : a_in, lp(l, "attn.wgate"), R, C, C);
    if (compact) scatter_add(da_in, dgate_in);
  }
  if (pre)
    norm_backward(din, lg(l, "ln1.g"), lg(l, "ln1.b"), da_in, L.in.data(), L.ln1_mean.data(),
                  L.ln1_rstd.data(), lp(l, "ln1.g"), config_.norm, N, C);
  else
    for (std::size_t i = 0; i < NC; ++i) din[i] += da_in[i];
}

template <class T>
void Transformer<T>::backward(const Batch<T>& b) {
  const int N = b.B * b.Tn, C = config_.d_model;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const bool compact = readout_only(config_.n_layers - 1);
  const int R = compact ? b.B : N;
  std::fill(dlogits_.begin(), dlogits_.end(), T(0));
  // Members reused across steps: dL/d(final representation) (R,C), the running layer gradient,
  // and the readout gradient.
  Buffer<T>& dx = grad_x_;
  Buffer<T>& dcur = grad_cur_;
  dx.assign(NC, T(0));
  dcur.assign(NC, T(0));
  if (config_.objective == Objective::label) {
    softmax_ce_backward(dlogits_.data(), logits_.data(), b.targets.data(), b.mask.data(),
                        static_cast<long>(N), k_);
    linear_backward(dx.data(), grad("head.w"), grad("head.b"), dlogits_.data(), xf_.data(),
                    p("head.w"), N, C, k_);
  } else if (config_.objective == Objective::next_symbol) {
    bce_backward(dlogits_.data(), logits_.data(), b.targets.data(), b.mask.data(),
                 static_cast<long>(logits_.size()));
    linear_backward(dx.data(), grad("head.w"), grad("head.b"), dlogits_.data(), xf_.data(),
                    p("head.w"), N, C, k_ + 1);
  } else {
    bce_backward(dlogits_.data(), logits_.data(), b.targets.data(), static_cast<const T*>(nullptr),
                 static_cast<long>(b.B));
    Buffer<T>& dr = grad_readout_;
    dr.assign(static_cast<std::size_t>(b.B) * C, T(0));
    linear_backward(dr.data(), grad("head.w"), grad("head.b"), dlogits_.data(), readout_.data(),
                    p("head.w"), b.B, C, 1);
    for (int i = 0; i < b.B; ++i) {
      const int len = b.lengths[i];
      auto row = [&](int t) { return dx.data() + (static_cast<std::size_t>(i) * b.Tn + t) * C; };
      const T* g = dr.data() + static_cast<std::size_t>(i) * C;
      if (compact) {
        std::copy(g, g + C, dx.data() + static_cast<std::size_t>(i) * C);
      } else if (config_.readout == Readout::mean) {
        for (int t = 0; t < len; ++t)
          for (int c = 0; c < C; ++c) row(t)[c] += g[c] / T(len);
      } else {
        T* dst = row(query_pos_[i]);
        for (int c = 0; c < C; ++c) dst[c] += g[c];
      }
    }
  }
  if (config_.norm_position == NormPosition::pre && config_.has_norm_layers())
    norm_backward(dcur.data(), grad("lnf.g"), grad("lnf.b"), dx.data(), xL_.data(),
                  lnf_mean_.data(), lnf_rstd_.data(), p("lnf.g"), config_.norm, R, C);
  else
    dcur = dx;
  for (int l = config_.n_layers - 1; l >= 0; --l) {
    std::fill(dx.begin(), dx.end(), T(0));
    layer_backward(l, b, dcur.data(), dx.data());
    std::swap(dx, dcur);
  }
  embedding_backward(
      grad("embed.wte"),
      config_.positional == Positional::fraction ? grad("embed.wfrac") : grad("embed.wpe"),
      dcur.data(), b.tokens.data(), b.lengths.data(), config_.positional, b.B, b.Tn, C);
}

template class Transformer<float>;
template class Transformer<double>;

}  // namespace saturn::nets
