#include "verify/encode.h"

#include <fmt/format.h>

#include <z3++.h>
#include <chrono>
#include <map>

#include "base/error.h"
#include "lang/components.h"
#include "verify/isolated.h"
#include "verify/z3_support.h"

namespace saturn::verify {

namespace {

using detail::real;
using detail::set_timeout;
using detail::Weights;
using saturate::Rational;

// Count-defined languages: the acceptance condition over the count variables, or nullopt.
std::optional<z3::expr> encode_count_language(z3::context& ctx, const Machine& m,
                                              const std::vector<z3::expr>& n) {
  auto form = [&](const std::vector<std::int64_t>& coef) {
    z3::expr s = ctx.int_val(0);
    for (std::size_t i = 0; i < coef.size() && i < n.size(); ++i)
      if (coef[i]) s = s + ctx.int_val(static_cast<int64_t>(coef[i])) * n[i];
    return s;
  };
  auto compare = [&](const z3::expr& lhs, CmpOp op, const z3::expr& rhs) {
    switch (op) {
      case CmpOp::eq:
        return lhs == rhs;
      case CmpOp::ne:
        return lhs != rhs;
      case CmpOp::lt:
        return lhs < rhs;
      case CmpOp::le:
        return lhs <= rhs;
      case CmpOp::gt:
        return lhs > rhs;
      default:
        return lhs >= rhs;
    }
  };
  if (auto* c = dynamic_cast<const CountsMachine*>(&m)) {
    if (c->has_prefix_constraints()) return std::nullopt;
    z3::expr all = ctx.bool_val(true);
    for (const auto& k : c->whole_constraints())
      all = all && compare(form(k.coef), k.op, ctx.int_val(static_cast<int64_t>(k.rhs)));
    return all;
  }
  if (auto* md = dynamic_cast<const ModMachine*>(&m)) {
    z3::expr all = ctx.bool_val(true);
    for (const auto& k : md->constraints())
      all = all && compare(z3::mod(form(k.coef) + ctx.int_val(static_cast<int64_t>(k.offset)),
                                   ctx.int_val(static_cast<int64_t>(k.modulus))),
                           k.op, ctx.int_val(static_cast<int64_t>(k.rhs)));
    return all;
  }
  if (auto* a = dynamic_cast<const AllMachine*>(&m)) {
    z3::expr all = ctx.bool_val(true);
    for (const auto& p : a->parts()) {
      auto e = encode_count_language(ctx, *p, n);
      if (!e) return std::nullopt;
      all = all && *e;
    }
    return all;
  }
  if (auto* a = dynamic_cast<const AnyMachine*>(&m)) {
    z3::expr any = ctx.bool_val(false);
    for (const auto& p : a->parts()) {
      auto e = encode_count_language(ctx, *p, n);
      if (!e) return std::nullopt;
      any = any || *e;
    }
    return any;
  }
  if (auto* no = dynamic_cast<const NotMachine*>(&m)) {
    auto e = encode_count_language(ctx, no->part(), n);
    if (!e) return std::nullopt;
    return !*e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> counts_inapplicable(const saturate::Circuit& circuit,
                                               const Language& language) {
  const auto& cfg = circuit.config;
  if (cfg.positional != nets::Positional::none)
    return fmt::format("the circuit has {} positions (not permutation-invariant)",
                       nets::to_string(cfg.positional));
  if (cfg.causal) return std::string("the circuit is causal (not permutation-invariant)");
  if (cfg.objective != nets::Objective::recognize || cfg.readout == nets::Readout::mean)
    return std::string("counts needs a bos or eos readout of a recognizer");
  if (cfg.attention_sparsemax)
    return std::string(
        "counts does not encode sparsemax attention (its weights are not an average over a "
        "count-defined set)");
  if (cfg.n_layers != 1) return std::string("counts encodes one-layer circuits only");
  if (cfg.n_heads != 1)
    return std::string(
        "counts encodes one-head circuits only (heads attend to different sets, so their "
        "averages have different denominators)");
  if (circuit.tie.hard != nets::HardAttention::average)
    return std::string("unique-hard attention depends on the order of the word");
  if (cfg.has_norm_layers() || cfg.qk_norm || cfg.attention_gate)
    return std::string("counts does not encode norm layers or gates");
  z3::context ctx;
  std::vector<z3::expr> n;
  for (int s = 0; s < language.alphabet().size(); ++s) n.push_back(ctx.int_val(0));
  if (!encode_count_language(ctx, language.machine(), n))
    return fmt::format("{} is not defined by symbol counts alone", language.name());
  return std::nullopt;
}

SolverAnswer counts_differ(const saturate::Circuit& circuit, const Language& language,
                           int min_length, int max_length, double timeout_seconds) {
  if (auto why = counts_inapplicable(circuit, language)) throw InputError("counts: " + *why);
  // In a child process, as smt's queries: Z3's own timeout overran it by up to 1.1 s on
  // these queries (issue 23: --timeout 1 took 1.6-2.1 s); a killed child keeps the promise.
  return detail::run_isolated(timeout_seconds, [&] {
    return counts_query(circuit, language, min_length, max_length, timeout_seconds);
  });
}

SolverAnswer counts_query(const saturate::Circuit& circuit, const Language& language,
                          int min_length, int max_length, double timeout_seconds) {
  if (auto why = counts_inapplicable(circuit, language)) throw InputError("counts: " + *why);
  z3::context ctx;
  z3::solver solver(ctx);
  set_timeout(ctx, solver, timeout_seconds);
  const auto& cfg = circuit.config;
  const Weights w(circuit);
  const int k = circuit.alphabet.size(), C = cfg.d_model, H = cfg.n_heads, dh = C / H;
  std::vector<z3::expr> n;
  z3::expr length = ctx.int_val(0);
  for (int s = 0; s < k; ++s) {
    n.push_back(ctx.int_const(fmt::format("n_{}", circuit.alphabet.name(s)).c_str()));
    solver.add(n.back() >= 0);
    length = length + n.back();
  }
  solver.add(length >= min_length && length <= max_length);
  // Row types: the k symbols, BOS, EOS, each with its count and presence.
  std::vector<z3::expr> count = n, present;
  count.push_back(ctx.int_val(1));
  count.push_back(ctx.int_val(1));
  for (int s = 0; s < k; ++s) present.push_back(n[s] >= 1);
  present.push_back(ctx.bool_val(true));
  present.push_back(ctx.bool_val(true));
  const int types = k + 2, query = cfg.readout == nets::Readout::bos ? k : k + 1;
  std::vector<std::vector<Rational>> qkv(types);
  std::vector<std::vector<Rational>> embed(types);
  for (int t = 0; t < types; ++t) {
    embed[t].resize(C);
    for (int d = 0; d < C; ++d) embed[t][d] = w.get("embed.wte")->at(t, d);
    qkv[t].assign(3 * C, 0);
    for (int r = 0; r < 3 * C; ++r) {
      Rational s = w.layer(0, "attn.bqkv") ? w.layer(0, "attn.bqkv")->w[r] : Rational(0);
      for (int d = 0; d < C; ++d) s += w.layer(0, "attn.wqkv")->at(r, d) * embed[t][d];
      qkv[t][r] = s;
    }
  }
  // Everything after the attention is scaled by K > 0, the number of attended positions:
  // K y = sum over tied types of count * value (linear), and ReLU is positively homogeneous.
  std::vector<z3::expr> scaled_attention;
  std::vector<z3::expr> Ks;
  for (int h = 0; h < H; ++h) {
    std::vector<Rational> score(types);
    for (int t = 0; t < types; ++t)
      for (int e = 0; e < dh; ++e) score[t] += qkv[query][h * dh + e] * qkv[t][C + h * dh + e];
    // A present type is attended unless a present type's score exceeds its own by more than
    // the head's tolerance (a uniform head attends to every present type).
    const long long tn = circuit.head_tolerance(0, h);
    const Rational tolerance = tn == saturate::kUniform
                                   ? Rational(-1)
                                   : Rational(tn) / Rational(boost::multiprecision::mpz_int(1)
                                                             << circuit.denominator_bits);
    std::vector<z3::expr> tie;
    for (int t = 0; t < types; ++t) {
      z3::expr beaten = ctx.bool_val(false);
      if (tolerance >= 0)
        for (int o = 0; o < types; ++o)
          if (score[o] > score[t] + tolerance) beaten = beaten || present[o];
      tie.push_back(present[t] && !beaten);
    }
    z3::expr Kh = ctx.int_val(0);
    for (int t = 0; t < types; ++t) Kh = Kh + z3::ite(tie[t], count[t], ctx.int_val(0));
    Ks.push_back(Kh);
    for (int e = 0; e < dh; ++e) {
      z3::expr sum = ctx.real_val(0);
      for (int t = 0; t < types; ++t)
        if (qkv[t][2 * C + h * dh + e] != 0)
          sum = sum + z3::ite(tie[t], z3::to_real(count[t]) * real(ctx, qkv[t][2 * C + h * dh + e]),
                              ctx.real_val(0));
      scaled_attention.push_back(sum);
    }
  }
  const z3::expr Kr = z3::to_real(Ks[0]);
  auto linear = [&](const std::vector<z3::expr>& x, const Weights::Matrix& m,
                    const Weights::Matrix* b, int rows, bool bias_scaled) {
    std::vector<z3::expr> out;
    for (int r = 0; r < rows; ++r) {
      z3::expr s = ctx.real_val(0);
      if (b && b->w[r] != 0) s = bias_scaled ? Kr * real(ctx, b->w[r]) : real(ctx, b->w[r]);
      for (int c = 0; c < m.cols; ++c)
        if (m.at(r, c) != 0) s = s + real(ctx, m.at(r, c)) * x[c];
      out.push_back(s);
    }
    return out;
  };
  auto s1 = linear(scaled_attention, *w.layer(0, "attn.wo"), w.layer(0, "attn.bo"), C, true);
  for (int d = 0; d < C; ++d) s1[d] = s1[d] + Kr * real(ctx, embed[query][d]);
  auto hidden = linear(s1, *w.layer(0, "ffn.w1"), w.layer(0, "ffn.b1"), cfg.d_ff, true);
  for (auto& v : hidden) v = z3::ite(v > 0, v, ctx.real_val(0));
  auto s2 = linear(hidden, *w.layer(0, "ffn.w2"), w.layer(0, "ffn.b2"), C, true);
  for (int d = 0; d < C; ++d) s2[d] = s2[d] + s1[d];
  const z3::expr scaled_logit = linear(s2, *w.get("head.w"), w.get("head.b"), 1, true)[0];
  const z3::expr circuit_accepts = scaled_logit > 0;
  const auto language_accepts = *encode_count_language(ctx, language.machine(), n);
  solver.add(circuit_accepts != language_accepts);

  SolverAnswer answer;
  // The shortest: tighten the length bound while a difference remains.
  auto counts_of = [&](const z3::model& model) {
    std::vector<long> counts;
    for (const auto& v : n) counts.push_back(model.eval(v, true).get_numeral_int64());
    return counts;
  };
  std::optional<std::vector<long>> best;
  long shortest = 0;
  // --timeout is a promise for the whole search: every check gets what is left of it.
  const auto start = std::chrono::steady_clock::now();
  auto check = [&]() -> z3::check_result {
    if (timeout_seconds > 0) {
      // Once a difference is known, the search for the least one stops at 90% of the time, so
      // that the child answers before it is killed at the deadline (as least_word does).
      const double left =
          (best ? 0.9 : 1.0) * timeout_seconds -
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (left <= 0) return z3::unknown;
      set_timeout(ctx, solver, left);
    }
    return solver.check();
  };
  solver.push();
  while (true) {
    const auto r = check();
    if (r == z3::unknown) {
      if (best) break;  // a difference is known; report the shortest found
      return {SolverAnswer::unknown, {}, solver.reason_unknown()};
    }
    if (r == z3::unsat) break;
    best = counts_of(solver.get_model());
    shortest = 0;
    for (long c : *best) shortest += c;
    solver.add(length < static_cast<int>(shortest));
  }
  solver.pop();
  if (!best) return {SolverAnswer::unsat, {}, ""};
  answer.kind = SolverAnswer::sat;
  // Canonical: both sides depend on the counts only, so every arrangement of a counterexample
  // is one, and the least word of the shortest length in symbol order is a sorted one with the
  // most of symbol 0, then of symbol 1, ...: raise each count while a difference remains.
  solver.add(length == static_cast<int>(shortest));
  // Each count by bisection between the best model's and the length: O(k log L) checks.
  for (int s = 0; s + 1 < k && answer.canonical; ++s) {
    long lo = (*best)[s], hi = shortest;  // a difference has n_s = lo; none has n_s > hi
    while (lo < hi && answer.canonical) {
      const long mid = lo + (hi - lo + 1) / 2;
      solver.push();
      solver.add(n[s] >= static_cast<int>(mid));
      const auto r = check();
      if (r == z3::sat) best = counts_of(solver.get_model());
      solver.pop();
      if (r == z3::sat)
        lo = (*best)[s];
      else if (r == z3::unsat)
        hi = mid - 1;
      else
        answer.canonical = false;
    }
    solver.add(n[s] == static_cast<int>((*best)[s]));
  }
  for (int s = 0; s < k; ++s)
    for (long i = 0; i < (*best)[s]; ++i) answer.word.push_back(static_cast<Symbol>(s));
  return answer;
}

}  // namespace saturn::verify
