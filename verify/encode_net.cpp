#include "verify/encode.h"

#include <fmt/format.h>

#include <z3++.h>

#include <chrono>
#include <map>
#include <optional>

#include "base/error.h"
#include "verify/isolated.h"
#include "verify/z3_support.h"

namespace saturn::verify {

namespace {

using detail::real;
using detail::set_timeout;
using detail::Weights;
using saturate::Rational;

// Rows of the residual stream at one position: while every entry depends only on the symbol
// at that position, a table of exact values per symbol choice; afterwards Z3 terms.
struct SymRow {
  std::vector<std::vector<Rational>> table;  // [choice][dim]; empty once symbolic
  std::vector<z3::expr> terms;
};

class CircuitEncoder {
 public:
  CircuitEncoder(z3::context& ctx, z3::solver& solver, const saturate::Circuit& c,
                 const std::vector<std::vector<z3::expr>>& x, int length, const std::string& tag)
      : ctx_(ctx), solver_(solver), c_(c), w_(c), x_(x), n_(length), tag_(tag) {}

  // The circuit's accept condition (logit > 0) for the symbolic word.
  z3::expr accepts() {
    const auto& cfg = c_.config;
    const int k = c_.alphabet.size(), C = cfg.d_model, len = n_ + 2;
    // Embeddings, tabled by the symbol choice at each position.
    std::vector<SymRow> rows(len);
    for (int t = 0; t < len; ++t) {
      for (int s : choices(t)) {
        const int token = t == 0 ? k : t == len - 1 ? k + 1 : s;
        std::vector<Rational> e(C);
        for (int d = 0; d < C; ++d) {
          e[d] = w_.get("embed.wte")->at(token, d);
          if (cfg.positional == nets::Positional::learned) e[d] += w_.get("embed.wpe")->at(t, d);
          if (cfg.positional == nets::Positional::sinusoidal)
            e[d] += w_.get("embed.sinusoidal")->at(t, d);
          if (cfg.positional == nets::Positional::fraction)
            e[d] += w_.get("embed.wfrac")->w[d] * Rational(t, len);
        }
        rows[t].table.push_back(e);
      }
    }
    const bool recognize = cfg.objective == nets::Objective::recognize;
    const int readout = !recognize ? n_ : cfg.readout == nets::Readout::bos ? 0 : len - 1;
    const bool single = !recognize || cfg.readout != nets::Readout::mean;
    for (int l = 0; l < cfg.n_layers; ++l) {
      const bool last = l == cfg.n_layers - 1;
      rows = layer(l, rows, last && single ? readout : -1);
    }
    // Pre-LN: the final norm before the readout.
    const bool final_norm = cfg.has_norm_layers() && cfg.norm_position == nets::NormPosition::pre;
    auto final_row = [&](int t) {
      return final_norm ? terms(normalize(rows[t], t, w_.get("lnf.g"), w_.get("lnf.b"),
                                          fmt::format("lnf_r{}", t), cfg.norm),
                                t)
                        : terms(rows[t], t);
    };
    std::vector<z3::expr> r;
    if (single) {
      r = final_row(readout);
    } else {
      for (int d = 0; d < C; ++d) r.push_back(ctx_.real_val(0));
      for (int t = 0; t < len; ++t) {
        const auto row = final_row(t);
        for (int d = 0; d < C; ++d) r[d] = r[d] + row[d];
      }
      for (auto& v : r) v = v / ctx_.real_val(len);
    }
    const auto logit = linear(r, *w_.get("head.w"), w_.get("head.b"), recognize ? 0 : k, 1)[0];
    return logit.simplify() > 0;
  }

