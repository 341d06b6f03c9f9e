#include "verify/equivalence.h"

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <thread>

#include "base/error.h"
#include "base/interrupt.h"
#include "saturate/exact_eval.h"
#include "verify/encode.h"
#include "verify/isolated.h"

namespace saturn::verify {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The reference's answer on one word: accept / reject, or nullopt (an undecided circuit).
class ReferenceEval {
 public:
  explicit ReferenceEval(const Reference& r) : ref_(r) {
    if (r.circuit) exact_ = std::make_unique<saturate::ExactEvaluator>(*r.circuit);
  }
  std::optional<bool> accepts(const Word& w) const {
    if (ref_.language) return ref_.language->accepts(w);
    const auto v = exact_->run(w);
    if (v.verdict == saturate::Verdict::undecided) return std::nullopt;
    return v.verdict == saturate::Verdict::accept;
  }

 private:
  const Reference& ref_;
  std::unique_ptr<saturate::ExactEvaluator> exact_;
};

long power(int k, int n, long cap) {
  long p = 1;
  for (int i = 0; i < n; ++i) {
    if (p > cap / std::max(1, k)) return cap + 1;
    p *= k;
  }
  return p;
}

Word decode(long index, int k, int n) {
  Word w(n);
  for (int t = n - 1; t >= 0; --t) w[t] = static_cast<Symbol>(index % k), index /= k;
  return w;
}

struct LengthResult {
  enum Kind { agree, differ, undecided, timeout, stopped } kind = agree;
  Word word;
  std::string reason;
  bool canonical = true;
};

// Every word of length n: the smallest (in symbol order) disagreement, else the first
// undecided word, else agreement.
LengthResult enumerate_length(const saturate::ExactEvaluator& exact, const ReferenceEval& ref,
                              int k, int n, Clock::time_point deadline, bool has_deadline,
                              const std::function<bool()>& stop = {}, int threads = 0) {
  const long total = power(k, n, std::numeric_limits<long>::max() / 2);
  std::atomic<long> first_differ{std::numeric_limits<long>::max()};
  std::atomic<long> first_undecided{std::numeric_limits<long>::max()};
  std::atomic<bool> out_of_time{false}, stopped{false};
  constexpr long kChunk = 4096;
  const long chunks = (total + kChunk - 1) / kChunk;
  // Chunks are handed out in increasing order from a shared counter, so a thread leaves as soon
  // as time is up or its chunk starts past a known disagreement (an omp for would still visit
  // each of up to 2^42 / 4096 chunks).
  std::atomic<long> next_chunk{0};
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
  {
    saturate::ExactEvaluator::Cache cache;  // consecutive words share prefixes
    while (true) {
      const long c = next_chunk.fetch_add(1);
      if (c >= chunks || out_of_time.load(std::memory_order_relaxed) ||
          stopped.load(std::memory_order_relaxed) || c * kChunk > first_differ.load())
        break;
      if ((has_deadline && Clock::now() > deadline) || interrupted()) {
        out_of_time = true;
        break;
      }
      if (stop && stop()) {
        stopped = true;
        break;
      }
      const long end = std::min(total, (c + 1) * kChunk);
      for (long i = c * kChunk; i < end; ++i) {
        // The deadline holds inside a chunk too: one word of a long length can take a
        // millisecond, a chunk seconds.
        if (i % 16 == 15 && ((has_deadline && Clock::now() > deadline) || interrupted())) {
          out_of_time = true;
          break;
        }
        const Word w = decode(i, k, n);
        const auto verdict = exact.verdict(w, cache);
        const auto expected = ref.accepts(w);
        if (verdict == saturate::Verdict::undecided || !expected) {
          long cur = first_undecided.load();
          while (i < cur && !first_undecided.compare_exchange_weak(cur, i)) {
          }
          continue;
        }
        if ((verdict == saturate::Verdict::accept) != *expected) {
          long cur = first_differ.load();
          while (i < cur && !first_differ.compare_exchange_weak(cur, i)) {
          }
          break;
        }
      }
    }
  }
  check_interrupt();
  LengthResult out;
  if (stopped) {
    out.kind = LengthResult::stopped;
    return out;
  }
  if (first_differ.load() != std::numeric_limits<long>::max()) {
    out.kind = LengthResult::differ;
    out.word = decode(first_differ.load(), k, n);
    out.canonical = !out_of_time;  // a chunk before it may not have been finished
  } else if (out_of_time) {
    out.kind = LengthResult::timeout;
  } else if (first_undecided.load() != std::numeric_limits<long>::max()) {
    out.kind = LengthResult::undecided;
    out.word = decode(first_undecided.load(), k, n);
    const auto r = exact.run(out.word);
    out.reason = r.verdict == saturate::Verdict::undecided ? r.reason : "the reference circuit";
  }
  return out;
}

std::string word_text(const Alphabet& a, const Word& w) {
  return w.empty() ? "\"\"" : a.format(w);
}

}  // namespace

