#include "verify/encode.h"

#include <fmt/format.h>

#include <z3++.h>
#include <map>

#include "lang/error.h"
#include "verify/z3_support.h"

namespace saturn::verify {

namespace {

using detail::real;
using detail::set_timeout;
using detail::Weights;
using saturate::Rational;

void require_norm_free(const saturate::Circuit& c, const char* method) {
  const auto& cfg = c.config;
  if (cfg.norm_position != nets::NormPosition::none && cfg.norm != nets::NormKind::none)
    throw InputError(fmt::format(
        "--method {}: circuits with norm layers (norm_position = {}, norm = {}) are not encoded "
        "symbolically yet; use --method enumerate",
        method, nets::kNormPositionNames[static_cast<int>(cfg.norm_position)],
        nets::to_string(cfg.norm)));
  if (cfg.qk_norm)
    throw InputError(fmt::format(
        "--method {}: qk-norm is not encoded symbolically yet; use --method enumerate", method));
}

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
    std::vector<z3::expr> r;
    if (single) {
      r = terms(rows[readout], readout);
    } else {
      for (int d = 0; d < C; ++d) r.push_back(ctx_.real_val(0));
      for (int t = 0; t < len; ++t) {
        const auto row = terms(rows[t], t);
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
    // q, k, v per row: tables of exact values where the input is tabled.
    std::vector<std::vector<std::vector<Rational>>> qkv_table(len);
    std::vector<std::vector<z3::expr>> qkv_terms(len);
    for (int t = 0; t < len; ++t) {
      if (!in[t].table.empty())
        for (const auto& e : in[t].table)
          qkv_table[t].push_back(linear_exact(e, wqkv, bqkv, 0, 3 * C));
      else
        qkv_terms[t] = linear(in[t].terms, wqkv, bqkv, 0, 3 * C);
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
        const auto head = attend(s, values, h * dh, dh);
        ao.insert(ao.end(), head.begin(), head.end());
      }
      if (cfg.attention_gate) {
        const auto gate =
            linear(terms(in[i], i), *w_.layer(l, "attn.wgate"), w_.layer(l, "attn.bgate"), 0, C);
        for (int e = 0; e < C; ++e) ao[e] = (ao[e] * gate[e]).simplify();
      }
      auto s1 = linear(ao, *w_.layer(l, "attn.wo"), w_.layer(l, "attn.bo"), 0, C);
      const auto xi = terms(in[i], i);
      for (int e = 0; e < C; ++e) s1[e] = (s1[e] + xi[e]).simplify();
      auto hidden = linear(s1, *w_.layer(l, "ffn.w1"), w_.layer(l, "ffn.b1"), 0, cfg.d_ff);
      for (auto& v : hidden) v = z3::ite(v > 0, v, ctx_.real_val(0)).simplify();
      auto s2 = linear(hidden, *w_.layer(l, "ffn.w2"), w_.layer(l, "ffn.b2"), 0, C);
      for (int e = 0; e < C; ++e) s2[e] = (s2[e] + s1[e]).simplify();
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

  // Hard attention over scores s (visible keys) and value columns [offset, offset + width).
  std::vector<z3::expr> attend(const std::vector<z3::expr>& s,
                               const std::vector<std::vector<z3::expr>>& values, int offset,
                               int width) {
    const int n = static_cast<int>(s.size());
    const auto rule = c_.tie.hard;
    // Constant scores: the winners are known.
    if (std::all_of(s.begin(), s.end(), [](const z3::expr& e) { return e.is_numeral(); })) {
      std::vector<Rational> v;
      for (const auto& e : s) {
        std::string text;
        e.is_numeral(text);  // "p/q" or "p"
        v.push_back(Rational(text));
      }
      return average_known(v, values, offset, width, rule);
    }
    z3::expr m = fresh("max");
    z3::expr_vector attained(ctx_);
    for (const auto& e : s) {
      solver_.add(m >= e);
      attained.push_back(m == e);
    }
    solver_.add(z3::mk_or(attained));
    std::vector<z3::expr> tie;
    for (const auto& e : s) tie.push_back(e == m);
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
                                      int width, nets::HardAttention rule) {
    const Rational top = *std::max_element(s.begin(), s.end());
    std::vector<int> winners;
    for (int j = 0; j < static_cast<int>(s.size()); ++j)
      if (s[j] == top) winners.push_back(j);
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

SolverAnswer smt_differs_at_length(const saturate::Circuit& circuit, const Language* language,
                                   const saturate::Circuit* other, int length,
                                   double timeout_seconds) {
  require_norm_free(circuit, "smt");
  if (other) require_norm_free(*other, "smt");
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
      const z3::model model = solver.get_model();
      for (int t = 0; t < length; ++t)
        for (int s = 0; s < k; ++s)
          if (model.eval(x[t][s], true).is_true()) {
            answer.word.push_back(static_cast<Symbol>(s));
            break;
          }
      break;
    }
    default:
      answer.kind = SolverAnswer::unknown;
      answer.reason = solver.reason_unknown();
  }
  return answer;
}

}  // namespace saturn::verify
