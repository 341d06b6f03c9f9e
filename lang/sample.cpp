#include "lang/sample.h"

#include <fmt/format.h>

#include "base/error.h"

namespace saturn {

void check_table_limit(long long entries) {
  if (entries < 1 || entries > 10'000'000'000LL)
    throw InputError(fmt::format("--table-limit: expected 1..10^10 entries (got {})", entries));
}

BigInt count_words_of_length(std::shared_ptr<const Language> language, int n, bool rejected,
                             long long table_limit) {
  if (n < 0) throw InputError(fmt::format("--length: must be >= 0 (got {})", n));
  check_table_limit(table_limit);
  if (language->dfa()) {
    const BigInt accepted = count_accepted_words(*language, n);
    if (!rejected) return accepted;
    return boost::multiprecision::pow(BigInt(language->alphabet().size()),
                                      static_cast<unsigned>(n)) -
           accepted;
  }
  Sampler counts(std::move(language), static_cast<std::size_t>(table_limit));
  return rejected ? counts.count_rejected(n) : counts.count_accepted(n);
}

BigInt uniform_below(Rng& rng, const BigInt& bound) {
  const unsigned bits = boost::multiprecision::msb(bound) + 1;
  while (true) {
    BigInt x = 0;
    for (unsigned got = 0; got < bits; got += 64) x = (x << 64) | BigInt(rng());
    x >>= ((bits + 63) / 64) * 64 - bits;  // keep exactly `bits` random bits
    if (x < bound) return x;
  }
}

Sampler::Sampler(std::shared_ptr<const Language> language, std::size_t max_entries)
    : table_(language, max_entries), shuffle_(ShuffleCounts::try_make(language, max_entries)) {}

Sampler::~Sampler() = default;

const BigInt& Sampler::count_accepted(int n) {
  if (n < 0) throw InputError(fmt::format("negative length {}", n));
  return shuffle_ ? shuffle_->accepted(n) : table_.accepted(n);
}

void Sampler::check_length(int n) {
  if (n < 0) throw InputError(fmt::format("negative length {}", n));
  if (shuffle_)
    shuffle_->check_length(n);
  else
    table_.check_length(n);
}

Word Sampler::unrank(int n, BigInt index, bool want_accepted) {
  if (shuffle_ && want_accepted) return shuffle_->unrank(n, std::move(index));
  const Language& lang = table_.language();
  const int k = lang.alphabet().size();
  candidates_.resize(k);
  Word word;
  word.reserve(n);
  Config c = lang.runner().start();
  for (int i = 0; i < n; ++i) {
    const int r = n - i - 1;
    for (int s = 0; s < k; ++s) {
      Config& next = candidates_[s];
      next = c;
      lang.runner().step(next, static_cast<Symbol>(s));
      const BigInt& acc = table_.accepted_from(next, r);
      // Words below this branch, of the class we want (no copy in the common accepted case).
      if (!want_accepted) rejected_weight_ = table_.power(r) - acc;
      const BigInt& weight = want_accepted ? acc : rejected_weight_;
      if (index < weight || s == k - 1) {
        word.push_back(static_cast<Symbol>(s));
        std::swap(c, next);
        break;
      }
      index -= weight;
    }
  }
  return word;
}

Word Sampler::unrank_accepted(int n, BigInt index) {
  return unrank(n, std::move(index), true);
}
Word Sampler::unrank_rejected(int n, BigInt index) {
  return unrank(n, std::move(index), false);
}

std::optional<Word> Sampler::accepted(int n, Rng& rng) {
  const BigInt& total = count_accepted(n);
  if (total == 0) return std::nullopt;
  return unrank(n, uniform_below(rng, total), true);
}

std::optional<Word> Sampler::rejected(int n, Rng& rng) {
  BigInt total = count_rejected(n);
  if (total == 0) return std::nullopt;
  if (shuffle_ && 2 * total >= table_.power(n)) {
    // Most words are rejected: a uniform word, redrawn while accepted, is an exact uniform
    // rejected word (fewer than 2 draws expected), without the joint table a walk would need.
    const Language& lang = table_.language();
    std::uniform_int_distribution<int> symbol(0, lang.alphabet().size() - 1);
    Word w(n);
    do {
      for (auto& s : w) s = static_cast<Symbol>(symbol(rng));
    } while (lang.accepts(w));
    return w;
  }
  return unrank(n, uniform_below(rng, total), false);
}

std::optional<Word> Sampler::near_miss(int n, Rng& rng, int max_tries) {
  const Language& lang = table_.language();
  const int k = lang.alphabet().size();
  // Edit kinds possible at length n, with the length of the accepted word they start from.
  std::vector<std::pair<EditKind, int>> kinds;
  auto has_positive = [&](int len) { return len >= 0 && count_accepted(len) > 0; };
  if (n >= 1 && k >= 2 && has_positive(n)) kinds.emplace_back(EditKind::substitute, n);
  if (n >= 2 && k >= 2 && has_positive(n)) kinds.emplace_back(EditKind::swap, n);
  if (n >= 1 && has_positive(n - 1)) kinds.emplace_back(EditKind::insert, n - 1);
  if (has_positive(n + 1)) kinds.emplace_back(EditKind::remove, n + 1);
  if (kinds.empty()) return std::nullopt;
  auto below = [&](std::uint64_t m) {
    return std::uniform_int_distribution<std::uint64_t>(0, m - 1)(rng);
  };
  for (int attempt = 0; attempt < max_tries; ++attempt) {
    auto [kind, len] = kinds[below(kinds.size())];
    Word w = *accepted(len, rng);
    switch (kind) {
      case EditKind::substitute: {
        auto i = below(w.size());
        auto s = below(k - 1);  // a symbol other than w[i]
        w[i] = static_cast<Symbol>(s >= w[i] ? s + 1 : s);
        break;
      }
      case EditKind::swap: {
        auto i = below(w.size() - 1);
        std::swap(w[i], w[i + 1]);
        break;
      }
      case EditKind::insert: {
        auto i = below(w.size() + 1);
        w.insert(w.begin() + static_cast<std::ptrdiff_t>(i), static_cast<Symbol>(below(k)));
        break;
      }
      case EditKind::remove:
        w.erase(w.begin() + static_cast<std::ptrdiff_t>(below(w.size())));
        break;
    }
    if (!lang.accepts(w)) return w;
  }
  return std::nullopt;
}

NextTargets Sampler::next_targets(const Word& w, int max_length) {
  const Language& lang = table_.language();
  const int k = lang.alphabet().size();
  NextTargets out;
  Config c = lang.runner().start();
  Config next;
  for (std::size_t i = 0; i <= w.size(); ++i) {
    out.prefix_accepted.push_back(lang.runner().accepting(c));
    std::vector<Symbol> allowed;
    for (int s = 0; s < k; ++s) {
      const int budget = max_length - static_cast<int>(i) - 1;
      if (shuffle_) {
        Word extended(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(i));
        extended.push_back(static_cast<Symbol>(s));
        if (budget >= 0 && shuffle_->can_complete_within(extended, budget))
          allowed.push_back(static_cast<Symbol>(s));
        continue;
      }
      next = c;
      lang.runner().step(next, static_cast<Symbol>(s));
      for (int len = 0; len <= max_length - static_cast<int>(i) - 1; ++len)
        if (table_.accepted_from(next, len) > 0) {
          allowed.push_back(static_cast<Symbol>(s));
          break;
        }
    }
    out.next.push_back(std::move(allowed));
    if (i < w.size()) lang.runner().step(c, w[i]);
  }
  return out;
}

}  // namespace saturn
