#include "lang/shuffle.h"

#include <fmt/format.h>

#include "base/budget.h"

#include "lang/components.h"
#include "lang/regex.h"
#include "lang/sample.h"

namespace saturn {

ShuffleCounts::~ShuffleCounts() = default;

std::unique_ptr<ShuffleCounts> ShuffleCounts::try_make(
    const std::shared_ptr<const Language>& language, std::size_t max_entries) {
  const auto* all = dynamic_cast<const AllMachine*>(&language->machine());
  if (!all || all->parts().size() != 1) return nullptr;
  const auto* counts = dynamic_cast<const CountsMachine*>(all->parts()[0].get());
  if (!counts) return nullptr;
  auto split = counts->independent_parts();
  const Alphabet& alphabet = language->alphabet();
  std::vector<int> part_of(alphabet.size(), -1);
  for (std::size_t i = 0; i < split.size(); ++i)
    for (Symbol s : split[i].symbols) part_of[s] = static_cast<int>(i);
  std::vector<Symbol> free_symbols;
  for (int s = 0; s < alphabet.size(); ++s)
    if (part_of[s] < 0) free_symbols.push_back(static_cast<Symbol>(s));
  if (split.size() + (free_symbols.empty() ? 0 : 1) < 2) return nullptr;

  auto out = std::unique_ptr<ShuffleCounts>(new ShuffleCounts());
  auto sub_alphabet = [&](const std::vector<Symbol>& symbols) {
    std::vector<std::string> names;
    for (Symbol s : symbols) names.push_back(alphabet.name(s));
    return Alphabet(names);
  };
  auto add_part = [&](std::vector<Symbol> symbols, std::shared_ptr<Machine> machine) {
    Alphabet sub = sub_alphabet(symbols);
    auto lang =
        std::make_shared<Language>(language->name() + "/part", "", sub,
                                   std::make_shared<AllMachine>(std::vector{std::move(machine)}));
    out->parts_.push_back({std::move(symbols), std::make_unique<Sampler>(lang, max_entries)});
  };
  for (auto& part : split) {
    Alphabet sub = sub_alphabet(part.symbols);
    add_part(part.symbols, std::make_shared<CountsMachine>(part.whole, part.prefix, sub));
  }
  if (!free_symbols.empty()) {
    Alphabet sub = sub_alphabet(free_symbols);
    add_part(free_symbols, std::make_shared<DfaMachine>(compile_regex(".*", sub), "any word"));
    for (Symbol s : free_symbols) part_of[s] = static_cast<int>(split.size());
  }
  out->part_of_ = std::move(part_of);
  out->prefix_counts_.resize(out->parts_.size());
  return out;
}

namespace {

// Pascal's triangle to row n: n^2/2 entries of up to n bits.
void require_binomials(int n) {
  const double rows = n + 1.0;
  require_memory(rows * rows / 2 * 40 + rows * rows * rows / 48, "--lengths",
                 fmt::format("the binomial table of a shuffle up to length {}", n));
}

}  // namespace

void ShuffleCounts::check_length(int n) {
  if (static_cast<int>(binomials_.size()) <= n) require_binomials(n);
  for (auto& part : parts_) part.sampler->check_length(n);
}

const BigInt& ShuffleCounts::binomial(int n, int k) {
  if (static_cast<int>(binomials_.size()) <= n) require_binomials(n);
  while (static_cast<int>(binomials_.size()) <= n) {
    const int m = static_cast<int>(binomials_.size());
    std::vector<BigInt> row(m + 1, 1);
    for (int i = 1; i < m; ++i) row[i] = binomials_[m - 1][i - 1] + binomials_[m - 1][i];
    binomials_.push_back(std::move(row));
  }
  return binomials_[n][k];
}

const BigInt& ShuffleCounts::part_count(int i, int n) {
  return parts_[i].sampler->count_accepted(n);
}

const BigInt& ShuffleCounts::prefix_count(int j, int n) {
  auto& memo = prefix_counts_[j];
  if (static_cast<int>(memo.size()) <= n) memo.resize(n + 1);
  if (memo[n]) return *memo[n];
  BigInt total = 0;
  if (j == 0) {
    total = part_count(0, n);
  } else {
    for (int t = 0; t <= n; ++t) {
      const BigInt& c = part_count(j, t);
      if (c == 0) continue;
      total += binomial(n, t) * prefix_count(j - 1, n - t) * c;
    }
  }
  memo[n] = std::move(total);
  return *memo[n];
}

const BigInt& ShuffleCounts::accepted(int n) {
  return prefix_count(num_parts() - 1, n);
}

Word ShuffleCounts::unrank(int n, BigInt index) {
  return unrank_prefix(num_parts() - 1, n, std::move(index));
}

Word ShuffleCounts::unrank_prefix(int j, int n, BigInt index) {
  auto to_full = [&](int part, const Word& local) {
    Word w;
    for (Symbol s : local) w.push_back(parts_[part].symbols[s]);
    return w;
  };
  if (j == 0) return to_full(0, parts_[0].sampler->unrank_accepted(n, std::move(index)));
  for (int t = 0; t <= n; ++t) {
    const BigInt& c = part_count(j, t);
    if (c == 0) continue;
    const BigInt& rest = prefix_count(j - 1, n - t);
    BigInt weight = binomial(n, t) * rest * c;
    if (index >= weight) {
      index -= weight;
      continue;
    }
    // index = (positions * rest + rest_index) * c + part_index
    BigInt part_index = index % c;
    index /= c;
    BigInt rest_index = index % rest;
    BigInt positions = index / rest;
    Word mine = to_full(j, parts_[j].sampler->unrank_accepted(t, std::move(part_index)));
    Word others = unrank_prefix(j - 1, n - t, std::move(rest_index));
    // The positions-th t-subset of [0, n) in lexicographic order holds part j's symbols.
    Word w;
    w.reserve(n);
    std::size_t a = 0, b = 0;
    int left = t;
    for (int p = 0; p < n; ++p) {
      bool take = false;
      if (left > 0) {
        const BigInt& with_p = binomial(n - p - 1, left - 1);
        if (positions < with_p)
          take = true;
        else
          positions -= with_p;
      }
      if (take) {
        w.push_back(mine[a++]);
        --left;
      } else {
        w.push_back(others[b++]);
      }
    }
    return w;
  }
  return {};  // index out of range: not reached for index < accepted(n)
}

bool ShuffleCounts::can_complete_within(const Word& w, int budget) {
  // Parts are independent: the shortest completion is the sum of each part's shortest.
  int needed = 0;
  for (int i = 0; i < num_parts(); ++i) {
    const Language& part = parts_[i].sampler->language();
    Config c = part.runner().start();
    for (Symbol s : w)
      if (part_of_[s] == i) {
        auto local = std::find(parts_[i].symbols.begin(), parts_[i].symbols.end(), s) -
                     parts_[i].symbols.begin();
        part.runner().step(c, static_cast<Symbol>(local));
      }
    int shortest = -1;
    for (int len = 0; len <= budget - needed && shortest < 0; ++len)
      if (parts_[i].sampler->table().accepted_from(c, len) > 0) shortest = len;
    if (shortest < 0) return false;
    needed += shortest;
  }
  return needed <= budget;
}

}  // namespace saturn