Alphabet Reference::alphabet() const {
  return language ? language->alphabet() : circuit->alphabet;
}

Verdict check_equivalence(const saturate::Circuit& circuit, const Reference& reference,
                          const Options& options) {
  const auto t0 = Clock::now();
  const int M = options.min_length, N = options.max_length;
  if (N < 0) throw InputError(fmt::format("--max-length must be >= 0 (got {})", N));
  if (M < 0) throw InputError(fmt::format("--min-length must be >= 0 (got {})", M));
  if (N < M) throw InputError(fmt::format("--max-length {} is below --min-length {}", N, M));
  if (!(reference.alphabet() == circuit.alphabet))
    throw InputError(fmt::format("alphabet mismatch: the circuit reads {{{}}}, {} reads {{{}}}",
                                 fmt::join(circuit.alphabet.names(), ", "), reference.name,
                                 fmt::join(reference.alphabet().names(), ", ")));
  const auto& cfg = circuit.config;
  if ((cfg.positional == nets::Positional::learned ||
       cfg.positional == nets::Positional::sinusoidal) &&
      N > cfg.max_length)
    throw InputError(
        fmt::format("--max-length {}: the circuit has positions for words up to "
                    "length {} only",
                    N, cfg.max_length));
  const saturate::ExactEvaluator exact(circuit);
  const ReferenceEval ref(reference);
  const int k = circuit.alphabet.size();
  const bool has_deadline = options.timeout_seconds > 0;
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double>(has_deadline ? options.timeout_seconds : 0));
  const bool tty = options.progress && ::isatty(2);

  Verdict v;
  v.min_length = M;
  v.max_length = N;
  v.proved_up_to = M - 1;  // nothing yet
  auto finish = [&](Verdict::Kind kind) {
    v.kind = kind;
    if (kind == Verdict::equivalent) v.proved_up_to = N;
    v.seconds = since(t0);
    if (tty) fmt::print(stderr, "\r{:60}\r", "");
    return v;
  };
  // A counterexample is reported only after replaying it on both sides.
  auto counterexample = [&](const Word& w, const std::string& method, bool canonical = true) {
    const auto c = exact.run(w);
    const auto r = ref.accepts(w);
    if (c.verdict == saturate::Verdict::undecided || !r ||
        (c.verdict == saturate::Verdict::accept) == *r) {
      v.reason = fmt::format("{} reported {} but replaying it does not confirm a difference",
                             method, word_text(circuit.alphabet, w));
      v.method = method;
      return finish(Verdict::unknown);
    }
    v.word = w;
    v.canonical = canonical;
    // Lengths are checked in order (counts finds the shortest length too): every shorter
    // length agreed.
    v.proved_up_to = std::max(M, static_cast<int>(w.size())) - 1;
    v.circuit_accepts = c.verdict == saturate::Verdict::accept;
    v.reference_accepts = *r;
    v.method = method;
    return finish(Verdict::counterexample);
  };

  // counts: one query for all lengths.
  std::optional<std::string> counts_reason =
      reference.language ? counts_inapplicable(circuit, *reference.language)
                         : std::optional<std::string>("the reference is a circuit");
  if (options.method == Method::counts && counts_reason)
    throw InputError("--method counts does not apply: " + *counts_reason);
  if (!counts_reason && (options.method == Method::counts || options.method == Method::automatic)) {
    if (tty) fmt::print(stderr, "verify: lengths {}..{}, counts", M, N);
    const auto a = counts_differ(circuit, *reference.language, M, N, options.timeout_seconds);
    v.method = "counts";
    if (a.kind == SolverAnswer::unsat) return finish(Verdict::equivalent);
    if (a.kind == SolverAnswer::sat) return counterexample(a.word, "counts", a.canonical);
    v.reason = a.reason;
    return finish(Verdict::unknown);
  }

  // Length by length. auto: enumeration alone while a length has few words, smt alone when
  // enumeration is hopeless, and in between both at once, the first decisive answer winning
  // (each has at least half the machine, so auto is within about 2x of the faster).
  std::vector<std::string> methods_used;
  auto used = [&](const char* name) {
    if (std::find(methods_used.begin(), methods_used.end(), name) == methods_used.end())
      methods_used.push_back(name);
    v.method = fmt::format("{}", fmt::join(methods_used, "+"));
  };
  v.proved_up_to = M - 1;
  for (int n = M; n <= N; ++n) {
    check_interrupt();
    const long words = power(k, n, options.race_limit);
    enum class Plan { enumerate, smt, race } plan = Plan::race;
    if (options.method == Method::enumerate ||
        (options.method == Method::automatic && words <= options.enumerate_limit))
      plan = Plan::enumerate;
    else if (options.method == Method::smt || words > options.race_limit)
      plan = Plan::smt;
    // A race's smt child counts as one of the --threads: with one thread, enumeration alone.
    const int race_threads = omp_get_max_threads() - 1;
    if (plan == Plan::race && race_threads < 1) plan = Plan::enumerate;
    if (tty)
      fmt::print(stderr, "\rverify: length {}/{}, {}, {:.1f} s   ", n, N,
                 plan == Plan::race  ? "enumerate | smt"
                 : plan == Plan::smt ? "smt"
                                     : "enumerate",
                 since(t0));
    if (has_deadline && Clock::now() > deadline) {
      v.reason = fmt::format("timeout after {:.1f} s, before length {}", since(t0), n);
      return finish(Verdict::unknown);
    }
    const double left = has_deadline ? std::max(0.001, options.timeout_seconds - since(t0)) : 0.0;
    LengthResult r;
    std::optional<SolverAnswer> a;
    if (plan == Plan::enumerate) {
      r = enumerate_length(exact, ref, k, n, deadline, has_deadline);
    } else if (plan == Plan::smt) {
      try {
        a = smt_differs_at_length(circuit, reference.language.get(), reference.circuit.get(), n,
                                  left);
      } catch (const InputError& e) {
        // auto chose smt for a length too long to enumerate: what it cannot encode is not the
        // user's input error.
        if (options.method != Method::automatic) throw;
        v.reason = fmt::format(
            "length {} has too many words to enumerate and smt does not "
            "apply: {}",
            n, e.what());
        return finish(Verdict::unknown);
      }
    } else {
      // Both at once: smt in a child process, enumeration here; each stops the other.
      detail::IsolatedQuery query([&] {
        return smt_query_at_length(circuit, reference.language.get(), reference.circuit.get(), n,
                                   left);
      });
      std::atomic<int> smt_state{0};  // 0 running, 1 decisive, 2 no decisive answer
      std::atomic<bool> enumerated{false};
      SolverAnswer answer;
      std::exception_ptr failure;
      std::thread waiter([&] {
        try {
          answer = query.wait(left, [&] { return enumerated.load(); });
        } catch (...) {
          failure = std::current_exception();
        }
        smt_state = answer.kind != SolverAnswer::unknown ? 1 : 2;
      });
      try {
        r = enumerate_length(
            exact, ref, k, n, deadline, has_deadline, [&] { return smt_state.load() == 1; },
            race_threads);
      } catch (...) {
        enumerated = true;
        waiter.join();
        throw;
      }
      enumerated = true;
      waiter.join();
      if (failure) std::rethrow_exception(failure);
      // Enumeration's answer unless it was stopped, or could not decide where smt did.
      if (answer.kind != SolverAnswer::unknown &&
          (r.kind == LengthResult::stopped || r.kind == LengthResult::undecided ||
           r.kind == LengthResult::timeout))
        a = answer;
    }
    if (a) {
      used("smt");
      if (a->kind == SolverAnswer::sat) return counterexample(a->word, v.method, a->canonical);
      if (a->kind == SolverAnswer::unknown) {
        v.reason = fmt::format("solver unknown at length {}: {}", n, a->reason);
        return finish(Verdict::unknown);
      }
    } else {
      used("enumerate");
      if (r.kind == LengthResult::differ) return counterexample(r.word, v.method, r.canonical);
      if (r.kind == LengthResult::timeout || r.kind == LengthResult::stopped) {
        v.reason = fmt::format("timeout after {:.1f} s at length {}", since(t0), n);
        return finish(Verdict::unknown);
      }
      if (r.kind == LengthResult::undecided) {
        v.reason = fmt::format("undecided at length {}: {} ({})", n,
                               word_text(circuit.alphabet, r.word), r.reason);
        return finish(Verdict::unknown);
      }
    }
    v.proved_up_to = n;
  }
  return finish(Verdict::equivalent);
}

std::string describe(const Verdict& v, const saturate::Circuit& circuit,
                     const Reference& reference) {
  switch (v.kind) {
    case Verdict::equivalent:
      return fmt::format("equivalent up to length {} ({}, {:.2f} s)", v.max_length, v.method,
                         v.seconds);
    case Verdict::counterexample:
      return fmt::format("counterexample: {} (length {}): circuit says {}, {} says {}",
                         word_text(circuit.alphabet, v.word), v.word.size(),
                         v.circuit_accepts ? "accept" : "reject", reference.name,
                         v.reference_accepts ? "accept" : "reject");
    default:
      return fmt::format("unknown: {} ({})", v.reason,
                         v.proved_up_to >= v.min_length
                             ? fmt::format("proved up to length {}", v.proved_up_to)
                             : std::string("nothing proved"));
  }
}

}  // namespace saturn::verify