 private:
  // The symbol choices at position t: one (BOS/EOS) or the alphabet.
  std::vector<int> choices(int t) const {
    if (t == 0 || t == n_ + 1) return {0};
    std::vector<int> all(c_.alphabet.size());
    for (int s = 0; s < c_.alphabet.size(); ++s) all[s] = s;
    return all;
  }
  // Nested ite over the symbol at position t (exactly one holds, so the last is the default).
  z3::expr select(int t, const std::vector<z3::expr>& options) const {
    if (options.size() == 1) return options[0];
    z3::expr e = options.back();
    for (int s = static_cast<int>(options.size()) - 2; s >= 0; --s)
      e = z3::ite(x_[t - 1][s], options[s], e);
    return e;
  }
  std::vector<z3::expr> terms(const SymRow& row, int t) const {
    if (row.table.empty()) return row.terms;
    std::vector<z3::expr> out;
    for (std::size_t d = 0; d < row.table[0].size(); ++d) {
      std::vector<z3::expr> options;
      for (const auto& entry : row.table) options.push_back(real(ctx_, entry[d]));
      out.push_back(select(t, options));
    }
    return out;
  }

  // nets/norm.h on one row: y = (x - m) r with m the mean (layernorm, projection) and
  // r = 1/sqrt(|x - m|^2 / C + eps) (eps / C for `scale`; r = 1 for projection), then
  // gain and bias. A tabled row stays tabled where every r is rational (checked exactly);
  // otherwise each irrational r becomes a fresh real with r > 0 and r^2 q = 1: exact, in
  // nonlinear real arithmetic.
  SymRow normalize(const SymRow& x, int t, const Weights::Matrix* gain, const Weights::Matrix* bias,
                   const std::string& tag, nets::NormKind kind) {
    if (x.table.empty()) return {{}, normalize_terms(x.terms, gain, bias, tag, kind)};
    const int C = static_cast<int>(x.table[0].size());
    // Per symbol choice: the centred row y and q (its mean square plus eps).
    std::vector<std::vector<Rational>> ys;
    std::vector<Rational> qs;
    std::vector<std::optional<Rational>> rs;
    bool rational = true;
    for (const auto& e : x.table) {
      auto [y, q] = centre(e, kind);
      ys.push_back(y);
      qs.push_back(q);
      rs.push_back(nets::scaled(kind) ? saturate::rational_rsqrt(q) : std::optional<Rational>(1));
      rational = rational && rs.back().has_value();
    }
    if (rational) {
      SymRow out;
      for (std::size_t s = 0; s < ys.size(); ++s) {
        std::vector<Rational> row(C);
        for (int i = 0; i < C; ++i) {
          row[i] = ys[s][i] * *rs[s];
          if (gain) row[i] = row[i] * gain->w[i] + (bias ? bias->w[i] : Rational(0));
        }
        out.table.push_back(row);
      }
      return out;
    }
    std::vector<std::vector<z3::expr>> options(C);
    for (std::size_t s = 0; s < ys.size(); ++s) {
      z3::expr r = ctx_.real_val(0);
      if (rs[s]) {
        r = real(ctx_, *rs[s]);
      } else {
        r = fresh(fmt::format("{}c{}", tag, s));
        solver_.add(r > 0 && r * r * real(ctx_, qs[s]) == 1);
      }
      for (int i = 0; i < C; ++i) {
        z3::expr v = real(ctx_, ys[s][i]) * r;
        if (gain) v = v * real(ctx_, gain->w[i]) + real(ctx_, bias ? bias->w[i] : Rational(0));
        options[i].push_back(v.simplify());
      }
    }
    SymRow out;
    for (int i = 0; i < C; ++i) out.terms.push_back(select(t, options[i]));
    return out;
  }
  // eps as it enters q (exact: a double is a dyadic rational).
  Rational eps_term(int C, nets::NormKind kind) const {
    return nets::norm_eps_term(kind, Rational(c_.config.norm_eps), C);
  }
  std::pair<std::vector<Rational>, Rational> centre(const std::vector<Rational>& x,
                                                    nets::NormKind kind) const {
    const int C = static_cast<int>(x.size());
    Rational m = 0;
    if (nets::centred(kind)) {
      for (const auto& v : x) m += v;
      m /= C;
    }
    std::vector<Rational> y(C);
    Rational q = 0;
    for (int i = 0; i < C; ++i) {
      y[i] = x[i] - m;
      q += y[i] * y[i];
    }
    return {y, q / C + eps_term(C, kind)};
  }
  std::vector<z3::expr> normalize_terms(const std::vector<z3::expr>& x, const Weights::Matrix* gain,
                                        const Weights::Matrix* bias, const std::string& tag,
                                        nets::NormKind kind) {
    const int C = static_cast<int>(x.size());
    z3::expr m = ctx_.real_val(0);
    if (nets::centred(kind)) {
      for (const auto& v : x) m = m + v;
      m = (m / ctx_.real_val(C)).simplify();
    }
    std::vector<z3::expr> y;
    for (const auto& v : x) y.push_back((v - m).simplify());
    if (nets::scaled(kind)) {
      z3::expr q = real(ctx_, eps_term(C, kind));
      for (const auto& v : y) q = q + v * v / ctx_.real_val(C);
      z3::expr qv = fresh(tag + "q"), r = fresh(tag + "r");
      solver_.add(qv == q.simplify());
      // q >= 0 always; a zero row at eps = 0 gives r = 0, as in nets.
      solver_.add(r >= 0 && z3::implies(qv == 0, r == 0) && z3::implies(qv > 0, r * r * qv == 1));
      for (auto& v : y) v = v * r;
    }
    for (int i = 0; i < C; ++i) {
      if (gain) y[i] = y[i] * real(ctx_, gain->w[i]) + real(ctx_, bias ? bias->w[i] : Rational(0));
      y[i] = y[i].simplify();
    }
    return y;
  }

