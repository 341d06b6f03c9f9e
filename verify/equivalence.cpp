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
#include "lang/words.h"
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
  const long total = count_words(k, n, std::numeric_limits<long>::max() / 2);
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
        const Word w = word_at(i, k, n);
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
    out.word = word_at(first_differ.load(), k, n);
    out.canonical = !out_of_time;  // a chunk before it may not have been finished
  } else if (out_of_time) {
    out.kind = LengthResult::timeout;
  } else if (first_undecided.load() != std::numeric_limits<long>::max()) {
    out.kind = LengthResult::undecided;
    out.word = word_at(first_undecided.load(), k, n);
    const auto r = exact.run(out.word);
    out.reason = r.verdict == saturate::Verdict::undecided ? r.reason : "the reference circuit";
  }
  return out;
}

// auto's choice for each length, from a cost estimate of each method (issue 23 §2).
//   enumerate: rate × words × positions × layers. The rate (seconds per word × position ×
//     layer) is measured on this run's own enumerated lengths (those that took 2 ms or more:
//     shorter ones are mostly fixed costs), which come first and are cheap; until then it is
//     kEnumerateRate.
//   smt: never below kSmtFloor (a forked child, a Z3 context and the encoding), nor below its
//     time at a shorter length (queries grow with the length). Once smt has answered a length m
//     in t_m, its estimate at n is t_m × g^(n - m), with g its growth per length measured
//     between the last two lengths it answered (kSmtGrowth until there are two), in [1, 3].
// Plan: enumerate alone while its estimate is within twice smt's lower bound (then it is
// within 2x of the faster method, while a race, enumeration on one thread fewer beside smt's
// child, costs about 2x itself: measured 2.8x on dyck1 to 18 when the bound was half); smt alone
// once its estimate is below a quarter of enumeration's (or past race_limit words); both at once in
// between, each with at least half the machine, so within about 2× of the faster. Without an smt
// answer measured in this run, smt is never chosen alone below race_limit: a race is the safe
// choice when nothing is known. Source numbers: per-length runs `verify C --min-length n
// --max-length n --method M --json` (its `seconds`) on examples/circuits, 2 cores shared with 4
// compiling engineers (2026-12-05):
//   enumerate, seconds per word × position × layer at n = 14, 16: anbn (2 layers) 2.6e-6,
//     2.2e-6; dyck1 (2 layers) 1.0e-6, 1.2e-6; first (1 layer) 5.7e-8 at 16. kEnumerateRate is
//     the fast end: a guess too fast is corrected at the first length that takes 2 ms (the
//     lengths before cost less than that each), while a guess too slow made auto race smt at
//     lengths enumeration decides in milliseconds (a trained majority circuit: 2.2× slower
//     than enumeration alone, bench/verify_auto.sh).
//   smt per length: 0.25-0.59 s at n <= 8 on every circuit under that load; 0.04 s on a quiet
//     machine (bench/RESULTS.md, 2026-11-30: first, lengths 0..20 in 0.82 s): kSmtFloor.
//     Growth per length: anbn 0.55, 0.64, 0.69 s at 12, 14, 16 (1.06); first flat (1.0);
//     dyck1 1.76, 9.17 s at 12, 14 (2.3). kSmtGrowth = 2 until measured.
class AutoPlanner {
 public:
  static constexpr double kEnumerateRate = 5e-8;
  static constexpr double kSmtFloor = 0.04;
  static constexpr double kSmtGrowth = 2.0;
  enum class Plan { enumerate, smt, race };

  AutoPlanner(int layers, long race_limit) : layers_(layers), race_limit_(race_limit) {}

