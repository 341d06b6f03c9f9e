#include "saturate/exact_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <type_traits>
#include <unordered_map>

#include "lang/error.h"
#include "saturate/interval_arith.h"

namespace saturn::saturate {

namespace {

using boost::multiprecision::mpz_int;
using detail::DoubleArith;
using detail::RationalArith;
using detail::SmallRational;
using detail::SmallRationalArith;
using detail::Undecided;

// Row ids: rows with equal ids are provably equal. Exact rows are identified by value, others
// by the operation and the ids of its inputs (every operation is a function of its inputs).
template <class A>
class RowIds {
 public:
  int of(const std::vector<typename A::Iv>& row, std::vector<long> structure) {
    if (std::all_of(row.begin(), row.end(), [](const auto& x) { return x.exact(); })) {
      std::vector<typename A::Num> key;
      key.reserve(row.size());
      for (const auto& x : row) key.push_back(x.lo);
      auto [it, fresh] = exact_.try_emplace(std::move(key), next_);
      if (fresh) ++next_;
      return it->second;
    }
    auto [it, fresh] = structural_.try_emplace(std::move(structure), next_);
    if (fresh) ++next_;
    return it->second;
  }
  std::size_t size() const { return static_cast<std::size_t>(next_); }

 private:
  typename A::ExactRows exact_;
  std::map<std::vector<long>, int> structural_;
  int next_ = 0;
};

enum Op : long { kEmbed, kNorm1, kHeads, kGate, kOut, kNorm2, kFfn, kNormF };

template <class Iv>
struct RowT {
  std::vector<Iv> v;
  int id = -1;
};

// The rows of the last word evaluated, per layer. In a causal circuit the rows of positions
// 0..t depend only on the word's first t symbols, so the next word (in enumeration order)
// recomputes only the positions after the common prefix. Row ids are functions of values and
// structure, not of the word, so the interner is shared too.
template <class A>
struct PrefixCache {
  using Iv = typename A::Iv;
  int len = -1;  // -1: nothing valid
  Word word;
  std::vector<std::vector<RowT<Iv>>> x, a_in;     // [layer][position]: input rows, attention inputs
  std::vector<std::vector<std::vector<Iv>>> qkv;  // [layer][position]
  RowIds<A> ids;
};

// One word through the circuit in arithmetic A, reusing the cache's rows where the circuit is
// causal and the word shares a prefix with the cached one. Throws Undecided.
template <class A>
BasicInterval<typename A::Num> evaluate(
    const Circuit& circuit,
    const std::map<std::string, ExactEvaluator::Matrix<typename A::Num>>& weights, const Word& word,
    PrefixCache<A>& cache) {
  using Num = typename A::Num;
  using Iv = typename A::Iv;
  using Matrix = ExactEvaluator::Matrix<Num>;
  using Row = RowT<Iv>;
  const auto& cfg = circuit.config;
  const int k = circuit.alphabet.size(), C = cfg.d_model, H = cfg.n_heads, dh = C / H;
  const int n = static_cast<int>(word.size()), len = n + 2;
  const bool norms =
      cfg.norm_position != nets::NormPosition::none && cfg.norm != nets::NormKind::none;
  const bool pre = norms && cfg.norm_position == nets::NormPosition::pre;
  const bool post = norms && cfg.norm_position == nets::NormPosition::post;
  const Iv zero = A::point(A::zero());
  // Positions [0, keep) are still valid in the cache.
  int keep = 0;
  if (cfg.causal && cache.len == len) {
    keep = 1;
    while (keep <= n && cache.word[keep - 1] == word[keep - 1]) ++keep;
  }
  // Without reuse (keep = 0) a fresh interner is faster; a shared one is bounded in size.
  if (keep == 0 || cache.ids.size() > 200'000) cache.ids = RowIds<A>(), keep = 0;
  cache.len = -1;  // invalid until this word is done
  for (auto* layers : {&cache.x, &cache.a_in}) {
    layers->resize(cfg.n_layers);
    for (auto& rows : *layers) rows.resize(len);
  }
  cache.qkv.resize(cfg.n_layers);
  for (auto& rows : cache.qkv) rows.resize(len);
  auto& ids = cache.ids;

  // Tensors are keyed "L.what" for layer L (short keys: no allocation per lookup).
  auto W = [&](int l, const std::string& what) -> const Matrix* {
    auto it = weights.find(l < 0 ? what : std::to_string(l) + "." + what);
    return it == weights.end() ? nullptr : &it->second;
  };
  auto linear = [&](const std::vector<Iv>& x, const Matrix& w, const Matrix* b, int row0,
                    int rows) {
    auto out = A::linear(x, w, b, row0, rows);
    for (const auto& v : out) A::check(v);
    return out;
  };
  // nets/norm.h over x[0..size): y = (x - m) r, r = 1/sqrt(|x - m|^2 / size + c), then affine.
  auto normalize = [&](const Iv* x, int size, nets::NormKind kind, const Matrix* gain,
                       const Matrix* bias, const std::string& where) {
    const bool centred = kind == nets::NormKind::layernorm || kind == nets::NormKind::projection;
    const bool scaled = kind == nets::NormKind::layernorm || kind == nets::NormKind::scale ||
                        kind == nets::NormKind::rms;
    Iv m = zero;
    if (centred) {
      for (int i = 0; i < size; ++i) m = A::add(m, x[i]);
      m = A::divide(m, size);
    }
    std::vector<Iv> y(size);
    for (int i = 0; i < size; ++i) y[i] = A::sub(x[i], m);
    if (scaled) {
      const Num eps = Num(cfg.norm_eps);  // exact: a double is a dyadic rational
      Iv q = zero;
      for (int i = 0; i < size; ++i) q = A::add(q, A::mul(y[i], y[i]));
      q = A::divide(q, size);
      q = A::add(q, kind == nets::NormKind::scale ? A::divide(A::point(eps), size) : A::point(eps));
      Iv r;
      if (q.hi == 0) {
        r = zero;  // a zero row at eps = 0: nets outputs 0
      } else if (q.lo <= 0) {
        throw Undecided{where + ": the norm's input may be zero (its interval contains 0)"};
      } else {
        r = A::rsqrt(q);
      }
      for (auto& v : y) v = A::mul(v, r);
    }
    for (int i = 0; i < size; ++i) {
      if (gain) y[i] = A::add(A::scale(y[i], gain->w[i]), bias ? A::point(bias->w[i]) : zero);
      A::round(y[i]);
      A::check(y[i]);
    }
    return y;
  };
  auto norm_row = [&](const Row& x, const std::string& which, long op, int l) {
    Row out;
    out.v = normalize(x.v.data(), C, cfg.norm, W(l, which + ".g"), W(l, which + ".b"),
                      l < 0 ? which : fmt::format("layer {} {}", l, which));
    out.id = ids.of(out.v, {op, l, x.id});
    return out;
  };

  // Embeddings: token + position.
  std::vector<int> tokens(len);
  tokens[0] = k, tokens[len - 1] = k + 1;
  for (int t = 0; t < n; ++t) tokens[t + 1] = word[t];
  const Matrix& wte = *W(-1, "embed.wte");
  for (int t = keep; t < len; ++t) {
    auto& x = cache.x[0];
    x[t].v.resize(C);
    for (int c = 0; c < C; ++c) {
      Iv v = A::point(wte.w[static_cast<std::size_t>(tokens[t]) * C + c]);
      if (cfg.positional == nets::Positional::learned)
        v = A::add(v, A::point(W(-1, "embed.wpe")->w[static_cast<std::size_t>(t) * C + c]));
      else if (cfg.positional == nets::Positional::sinusoidal)
        v = A::add(v, A::point(W(-1, "embed.sinusoidal")->w[static_cast<std::size_t>(t) * C + c]));
      else if (cfg.positional == nets::Positional::fraction)
        v = A::add(v, A::divide(A::scale(A::point(W(-1, "embed.wfrac")->w[c]), Num(t)), len));
      x[t].v[c] = v;
    }
    x[t].id = ids.of(x[t].v, {kEmbed, tokens[t], t});
  }

  // After the last layer's attention only the readout's row matters (bos/eos/next-symbol).
  const bool recognize = cfg.objective == nets::Objective::recognize;
  const int readout_row = !recognize ? n : cfg.readout == nets::Readout::bos ? 0 : len - 1;
  const bool single_readout = !recognize || cfg.readout != nets::Readout::mean;

  std::vector<Row> final_rows(len);  // the last layer's outputs (only those needed)
  for (int l = 0; l < cfg.n_layers; ++l) {
    const bool last = l == cfg.n_layers - 1;
    const auto& x = cache.x[l];
    auto& a_in = cache.a_in[l];
    for (int t = keep; t < len; ++t) a_in[t] = pre ? norm_row(x[t], "ln1", kNorm1, l) : x[t];
    // Queries, keys, values; qk-norm per head on queries and keys.
    auto& qkv = cache.qkv[l];
    for (int t = keep; t < len; ++t) {
      qkv[t] = linear(a_in[t].v, *W(l, "attn.wqkv"), W(l, "attn.bqkv"), 0, 3 * C);
      if (cfg.qk_norm)
        for (int part = 0; part < 2; ++part)
          for (int h = 0; h < H; ++h) {
            const int at = part * C + h * dh;
            const std::string which = part == 0 ? "attn.q_ln" : "attn.k_ln";
            const Matrix *g = W(l, which + ".g"), *b = W(l, which + ".b");
            // The qk-norm gains are per head-width: offset them by nothing (shared over heads).
            auto y = normalize(qkv[t].data() + at, dh, nets::NormKind::layernorm, g, b,
                               fmt::format("layer {} qk-norm", l));
            std::copy(y.begin(), y.end(), qkv[t].begin() + at);
          }
    }
    auto& out = last ? final_rows : cache.x[l + 1];
    for (int i = last ? 0 : keep; i < len; ++i) {
      if (last && single_readout && i != readout_row) continue;
      const int visible = cfg.causal ? i + 1 : len;
      std::vector<Iv> ao(C);
      std::vector<long> head_ids = {kHeads, l};
      for (int h = 0; h < H; ++h) {
        // Scores q_i . k_j (the positive 1/sqrt(dh) factor changes no argmax).
        std::vector<Iv> s(visible);
        for (int j = 0; j < visible; ++j) {
          const Iv d = A::dot(qkv[i].data() + h * dh, qkv[j].data() + C + h * dh, dh);
          A::check(d);
          s[j] = d;
        }
        // j >= j' provably: equal key rows, or separated intervals; j < j' likewise.
        auto geq = [&](int j, int jp) { return a_in[j].id == a_in[jp].id || s[j].lo >= s[jp].hi; };
        auto less = [&](int j, int jp) { return a_in[j].id != a_in[jp].id && s[j].hi < s[jp].lo; };
        std::vector<int> winners;
        for (int j = 0; j < visible; ++j) {
          bool wins = true, loses = false;
          for (int jp = 0; jp < visible && wins; ++jp) wins = geq(j, jp);
          for (int jp = 0; jp < visible && !wins && !loses; ++jp) loses = less(j, jp);
          if (wins)
            winners.push_back(j);
          else if (!loses)
            throw Undecided{fmt::format(
                "layer {} head {} query {}: the score of key {} is not separated from the maximum",
                l, h, i, j)};
        }
        if (circuit.tie.hard == nets::HardAttention::leftmost) winners.resize(1);
        if (circuit.tie.hard == nets::HardAttention::rightmost) winners = {winners.back()};
        std::vector<long> winner_ids;
        for (int j : winners) winner_ids.push_back(a_in[j].id);
        std::sort(winner_ids.begin(), winner_ids.end());
        head_ids.push_back(-1);
        head_ids.insert(head_ids.end(), winner_ids.begin(), winner_ids.end());
        for (int e = 0; e < dh; ++e) {
          Iv sum = zero;
          for (int j : winners) sum = A::add(sum, qkv[j][2 * C + h * dh + e]);
          ao[h * dh + e] = A::divide(sum, static_cast<long>(winners.size()));
        }
      }
      Row att{ao, 0};
      att.id = ids.of(att.v, head_ids);
      if (cfg.attention_gate) {
        auto gate = linear(a_in[i].v, *W(l, "attn.wgate"), W(l, "attn.bgate"), 0, C);
        for (int c = 0; c < C; ++c) {
          att.v[c] = A::mul(att.v[c], gate[c]);
          A::round(att.v[c]);
        }
        att.id = ids.of(att.v, {kGate, l, att.id, a_in[i].id});
      }
      Row s1;
      s1.v = linear(att.v, *W(l, "attn.wo"), W(l, "attn.bo"), 0, C);
      for (int c = 0; c < C; ++c) s1.v[c] = A::add(s1.v[c], x[i].v[c]);
      s1.id = ids.of(s1.v, {kOut, l, att.id, x[i].id});
      const Row mid = post ? norm_row(s1, "ln1", kNorm1, l) : s1;
      const Row f_in = pre ? norm_row(mid, "ln2", kNorm2, l) : mid;
      auto hidden = linear(f_in.v, *W(l, "ffn.w1"), W(l, "ffn.b1"), 0, cfg.d_ff);
      for (auto& v : hidden) v = {v.lo > 0 ? v.lo : A::zero(), v.hi > 0 ? v.hi : A::zero()};
      Row s2;
      s2.v = linear(hidden, *W(l, "ffn.w2"), W(l, "ffn.b2"), 0, C);
      for (int c = 0; c < C; ++c) s2.v[c] = A::add(s2.v[c], mid.v[c]);
      s2.id = ids.of(s2.v, {kFfn, l, f_in.id, mid.id});
      out[i] = post ? norm_row(s2, "ln2", kNorm2, l) : s2;
    }
  }
  // Readout.
  auto final_row = [&](int t) {
    return pre ? norm_row(final_rows[t], "lnf", kNormF, -1) : final_rows[t];
  };
  std::vector<Iv> r;
  if (single_readout) {
    r = final_row(readout_row).v;
  } else {
    r.assign(C, zero);
    for (int t = 0; t < len; ++t) {
      const Row f = final_row(t);
      for (int c = 0; c < C; ++c) r[c] = A::add(r[c], f.v[c]);
    }
    for (auto& v : r) v = A::divide(v, len);
  }
  const auto logit = linear(r, *W(-1, "head.w"), W(-1, "head.b"), recognize ? 0 : k, 1)[0];
  cache.len = len;
  cache.word = word;
  return logit;
}

template <class A>
ExactResult decide(const Circuit& circuit,
                   const std::map<std::string, ExactEvaluator::Matrix<typename A::Num>>& weights,
                   const Word& word, PrefixCache<A>& cache) {
  ExactResult result;
  try {
    const auto z = evaluate<A>(circuit, weights, word, cache);
    result.logit = {A::to_rational(z.lo), A::to_rational(z.hi)};
    result.verdict = z.lo > 0 ? Verdict::accept : z.hi <= 0 ? Verdict::reject : Verdict::undecided;
    if (result.verdict == Verdict::undecided)
      result.reason = "the accept logit's interval contains 0";
  } catch (const Undecided& u) {
    result.verdict = Verdict::undecided;
    result.reason = u.reason;
  }
  return result;
}

}  // namespace

struct ExactEvaluator::Cache::Impl {
  PrefixCache<DoubleArith> fast;
  PrefixCache<SmallRationalArith> small;
  PrefixCache<RationalArith> exact;
};
ExactEvaluator::Cache::Cache() : impl(std::make_unique<Impl>()) {}
ExactEvaluator::Cache::~Cache() = default;

ExactEvaluator::ExactEvaluator(const Circuit& circuit) : circuit_(circuit) {
  const auto& cfg = circuit_.config;
  require_softmax(cfg);
  if (cfg.ffn_activation != nets::Activation::relu)
    throw InputError("exact evaluation needs ffn_activation = relu (gelu is transcendental)");
  const Rational denominator = Rational(mpz_int(1) << circuit_.denominator_bits);
  bool doubles = true;
  for (const auto& [name, t] : circuit_.tensors) {
    Matrix<Rational> m;
    Matrix<double> d;
    m.rows = d.rows = t.shape.empty() ? 1 : t.shape[0];
    m.cols = d.cols = t.shape.size() > 1 ? t.shape[1] : 1;
    for (long long x : t.numerators) {
      m.w.push_back(Rational(x) / denominator);
      doubles = doubles && std::llabs(x) < (1LL << 53);
      d.w.push_back(std::ldexp(static_cast<double>(x), -circuit_.denominator_bits));
    }
    d.row_abs.assign(d.rows, 0.0);
    for (int r = 0; r < d.rows; ++r)
      for (int c = 0; c < d.cols; ++c)  // rounded up: the error bounds need an upper bound
        d.row_abs[r] =
            detail::add_up(d.row_abs[r], std::abs(d.w[static_cast<std::size_t>(r) * d.cols + c]));
    Matrix<SmallRational> small;
    small.rows = m.rows, small.cols = m.cols;
    const bool fits = circuit_.denominator_bits <= 62;
    for (long long x : t.numerators)
      small.w.push_back(fits ? SmallRational(x, 1LL << circuit_.denominator_bits)
                             : SmallRational(0));
    small_ok_ = small_ok_ && fits;
    // "layers.L.what" -> "L.what", the evaluator's short keys.
    const std::string key = name.rfind("layers.", 0) == 0 ? name.substr(7) : name;
    rational_.emplace(key, std::move(m));
    double_.emplace(key, std::move(d));
    small_.emplace(key, std::move(small));
  }
  if (!doubles) double_.clear();
  const bool norms =
      cfg.norm_position != nets::NormPosition::none && cfg.norm != nets::NormKind::none;
  if (!small_ok_ || norms || cfg.qk_norm) small_.clear();
}

void ExactEvaluator::check_word(const Word& word) const {
  const auto& cfg = circuit_.config;
  const int n = static_cast<int>(word.size());
  for (Symbol s : word)
    if (s >= circuit_.alphabet.size())
      throw InputError(fmt::format("symbol {} is outside the circuit's alphabet", s));
  if ((cfg.positional == nets::Positional::learned ||
       cfg.positional == nets::Positional::sinusoidal) &&
      n > cfg.max_length)
    throw InputError(fmt::format("the circuit has positions for words up to length {}, not {}",
                                 cfg.max_length, n));
}

ExactResult ExactEvaluator::run(const Word& word) const {
  Cache cache;
  return run(word, cache);
}

ExactResult ExactEvaluator::run(const Word& word, Cache& cache) const {
  check_word(word);
  if (!double_.empty()) {
    ExactResult fast = decide<DoubleArith>(circuit_, double_, word, cache.impl->fast);
    if (fast.verdict != Verdict::undecided) return fast;
  }
  if (!small_.empty()) {
    ExactResult small = decide<SmallRationalArith>(circuit_, small_, word, cache.impl->small);
    if (small.verdict != Verdict::undecided || small.reason.rfind("small rationals", 0) != 0)
      return small;
  }
  return decide<RationalArith>(circuit_, rational_, word, cache.impl->exact);
}

ExactResult ExactEvaluator::run_rational(const Word& word) const {
  check_word(word);
  PrefixCache<RationalArith> cache;
  return decide<RationalArith>(circuit_, rational_, word, cache);
}

}  // namespace saturn::saturate