  // qk-norm (nets/model.cpp): a layernorm over each head's query and key, width dh, gains
  // shared over heads. A tabled row stays tabled when every slice folds to rationals;
  // otherwise the whole row becomes terms (each choice's irrational r a fresh real).
  void qk_normalize(int l, int t, std::vector<std::vector<Rational>>& table,
                    std::vector<z3::expr>& terms) {
    const int C = c_.config.d_model, H = c_.config.n_heads, dh = C / H;
    auto slice_of = [&](int part, int h) { return part * C + h * dh; };
    auto gain = [&](int part) { return w_.layer(l, part == 0 ? "attn.q_ln.g" : "attn.k_ln.g"); };
    auto bias = [&](int part) { return w_.layer(l, part == 0 ? "attn.q_ln.b" : "attn.k_ln.b"); };
    auto tag = [&](int part, int h) { return fmt::format("L{}qk{}h{}r{}", l, part, h, t); };
    if (table.empty()) {
      for (int part = 0; part < 2; ++part)
        for (int h = 0; h < H; ++h) {
          const int at = slice_of(part, h);
          const auto y = normalize_terms({terms.begin() + at, terms.begin() + at + dh}, gain(part),
                                         bias(part), tag(part, h), nets::NormKind::layernorm);
          std::copy(y.begin(), y.end(), terms.begin() + at);
        }
      return;
    }
    std::vector<SymRow> slices;  // [part * H + h]
    bool rational = true;
    for (int part = 0; part < 2; ++part)
      for (int h = 0; h < H; ++h) {
        const int at = slice_of(part, h);
        SymRow x;
        for (const auto& entry : table)
          x.table.emplace_back(entry.begin() + at, entry.begin() + at + dh);
        slices.push_back(
            normalize(x, t, gain(part), bias(part), tag(part, h), nets::NormKind::layernorm));
        rational = rational && !slices.back().table.empty();
      }
    if (rational) {
      for (int part = 0; part < 2; ++part)
        for (int h = 0; h < H; ++h)
          for (std::size_t s = 0; s < table.size(); ++s) {
            const auto& y = slices[part * H + h].table[s];
            std::copy(y.begin(), y.end(), table[s].begin() + slice_of(part, h));
          }
      return;
    }
    terms = this->terms(SymRow{table, {}}, t);
    for (int part = 0; part < 2; ++part)
      for (int h = 0; h < H; ++h) {
        const auto y = this->terms(slices[part * H + h], t);
        std::copy(y.begin(), y.end(), terms.begin() + slice_of(part, h));
      }
    table.clear();
  }

