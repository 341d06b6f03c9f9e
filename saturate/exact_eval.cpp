#include "saturate/exact_eval.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "base/error.h"
#include "saturate/exact_pass.h"
#include "saturate/interval_arith.h"

namespace saturn::saturate {

namespace {

using boost::multiprecision::mpz_int;
using detail::DoubleArith;
using detail::Pass;
using detail::PassCache;
using detail::RationalArith;
using detail::SmallRational;
using detail::SmallRationalArith;
using detail::Undecided;

template <class A>
ExactResult decide(const Circuit& circuit, const ExactEvaluator::Weights<typename A::Num>& weights,
                   const Word& word, PassCache<A>& cache, bool with_logit) {
  ExactResult result;
  try {
    const auto z = Pass<A>(circuit, weights, cache).logit(word);
    if (with_logit) result.logit = {A::to_rational(z.lo), A::to_rational(z.hi)};
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
  PassCache<DoubleArith> fast;
  PassCache<SmallRationalArith> small;
  PassCache<RationalArith> exact;
};
ExactEvaluator::Cache::Cache(bool many_words) : impl(std::make_unique<Impl>()) {
  impl->fast.many_words = impl->small.many_words = impl->exact.many_words = many_words;
}
ExactEvaluator::Cache::~Cache() = default;

ExactEvaluator::ExactEvaluator(const Circuit& circuit) : circuit_(circuit) {
  const auto& cfg = circuit_.config;
  require_softmax(cfg);
  if (cfg.ffn_activation != nets::Activation::relu)
    throw InputError("exact evaluation needs ffn_activation = relu (gelu is transcendental)");
  const Rational denominator = Rational(mpz_int(1) << circuit_.denominator_bits);
  bool small_fits = circuit_.denominator_bits <= 62;
  auto rational = std::make_shared<Weights<Rational>>();
  auto doubles = std::make_shared<Weights<double>>();
  auto small = std::make_shared<Weights<SmallRational>>();
  bool exact_doubles = true;
  for (const auto& [name, t] : circuit_.tensors) {
    Matrix<Rational> m;
    Matrix<double> d;
    Matrix<SmallRational> q;
    m.rows = d.rows = q.rows = t.shape.empty() ? 1 : t.shape[0];
    m.cols = d.cols = q.cols = t.shape.size() > 1 ? t.shape[1] : 1;
    for (long long x : t.numerators) {
      m.w.push_back(Rational(x) / denominator);
      exact_doubles = exact_doubles && std::llabs(x) < (1LL << 53);
      d.w.push_back(std::ldexp(static_cast<double>(x), -circuit_.denominator_bits));
      q.w.push_back(small_fits ? SmallRational(x, 1LL << circuit_.denominator_bits)
                               : SmallRational(0));
    }
    d.row_abs.assign(d.rows, 0.0);
    for (int r = 0; r < d.rows; ++r)
      for (int c = 0; c < d.cols; ++c)  // rounded up: the error bounds need an upper bound
        d.row_abs[r] =
            detail::add_up(d.row_abs[r], std::abs(d.w[static_cast<std::size_t>(r) * d.cols + c]));
    rational->by_name.emplace(name, std::move(m));
    doubles->by_name.emplace(name, std::move(d));
    small->by_name.emplace(name, std::move(q));
  }
  // Tolerances: numerators over 2^k like the weights.
  for (long long t : circuit_.tolerance) {
    const long long n = t == kUniform ? 0 : t;
    rational->tolerance.push_back(Rational(n) / denominator);
    doubles->tolerance.push_back(std::ldexp(static_cast<double>(n), -circuit_.denominator_bits));
    exact_doubles = exact_doubles && std::llabs(n) < (1LL << 53);
    small->tolerance.push_back(small_fits ? SmallRational(n, 1LL << circuit_.denominator_bits)
                                          : SmallRational(0));
    for (auto* u : {&rational->uniform, &doubles->uniform, &small->uniform})
      u->push_back(t == kUniform);
  }
  if (cfg.attention_sparsemax) {
    // Sparsemax is not scale-invariant: scores need attention_scale / sqrt(dh) (a double, so
    // a dyadic rational, over a square root that is exact when dh is a perfect square).
    const long dh = cfg.d_model / cfg.n_heads;
    const auto root = RationalArith::rsqrt_rational(RationalArith::point(Rational(dh)));
    const Rational scale(cfg.attention_scale);
    rational->sparsemax = doubles->sparsemax = small->sparsemax = true;
    rational->score_factor_lo = root.lo * scale;
    rational->score_factor_hi = root.hi * scale;
    const auto d =
        DoubleArith::scale(DoubleArith::rsqrt(DoubleArith::point(double(dh))), cfg.attention_scale);
    doubles->score_factor_lo = d.lo;
    doubles->score_factor_hi = d.hi;
    small_fits = small_fits && root.exact();
    if (small_fits) try {
        const mpz_int rd = boost::multiprecision::sqrt(mpz_int(dh));
        small->score_factor_lo = small->score_factor_hi =
            SmallRational(cfg.attention_scale) * SmallRational(1, rd.convert_to<long long>());
      } catch (const detail::Undecided&) {
        small_fits = false;
      }
  }
  rational->resolve(cfg.n_layers, cfg.n_heads, cfg.qk_norm);
  rational_ = rational;
  if (exact_doubles) doubles->resolve(cfg.n_layers, cfg.n_heads, cfg.qk_norm), double_ = doubles;
  if (small_fits && !cfg.has_norm_layers() && !cfg.qk_norm)
    small->resolve(cfg.n_layers, cfg.n_heads, cfg.qk_norm), small_ = small;
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
  Cache cache(false);
  return run(word, cache);
}

ExactResult ExactEvaluator::run(const Word& word, Cache& cache) const {
  return run(word, cache, true);
}

Verdict ExactEvaluator::verdict(const Word& word, Cache& cache) const {
  return run(word, cache, false).verdict;
}

ExactResult ExactEvaluator::run(const Word& word, Cache& cache, bool with_logit) const {
  check_word(word);
  if (double_) {
    ExactResult fast = decide<DoubleArith>(circuit_, *double_, word, cache.impl->fast, with_logit);
    if (fast.verdict != Verdict::undecided) return fast;
  }
  if (small_) {
    ExactResult small =
        decide<SmallRationalArith>(circuit_, *small_, word, cache.impl->small, with_logit);
    if (small.verdict != Verdict::undecided || small.reason.rfind("small rationals", 0) != 0)
      return small;
  }
  return decide<RationalArith>(circuit_, *rational_, word, cache.impl->exact, with_logit);
}

ExactResult ExactEvaluator::run_rational(const Word& word) const {
  check_word(word);
  PassCache<RationalArith> cache;
  cache.many_words = false;
  return decide<RationalArith>(circuit_, *rational_, word, cache, true);
}

}  // namespace saturn::saturate