  Plan choose(int n, long words) const {
    if (words > race_limit_) return Plan::smt;  // enumeration is hopeless
    const double enumerate = rate_ * static_cast<double>(words) * (n + 2) * layers_;
    // smt at a longer length takes at least as long as it ran at a shorter one (smt_seen_): when
    // enumeration alone is estimated within twice that, it is within 2x of the faster method,
    // and racing (enumeration on one thread fewer, beside the child) would cost about 2x.
    if (enumerate <= 2.0 * std::max(kSmtFloor, smt_seen_)) return Plan::enumerate;
    if (answered_.size() >= 1) {
      const auto [m, t] = answered_.back();
      double growth = kSmtGrowth;
      if (answered_.size() >= 2) {
        const auto [m0, t0] = answered_[answered_.size() - 2];
        growth = std::clamp(std::pow(t / t0, 1.0 / (m - m0)), 1.0, 3.0);
      }
      if (4 * t * std::pow(growth, n - m) <= enumerate) return Plan::smt;
    }
    return Plan::race;
  }
  // Enumeration finished length n in `seconds` on `used` of the command's `threads` (fewer
  // beside smt's child): the rate is scaled to all of them, as enumeration alone would run.
  void enumerated(int n, long words, double seconds, int used, int threads) {
    if (seconds >= 0.002)
      rate_ = seconds * used / threads / (static_cast<double>(words) * (n + 2) * layers_);
  }
  // smt answered length n in `seconds`, or (answered = false) was stopped after `seconds`.
  void smt_ran(int n, double seconds, bool answered) {
    smt_seen_ = std::max(smt_seen_, seconds);
    if (answered) answered_.emplace_back(n, std::max(seconds, kSmtFloor));
  }