  static std::vector<Rational> linear_exact(const std::vector<Rational>& x,
                                            const Weights::Matrix& w, const Weights::Matrix* b,
                                            int row0, int rows) {
    std::vector<Rational> out(rows);
    for (int r = 0; r < rows; ++r) {
      Rational s = b ? b->w[row0 + r] : Rational(0);
      for (int c = 0; c < w.cols; ++c)
        if (w.at(row0 + r, c) != 0) s += w.at(row0 + r, c) * x[c];
      out[r] = s;
    }
    return out;
  }
  std::vector<z3::expr> linear(const std::vector<z3::expr>& x, const Weights::Matrix& w,
                               const Weights::Matrix* b, int row0, int rows) const {
    std::vector<z3::expr> out;
    for (int r = 0; r < rows; ++r) {
      z3::expr s = real(ctx_, b ? b->w[row0 + r] : Rational(0));
      for (int c = 0; c < w.cols; ++c)
        if (w.at(row0 + r, c) != 0) s = s + real(ctx_, w.at(row0 + r, c)) * x[c];
      out.push_back(s.simplify());
    }
    return out;
  }
  z3::expr fresh(const std::string& what) {
    return ctx_.real_const(fmt::format("{}_{}_{}", tag_, what, counter_++).c_str());
  }

