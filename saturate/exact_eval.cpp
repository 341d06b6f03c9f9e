#include "saturate/exact_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "lang/error.h"

namespace saturn::saturate {

namespace {

using boost::multiprecision::mpz_int;
constexpr int kGridBits = 128;  // outward rounding grid of non-exact values

// The evaluation of one word failed to decide something.
struct Undecided {
  std::string reason;
};

Interval point(const Rational& x) {
  return {x, x};
}
Interval operator+(const Interval& a, const Interval& b) {
  if (a.exact() && b.exact()) return point(a.lo + b.lo);
  return {a.lo + b.lo, a.hi + b.hi};
}
Interval operator-(const Interval& a, const Interval& b) {
  if (a.exact() && b.exact()) return point(a.lo - b.lo);
  return {a.lo - b.hi, a.hi - b.lo};
}
Interval scale(const Interval& a, const Rational& w) {
  if (a.exact()) return point(a.lo * w);
  return w >= 0 ? Interval{a.lo * w, a.hi * w} : Interval{a.hi * w, a.lo * w};
}
Interval operator*(const Interval& a, const Interval& b) {
  if (b.exact()) return scale(a, b.lo);
  if (a.exact()) return scale(b, a.lo);
  const Rational p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
  return {*std::min_element(p, p + 4), *std::max_element(p, p + 4)};
}
Interval square(const Interval& a) {
  if (a.exact()) return point(a.lo * a.lo);
  if (a.lo >= 0) return {a.lo * a.lo, a.hi * a.hi};
  if (a.hi <= 0) return {a.hi * a.hi, a.lo * a.lo};
  return {Rational(0), std::max(a.lo * a.lo, a.hi * a.hi)};
}
Interval relu(const Interval& a) {
  return {a.lo > 0 ? a.lo : Rational(0), a.hi > 0 ? a.hi : Rational(0)};
}

const mpz_int& grid() {
  static const mpz_int g = mpz_int(1) << kGridBits;
  return g;
}
// Outward rounding to the 2^-kGridBits grid, keeping denominators bounded.
void round_outward(Interval& a) {
  if (a.exact()) return;
  const Rational lo = a.lo * grid(), hi = a.hi * grid();
  mpz_int l = numerator(lo) / denominator(lo), h = numerator(hi) / denominator(hi);  // truncate
  if (Rational(l) > lo) --l;
  if (Rational(h) < hi) ++h;
  a.lo = Rational(l, grid());
  a.hi = Rational(h, grid());
}
// Bounds of 1/sqrt(x) for rational x > 0: isqrt(floor(4^P / x)) / 2^P <= 1/sqrt(x) and
// (isqrt(...) + 1) / 2^P > 1/sqrt(x), since sqrt(X) < isqrt(floor(X)) + 1.
std::pair<Rational, Rational> rsqrt_bounds(const Rational& x) {
  const mpz_int X = (denominator(x) * grid() * grid()) / numerator(x);
  const mpz_int m = boost::multiprecision::sqrt(X);
  return {Rational(m, grid()), Rational(m + 1, grid())};
}

// Row ids: rows with equal ids are provably equal. Exact rows are identified by value, others
// by the operation and the ids of its inputs (every operation is a function of its inputs).
class RowIds {
 public:
  int of(const std::vector<Interval>& row, std::vector<long> structure) {
    if (std::all_of(row.begin(), row.end(), [](const Interval& x) { return x.exact(); })) {
      std::vector<Rational> key;
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

 private:
  std::map<std::vector<Rational>, int> exact_;
  std::map<std::vector<long>, int> structural_;
  int next_ = 0;
};

struct Row {
  std::vector<Interval> v;
  int id = -1;
};

enum Op : long { kEmbed, kNorm1, kQkv, kAttend, kHeads, kGate, kOut, kNorm2, kFfn, kNormF };

}  // namespace

ExactEvaluator::ExactEvaluator(const Circuit& circuit) : circuit_(circuit) {
  const auto& cfg = circuit_.config;
  require_softmax(cfg);
  if (cfg.ffn_activation != nets::Activation::relu)
    throw InputError("exact evaluation needs ffn_activation = relu (gelu is transcendental)");
  const Rational denominator = Rational(mpz_int(1) << circuit_.denominator_bits);
  for (const auto& [name, t] : circuit_.tensors) {
    Matrix m;
    m.rows = t.shape.empty() ? 1 : t.shape[0];
    m.cols = t.shape.size() > 1 ? t.shape[1] : 1;
    m.w.reserve(t.numerators.size());
    for (long long x : t.numerators) m.w.push_back(Rational(x) / denominator);
    weights_.emplace(name, std::move(m));
  }
}

const ExactEvaluator::Matrix* ExactEvaluator::weight(const std::string& name) const {
  auto it = weights_.find(name);
  return it == weights_.end() ? nullptr : &it->second;
}

ExactResult ExactEvaluator::run(const Word& word) const {
  const auto& cfg = circuit_.config;
  const int k = circuit_.alphabet.size(), C = cfg.d_model, H = cfg.n_heads, dh = C / H;
  const int n = static_cast<int>(word.size()), len = n + 2;
  for (Symbol s : word)
    if (s >= k) throw InputError(fmt::format("symbol {} is outside the circuit's alphabet", s));
  if ((cfg.positional == nets::Positional::learned ||
       cfg.positional == nets::Positional::sinusoidal) &&
      n > cfg.max_length)
    throw InputError(fmt::format("the circuit has positions for words up to length {}, not {}",
                                 cfg.max_length, n));
  const bool norms =
      cfg.norm_position != nets::NormPosition::none && cfg.norm != nets::NormKind::none;
  const bool pre = norms && cfg.norm_position == nets::NormPosition::pre;
  const bool post = norms && cfg.norm_position == nets::NormPosition::post;
  const Rational eps(cfg.norm_eps);
  RowIds ids;

  auto W = [&](int l, const char* what) {
    return weight(l < 0 ? std::string(what) : fmt::format("layers.{}.{}", l, what));
  };
  // out = W x + b over one row (W: rows x cols).
  auto linear = [](const std::vector<Interval>& x, const Matrix& w, const Matrix* b, int row0,
                   int rows) {
    std::vector<Interval> out(rows);
    const bool exact = std::all_of(x.begin(), x.end(), [](const Interval& v) { return v.exact(); });
    for (int r = 0; r < rows; ++r) {
      const Rational* wr = w.w.data() + static_cast<std::size_t>(row0 + r) * w.cols;
      if (exact) {
        Rational s = b ? b->w[row0 + r] : Rational(0);
        for (int c = 0; c < w.cols; ++c)
          if (wr[c] != 0) s += wr[c] * x[c].lo;
        out[r] = point(s);
      } else {
        Interval s = point(b ? b->w[row0 + r] : Rational(0));
        for (int c = 0; c < w.cols; ++c)
          if (wr[c] != 0) s = s + scale(x[c], wr[c]);
        round_outward(s);
        out[r] = s;
      }
    }
    return out;
  };
  // nets/norm.h over x[0..size): y = (x - m) r, r = 1/sqrt(|x - m|^2 / size + c), then affine.
  auto normalize = [&](const Interval* x, int size, nets::NormKind kind, const Matrix* gain,
                       const Matrix* bias, int offset, const std::string& where) {
    const bool centred = kind == nets::NormKind::layernorm || kind == nets::NormKind::projection;
    const bool scaled = kind == nets::NormKind::layernorm || kind == nets::NormKind::scale ||
                        kind == nets::NormKind::rms;
    Interval m = point(Rational(0));
    if (centred) {
      for (int i = 0; i < size; ++i) m = m + x[i];
      m = scale(m, Rational(1, size));
    }
    std::vector<Interval> y(size);
    for (int i = 0; i < size; ++i) y[i] = x[i] - m;
    if (scaled) {
      Interval q = point(kind == nets::NormKind::scale ? eps / size : eps);
      for (int i = 0; i < size; ++i) q = q + scale(square(y[i]), Rational(1, size));
      Interval r;
      if (q.hi == 0) {
        r = point(Rational(0));  // a zero row at eps = 0: nets outputs 0
      } else if (q.lo <= 0) {
        throw Undecided{where + ": the norm's input may be zero (its interval contains 0)"};
      } else {
        r = {rsqrt_bounds(q.hi).first, rsqrt_bounds(q.lo).second};
      }
      for (auto& v : y) v = v * r;
    }
    for (int i = 0; i < size; ++i) {
      if (gain)
        y[i] = scale(y[i], gain->w[offset + i]) + point(bias ? bias->w[offset + i] : Rational(0));
      round_outward(y[i]);
    }
    return y;
  };
  auto norm_row = [&](const Row& x, const std::string& which, long op, int l) {
    Row out;
    out.v = normalize(x.v.data(), C, cfg.norm, W(l, (which + ".g").c_str()),
                      W(l, (which + ".b").c_str()), 0,
                      l < 0 ? which : fmt::format("layer {} {}", l, which));
    out.id = ids.of(out.v, {op, l, x.id});
    return out;
  };

  // Embeddings: token + position.
  std::vector<int> tokens(len);
  tokens[0] = k, tokens[len - 1] = k + 1;
  for (int t = 0; t < n; ++t) tokens[t + 1] = word[t];
  std::vector<Row> x(len);
  const Matrix& wte = *W(-1, "embed.wte");
  for (int t = 0; t < len; ++t) {
    x[t].v.resize(C);
    for (int c = 0; c < C; ++c) {
      Rational v = wte.w[static_cast<std::size_t>(tokens[t]) * C + c];
      if (cfg.positional == nets::Positional::learned)
        v += W(-1, "embed.wpe")->w[static_cast<std::size_t>(t) * C + c];
      else if (cfg.positional == nets::Positional::sinusoidal)
        v += W(-1, "embed.sinusoidal")->w[static_cast<std::size_t>(t) * C + c];
      else if (cfg.positional == nets::Positional::fraction)
        v += W(-1, "embed.wfrac")->w[c] * Rational(t, len);
      x[t].v[c] = point(v);
    }
    x[t].id = ids.of(x[t].v, {kEmbed, tokens[t], t});
  }

  // Only the readout's row matters after the last layer's attention (bos/eos/next-symbol).
  const bool recognize = cfg.objective == nets::Objective::recognize;
  const int readout_row = !recognize ? n : cfg.readout == nets::Readout::bos ? 0 : len - 1;
  const bool single_readout = !recognize || cfg.readout != nets::Readout::mean;

  ExactResult result;
  try {
    for (int l = 0; l < cfg.n_layers; ++l) {
      const bool last = l == cfg.n_layers - 1;
      std::vector<Row> a_in = x;
      if (pre)
        for (int t = 0; t < len; ++t) a_in[t] = norm_row(x[t], "ln1", kNorm1, l);
      // Queries, keys, values; qk-norm per head on queries and keys.
      std::vector<std::vector<Interval>> qkv(len);
      for (int t = 0; t < len; ++t) {
        qkv[t] = linear(a_in[t].v, *W(l, "attn.wqkv"), W(l, "attn.bqkv"), 0, 3 * C);
        if (cfg.qk_norm)
          for (int part = 0; part < 2; ++part)
            for (int h = 0; h < H; ++h) {
              const int at = part * C + h * dh;
              const char* g = part == 0 ? "attn.q_ln.g" : "attn.k_ln.g";
              const char* b = part == 0 ? "attn.q_ln.b" : "attn.k_ln.b";
              auto y = normalize(qkv[t].data() + at, dh, nets::NormKind::layernorm, W(l, g),
                                 W(l, b), 0, fmt::format("layer {} qk-norm", l));
              std::copy(y.begin(), y.end(), qkv[t].begin() + at);
            }
      }
      std::vector<Row> mid(len);
      for (int i = 0; i < len; ++i) {
        if (last && single_readout && i != readout_row) continue;
        const int visible = cfg.causal ? i + 1 : len;
        std::vector<Interval> ao(C);
        std::vector<long> head_ids = {kHeads, l};
        for (int h = 0; h < H; ++h) {
          // Scores q_i . k_j (the positive 1/sqrt(dh) factor changes no argmax).
          std::vector<Interval> s(visible);
          for (int j = 0; j < visible; ++j) {
            Interval d = point(Rational(0));
            for (int e = 0; e < dh; ++e) d = d + qkv[i][h * dh + e] * qkv[j][C + h * dh + e];
            s[j] = d;
          }
          // j >= j' provably: equal key rows, or separated intervals.
          auto geq = [&](int j, int jp) {
            return a_in[j].id == a_in[jp].id || s[j].lo >= s[jp].hi;
          };
          auto less = [&](int j, int jp) {
            return a_in[j].id != a_in[jp].id && s[j].hi < s[jp].lo;
          };
          std::vector<int> winners;
          for (int j = 0; j < visible; ++j) {
            bool wins = true, loses = false;
            for (int jp = 0; jp < visible && wins; ++jp) wins = geq(j, jp);
            for (int jp = 0; jp < visible && !wins && !loses; ++jp) loses = less(j, jp);
            if (wins)
              winners.push_back(j);
            else if (!loses)
              throw Undecided{fmt::format(
                  "layer {} head {} query {}: the score of key {} is not separated from the "
                  "maximum",
                  l, h, i, j)};
          }
          if (circuit_.tie.hard == nets::HardAttention::leftmost) winners.resize(1);
          if (circuit_.tie.hard == nets::HardAttention::rightmost) winners = {winners.back()};
          std::vector<long> winner_ids;
          for (int j : winners) winner_ids.push_back(a_in[j].id);
          std::sort(winner_ids.begin(), winner_ids.end());
          head_ids.push_back(-1);
          head_ids.insert(head_ids.end(), winner_ids.begin(), winner_ids.end());
          const Rational share(1, static_cast<long>(winners.size()));
          for (int e = 0; e < dh; ++e) {
            Interval sum = point(Rational(0));
            for (int j : winners) sum = sum + qkv[j][2 * C + h * dh + e];
            ao[h * dh + e] = scale(sum, share);
          }
        }
        Row att{ao, 0};
        att.id = ids.of(att.v, head_ids);
        if (cfg.attention_gate) {
          auto gate = linear(a_in[i].v, *W(l, "attn.wgate"), W(l, "attn.bgate"), 0, C);
          for (int c = 0; c < C; ++c) {
            att.v[c] = att.v[c] * gate[c];
            round_outward(att.v[c]);
          }
          att.id = ids.of(att.v, {kGate, l, att.id, a_in[i].id});
        }
        Row s1;
        s1.v = linear(att.v, *W(l, "attn.wo"), W(l, "attn.bo"), 0, C);
        for (int c = 0; c < C; ++c) s1.v[c] = s1.v[c] + x[i].v[c];
        s1.id = ids.of(s1.v, {kOut, l, att.id, x[i].id});
        mid[i] = post ? norm_row(s1, "ln1", kNorm1, l) : s1;
        // FFN.
        const Row f_in = pre ? norm_row(mid[i], "ln2", kNorm2, l) : mid[i];
        auto hidden = linear(f_in.v, *W(l, "ffn.w1"), W(l, "ffn.b1"), 0, cfg.d_ff);
        for (auto& v : hidden) v = relu(v);
        Row s2;
        s2.v = linear(hidden, *W(l, "ffn.w2"), W(l, "ffn.b2"), 0, C);
        for (int c = 0; c < C; ++c) s2.v[c] = s2.v[c] + mid[i].v[c];
        s2.id = ids.of(s2.v, {kFfn, l, f_in.id, mid[i].id});
        mid[i] = post ? norm_row(s2, "ln2", kNorm2, l) : s2;
      }
      x = std::move(mid);
    }
    // Readout.
    auto final_row = [&](int t) { return pre ? norm_row(x[t], "lnf", kNormF, -1) : x[t]; };
    std::vector<Interval> r;
    if (single_readout) {
      r = final_row(readout_row).v;
    } else {
      r.assign(C, point(Rational(0)));
      for (int t = 0; t < len; ++t) {
        const Row f = final_row(t);
        for (int c = 0; c < C; ++c) r[c] = r[c] + f.v[c];
      }
      for (auto& v : r) v = scale(v, Rational(1, len));
    }
    const int output = recognize ? 0 : k;
    result.logit = linear(r, *W(-1, "head.w"), W(-1, "head.b"), output, 1)[0];
    result.verdict = result.logit.lo > 0    ? Verdict::accept
                     : result.logit.hi <= 0 ? Verdict::reject
                                            : Verdict::undecided;
    if (result.verdict == Verdict::undecided)
      result.reason = "the accept logit's interval contains 0";
  } catch (const Undecided& u) {
    result.verdict = Verdict::undecided;
    result.reason = u.reason;
  }
  return result;
}

}  // namespace saturn::saturate