 private:
  int layers_;
  long race_limit_;
  double rate_ = kEnumerateRate;
  double smt_seen_ = 0;                           // the longest smt ran at any length so far
  std::vector<std::pair<int, double>> answered_;  // (length, seconds) smt answered
};

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
  if (!counts_reason && options.method == Method::counts) {
    if (tty) fmt::print(stderr, "verify: lengths {}..{}, counts", M, N);
    const double left = has_deadline ? std::max(0.001, options.timeout_seconds - since(t0)) : 0.0;
    const auto a = counts_differ(circuit, *reference.language, M, N, left);
    v.method = "counts";
    if (a.kind == SolverAnswer::unsat) return finish(Verdict::equivalent);
    if (a.kind == SolverAnswer::sat) return counterexample(a.word, "counts", a.canonical);
    v.reason = a.reason;
    return finish(Verdict::unknown);
  }

  const std::optional<std::string> smt_reason = smt_inapplicable(circuit, reference.circuit.get());

  // Length by length (`stop`: auto's counts query has answered; nullopt when it stopped them).
  // auto: each length by its cost estimate (AutoPlanner).
  // Threads the lengths may use: all of --threads, or one fewer beside auto's counts child.
  int length_threads = omp_get_max_threads();
  auto by_length = [&](const std::function<bool()>& stop) -> std::optional<Verdict> {
    std::vector<std::string> methods_used;
    auto used = [&](const char* name) {
      if (std::find(methods_used.begin(), methods_used.end(), name) == methods_used.end())
        methods_used.push_back(name);
      v.method = fmt::format("{}", fmt::join(methods_used, "+"));
    };
    v.proved_up_to = M - 1;
    using Plan = AutoPlanner::Plan;
    AutoPlanner planner(cfg.n_layers, options.race_limit);
    for (int n = M; n <= N; ++n) {
      check_interrupt();
      if (stop && stop()) return std::nullopt;
      const long words = count_words(k, n, options.race_limit);
      Plan plan = options.method == Method::enumerate ? Plan::enumerate
                  : options.method == Method::smt     ? Plan::smt
                                                      : planner.choose(n, words);
      // Where smt does not apply (sparsemax), auto enumerates; too many words is `unknown`.
      if (smt_reason && options.method == Method::automatic && plan != Plan::enumerate) {
        if (words > options.race_limit) {
          v.reason =
              fmt::format("length {} has too many words to enumerate and smt does not apply: {}", n,
                          *smt_reason);
          return finish(Verdict::unknown);
        }
        plan = Plan::enumerate;
      }
      // A race's smt child counts as one of the --threads: with one thread, enumeration alone.
      const int race_threads = length_threads - 1;
      if (plan == Plan::race && race_threads < 1) plan = Plan::enumerate;
      const auto length_start = Clock::now();
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
        r = enumerate_length(exact, ref, k, n, deadline, has_deadline, stop, length_threads);
        if (r.kind == LengthResult::agree)
          planner.enumerated(n, words, since(length_start), length_threads, length_threads);
      } else if (plan == Plan::smt) {
        try {
          a = smt_differs_at_length(circuit, reference.language.get(), reference.circuit.get(), n,
                                    left);
          planner.smt_ran(n, since(length_start), a->kind != SolverAnswer::unknown);
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
        double smt_seconds = 0;
        std::thread waiter([&] {
          try {
            answer = query.wait(left, [&] { return enumerated.load(); });
          } catch (...) {
            failure = std::current_exception();
          }
          smt_seconds = since(length_start);
          smt_state = answer.kind != SolverAnswer::unknown ? 1 : 2;
        });
        try {
          r = enumerate_length(
              exact, ref, k, n, deadline, has_deadline,
              [&] { return smt_state.load() == 1 || (stop && stop()); }, race_threads);
        } catch (...) {
          enumerated = true;
          waiter.join();
          throw;
        }
        const double enumerate_seconds = since(length_start);
        enumerated = true;
        waiter.join();
        if (failure) std::rethrow_exception(failure);
        if (r.kind == LengthResult::agree)
          planner.enumerated(n, words, enumerate_seconds, race_threads, length_threads);
        planner.smt_ran(n, smt_seconds, answer.kind != SolverAnswer::unknown);
        // Enumeration's answer unless it was stopped, or could not decide where smt did.
        if (answer.kind != SolverAnswer::unknown &&
            (r.kind == LengthResult::stopped || r.kind == LengthResult::undecided ||
             r.kind == LengthResult::timeout))
          a = answer;
      }
      if (!a && r.kind == LengthResult::stopped && stop && stop()) return std::nullopt;
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
  };
  if (counts_reason || options.method != Method::automatic) return *by_length({});

  // auto where counts applies: the counts query (every length at once, in a child process)
  // races the lengths one by one; the first decisive answer wins. counts is fastest on the
  // constructions (0.04 s for majority up to 16) but took 15 s on a trained majority circuit
  // that enumeration proves in 1 s (bench/verify_auto.sh), and its cost cannot be estimated
  // before Z3 runs.
  const double left = has_deadline ? std::max(0.001, options.timeout_seconds - since(t0)) : 0.0;
  if (length_threads < 2) {
    // One thread (--threads 1): counts first, as a child process that is the one thread; the
    // lengths one by one only where it has no decisive answer.
    const SolverAnswer alone = detail::run_isolated(
        left, [&] { return counts_query(circuit, *reference.language, M, N, left); });
    v.method = "counts";
    if (alone.kind == SolverAnswer::unsat) return finish(Verdict::equivalent);
    if (alone.kind == SolverAnswer::sat)
      return counterexample(alone.word, "counts", alone.canonical);
    return *by_length({});
  }
  length_threads -= 1;  // the counts child is one of them
  detail::IsolatedQuery query(
      [&] { return counts_query(circuit, *reference.language, M, N, left); });
  std::atomic<int> counts_state{0};  // 0 running, 1 decisive, 2 no decisive answer
  std::atomic<bool> lengths_done{false};
  SolverAnswer answer;
  std::exception_ptr failure;
  std::thread waiter([&] {
    try {
      answer = query.wait(left, [&] { return lengths_done.load(); });
    } catch (...) {
      failure = std::current_exception();
    }
    counts_state = answer.kind != SolverAnswer::unknown ? 1 : 2;
  });
  std::optional<Verdict> by_lengths;
  try {
    by_lengths = by_length([&] { return counts_state.load() == 1; });
  } catch (...) {
    lengths_done = true;
    waiter.join();
    throw;
  }
  lengths_done = true;
  waiter.join();
  if (failure) std::rethrow_exception(failure);
  if (by_lengths) return *by_lengths;
  v.method = "counts";
  if (answer.kind == SolverAnswer::unsat) return finish(Verdict::equivalent);
  return counterexample(answer.word, "counts", answer.canonical);
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