  // One layer over all rows; with `only` >= 0, the queries and FFN at that row alone.
  std::vector<SymRow> layer(int l, const std::vector<SymRow>& in, int only) {
    const auto& cfg = c_.config;
    const int len = n_ + 2, C = cfg.d_model, H = cfg.n_heads, dh = C / H;
    const auto& wqkv = *w_.layer(l, "attn.wqkv");
    const auto* bqkv = w_.layer(l, "attn.bqkv");
    const bool pre = cfg.has_norm_layers() && cfg.norm_position == nets::NormPosition::pre,
               post = cfg.has_norm_layers() && cfg.norm_position == nets::NormPosition::post;
    auto norm = [&](const SymRow& x, int t, const char* which) {
      return normalize(x, t, w_.layer(l, fmt::format("{}.g", which).c_str()),
                       w_.layer(l, fmt::format("{}.b", which).c_str()),
                       fmt::format("L{}{}r{}", l, which, t), cfg.norm);
    };
    // The attention's input: the row, or its first norm (pre-LN).
    std::vector<SymRow> a_in(len);
    for (int t = 0; t < len; ++t) a_in[t] = pre ? norm(in[t], t, "ln1") : in[t];
    // q, k, v per row: tables of exact values where the input is tabled.
    std::vector<std::vector<std::vector<Rational>>> qkv_table(len);
    std::vector<std::vector<z3::expr>> qkv_terms(len);
    for (int t = 0; t < len; ++t) {
      if (!a_in[t].table.empty())
        for (const auto& e : a_in[t].table)
          qkv_table[t].push_back(linear_exact(e, wqkv, bqkv, 0, 3 * C));
      else
        qkv_terms[t] = linear(a_in[t].terms, wqkv, bqkv, 0, 3 * C);
      if (cfg.qk_norm) qk_normalize(l, t, qkv_table[t], qkv_terms[t]);
    }
    auto part = [&](int t, int offset) {  // q/k/v entries of row t as terms
      std::vector<z3::expr> out;
      for (int e = 0; e < C; ++e) {
        if (qkv_table[t].empty()) {
          out.push_back(qkv_terms[t][offset + e]);
        } else {
          std::vector<z3::expr> options;
          for (const auto& entry : qkv_table[t]) options.push_back(real(ctx_, entry[offset + e]));
          out.push_back(select(t, options));
        }
      }
      return out;
    };
    std::vector<std::vector<z3::expr>> values(len);
    for (int t = 0; t < len; ++t) values[t] = part(t, 2 * C);

    std::vector<SymRow> out(len);
    for (int i = 0; i < len; ++i) {
      if (only >= 0 && i != only) continue;
      const int visible = cfg.causal ? i + 1 : len;
      std::vector<z3::expr> ao;
      for (int h = 0; h < H; ++h) {
        // Scores: a constant table over the two symbols when both rows are tabled.
        std::vector<z3::expr> s;
        for (int j = 0; j < visible; ++j) {
          if (!qkv_table[i].empty() && !qkv_table[j].empty()) {
            std::vector<z3::expr> by_query;
            for (const auto& qi : qkv_table[i]) {
              std::vector<z3::expr> by_key;
              for (const auto& kj : qkv_table[j]) {
                Rational d = 0;
                for (int e = 0; e < dh; ++e) d += qi[h * dh + e] * kj[C + h * dh + e];
                by_key.push_back(real(ctx_, d));
              }
              by_query.push_back(select(j, by_key));
            }
            s.push_back(select(i, by_query).simplify());
          } else {
            const auto q = part(i, 0), kk = part(j, C);
            z3::expr d = ctx_.real_val(0);
            for (int e = 0; e < dh; ++e) d = d + q[h * dh + e] * kk[h * dh + e];
            s.push_back(d.simplify());
          }
        }
        const auto head = attend(s, values, h * dh, dh, c_.head_tolerance(l, h));
        ao.insert(ao.end(), head.begin(), head.end());
      }
      if (cfg.attention_gate) {
        const auto gate =
            linear(terms(a_in[i], i), *w_.layer(l, "attn.wgate"), w_.layer(l, "attn.bgate"), 0, C);
        for (int e = 0; e < C; ++e) ao[e] = (ao[e] * gate[e]).simplify();
      }
      auto s1 = linear(ao, *w_.layer(l, "attn.wo"), w_.layer(l, "attn.bo"), 0, C);
      const auto xi = terms(in[i], i);
      for (int e = 0; e < C; ++e) s1[e] = (s1[e] + xi[e]).simplify();
      // Post-LN: mid = N1(s1), out = N2(s2). Pre-LN: the FFN reads N2(mid).
      const auto mid = post ? norm(SymRow{{}, s1}, i, "ln1").terms : s1;
      const auto f_in = pre ? norm(SymRow{{}, mid}, i, "ln2").terms : mid;
      auto hidden = linear(f_in, *w_.layer(l, "ffn.w1"), w_.layer(l, "ffn.b1"), 0, cfg.d_ff);
      for (auto& v : hidden) v = z3::ite(v > 0, v, ctx_.real_val(0)).simplify();
      auto s2 = linear(hidden, *w_.layer(l, "ffn.w2"), w_.layer(l, "ffn.b2"), 0, C);
      for (int e = 0; e < C; ++e) s2[e] = (s2[e] + mid[e]).simplify();
      if (post) s2 = norm(SymRow{{}, s2}, i, "ln2").terms;
      // Name the row: later layers read it at many places.
      for (int e = 0; e < C; ++e) {
        if (s2[e].is_numeral()) {
          out[i].terms.push_back(s2[e]);
          continue;
        }
        z3::expr v = fresh(fmt::format("L{}r{}d{}", l, i, e));
        solver_.add(v == s2[e]);
        out[i].terms.push_back(v);
      }
    }
    return out;
  }

  // Hard attention over scores s (visible keys) and value columns [offset, offset + width): the
  // keys with score >= max - tolerance (tolerance numerator over 2^k; kUniform: every key).
  std::vector<z3::expr> attend(const std::vector<z3::expr>& s,
                               const std::vector<std::vector<z3::expr>>& values, int offset,
                               int width, long long tolerance_numerator) {
    const int n = static_cast<int>(s.size());
    const auto rule = c_.tie.hard;
    if (tolerance_numerator == saturate::kUniform) {
      std::vector<Rational> zeros(s.size(), Rational(0));
      return average_known(zeros, values, offset, width, rule, Rational(0));
    }
    const Rational tolerance = Rational(tolerance_numerator) /
                               Rational(boost::multiprecision::mpz_int(1) << c_.denominator_bits);
    // Constant scores: the winners are known.
    if (std::all_of(s.begin(), s.end(), [](const z3::expr& e) { return e.is_numeral(); })) {
      std::vector<Rational> v;
      for (const auto& e : s) {
        std::string text;
        e.is_numeral(text);  // "p/q" or "p"
        v.push_back(Rational(text));
      }
      return average_known(v, values, offset, width, rule, tolerance);
    }
    z3::expr m = fresh("max");
    z3::expr_vector attained(ctx_);
    for (const auto& e : s) {
      solver_.add(m >= e);
      attained.push_back(m == e);
    }
    solver_.add(z3::mk_or(attained));
    std::vector<z3::expr> tie;
    for (const auto& e : s) tie.push_back(tolerance == 0 ? e == m : e >= m - real(ctx_, tolerance));
    std::vector<z3::expr> out;
    if (rule == nets::HardAttention::average) {
      z3::expr count = ctx_.int_val(0);
      for (const auto& t : tie) count = count + z3::ite(t, ctx_.int_val(1), ctx_.int_val(0));
      for (int e = 0; e < width; ++e) {
        z3::expr sum = ctx_.real_val(0);
        for (int j = 0; j < n; ++j)
          sum = sum + z3::ite(tie[j], values[j][offset + e], ctx_.real_val(0));
        z3::expr y = fresh("avg");
        z3::expr_vector cases(ctx_);
        for (int c = 1; c <= n; ++c) cases.push_back(count == c && ctx_.real_val(c) * y == sum);
        solver_.add(z3::mk_or(cases));
        out.push_back(y);
      }
      return out;
    }
    // Unique-hard: the leftmost (rightmost) tied position.
    std::vector<z3::expr> pick;
    for (int j = 0; j < n; ++j) {
      z3::expr p = tie[j];
      for (int o = 0; o < n; ++o)
        if (rule == nets::HardAttention::leftmost ? o < j : o > j) p = p && !tie[o];
      pick.push_back(p);
    }
    for (int e = 0; e < width; ++e) {
      z3::expr y = ctx_.real_val(0);
      for (int j = 0; j < n; ++j) y = y + z3::ite(pick[j], values[j][offset + e], ctx_.real_val(0));
      out.push_back(y.simplify());
    }
    return out;
  }

  std::vector<z3::expr> average_known(const std::vector<Rational>& s,
                                      const std::vector<std::vector<z3::expr>>& values, int offset,
                                      int width, nets::HardAttention rule,
                                      const Rational& tolerance) {
    const Rational floor = *std::max_element(s.begin(), s.end()) - tolerance;
    std::vector<int> winners;
    for (int j = 0; j < static_cast<int>(s.size()); ++j)
      if (s[j] >= floor) winners.push_back(j);
    if (rule == nets::HardAttention::leftmost) winners.resize(1);
    if (rule == nets::HardAttention::rightmost) winners = {winners.back()};
    std::vector<z3::expr> out;
    for (int e = 0; e < width; ++e) {
      z3::expr sum = ctx_.real_val(0);
      for (int j : winners) sum = sum + values[j][offset + e];
      out.push_back((sum / ctx_.real_val(static_cast<int>(winners.size()))).simplify());
    }
    return out;
  }

  z3::context& ctx_;
  z3::solver& solver_;
  const saturate::Circuit& c_;
  Weights w_;
  const std::vector<std::vector<z3::expr>>& x_;
  int n_;
  std::string tag_;
  int counter_ = 0;
};

z3::expr unrolled_accepts(z3::context& ctx, z3::solver& solver, const UnrolledMachine& m,
                          const std::vector<std::vector<z3::expr>>& x) {
  const int length = static_cast<int>(m.next.size());
  std::vector<z3::expr> state;
  state.push_back(ctx.int_val(0));
  for (int t = 0; t < length; ++t) {
    z3::expr s = ctx.int_const(fmt::format("ref_state_{}", t + 1).c_str());
    for (std::size_t q = 0; q < m.next[t].size(); ++q)
      for (std::size_t a = 0; a < m.next[t][q].size(); ++a)
        solver.add(z3::implies(state[t] == static_cast<int>(q) && x[t][a], s == m.next[t][q][a]));
    state.push_back(s);
  }
  z3::expr_vector accepting(ctx);
  for (std::size_t q = 0; q < m.accepting.size(); ++q)
    if (m.accepting[q]) accepting.push_back(state[length] == static_cast<int>(q));
  return accepting.empty() ? ctx.bool_val(false) : z3::mk_or(accepting);
}

}  // namespace

std::optional<std::string> smt_inapplicable(const saturate::Circuit& circuit,
                                            const saturate::Circuit* other) {
  for (const saturate::Circuit* c : {&circuit, other})
    if (c && c->config.attention_sparsemax)
      return std::string(
          "sparsemax attention is not encoded (each row's threshold tau needs a case split over "
          "supports, and the scores' factor 1/sqrt(dh) is irrational unless dh is a perfect "
          "square); use --method enumerate");
  return std::nullopt;
}

SolverAnswer smt_query_at_length(const saturate::Circuit& circuit, const Language* language,
                                 const saturate::Circuit* other, int length,
                                 double timeout_seconds) {
  if (auto why = smt_inapplicable(circuit, other)) throw InputError("smt: " + *why);
  const auto start = std::chrono::steady_clock::now();
  z3::context ctx;
  z3::solver solver(ctx);
  set_timeout(ctx, solver, timeout_seconds);
  const int k = circuit.alphabet.size();
  std::vector<std::vector<z3::expr>> x;
  for (int t = 0; t < length; ++t) {
    x.emplace_back();
    z3::expr_vector any(ctx);
    for (int s = 0; s < k; ++s) {
      x[t].push_back(ctx.bool_const(fmt::format("x_{}_{}", t, s).c_str()));
      any.push_back(x[t][s]);
    }
    solver.add(z3::mk_or(any));
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) solver.add(!(x[t][a] && x[t][b]));
  }
  CircuitEncoder mine(ctx, solver, circuit, x, length, "c");
  const z3::expr circuit_accepts = mine.accepts();
  z3::expr reference_accepts = ctx.bool_val(false);
  if (other) {
    CircuitEncoder theirs(ctx, solver, *other, x, length, "r");
    reference_accepts = theirs.accepts();
  } else {
    reference_accepts = unrolled_accepts(ctx, solver, unroll(*language, length), x);
  }
  solver.add(circuit_accepts != reference_accepts);
  SolverAnswer answer;
  switch (solver.check()) {
    case z3::unsat:
      answer.kind = SolverAnswer::unsat;
      break;
    case z3::sat: {
      answer.kind = SolverAnswer::sat;
      answer.word =
          detail::least_word(solver, x, length, k, timeout_seconds, start, answer.canonical);
      break;
    }
    default:
      answer.kind = SolverAnswer::unknown;
      answer.reason = solver.reason_unknown();
  }
  return answer;
}

SolverAnswer smt_differs_at_length(const saturate::Circuit& circuit, const Language* language,
                                   const saturate::Circuit* other, int length,
                                   double timeout_seconds) {
  if (auto why = smt_inapplicable(circuit, other)) throw InputError("smt: " + *why);
  // Every query runs in a child process: Z3 does not always stop at its deadline in nonlinear
  // arithmetic, and Ctrl-C must stop it at once; the child is killed in both cases.
  return detail::run_isolated(timeout_seconds, [&] {
    return smt_query_at_length(circuit, language, other, length, timeout_seconds);
  });
}

}  // namespace saturn::verify
