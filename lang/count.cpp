#include "lang/count.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"

namespace saturn {

namespace {
const BigInt kZero = 0;

// Bytes a table entry holds: the key, the big integer's limbs, the hash node.
std::size_t entry_bytes(const Key& key, const BigInt& value) {
  const std::size_t limbs = value.backend().size();
  return key.size() * sizeof(std::int64_t) + limbs * sizeof(std::uint64_t) + 96;
}
}  // namespace

std::size_t KeyHash::operator()(const Key& k) const noexcept {
  // Each word through the splitmix64 finaliser: small, nearby integers (counter values,
  // stack heights, remaining lengths) land in unrelated buckets.
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ k.size();
  for (auto v : k) {
    std::uint64_t x = h ^ static_cast<std::uint64_t>(v);
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    h = x ^ (x >> 31);
  }
  return static_cast<std::size_t>(h);
}

CountTable::CountTable(std::shared_ptr<const Language> language, std::size_t max_entries)
    : language_(std::move(language)),
      max_entries_(max_entries),
      all_(all_symbols(language_->alphabet().size())) {}

const BigInt& CountTable::power(int r) {
  if (r < 0) throw InputError(fmt::format("negative length {}", r));
  // One cached power, moved by one multiplication or exact division when the next request is
  // a neighbour (unranking walks r = n-1, n-2, ..., 0): O(n) words of memory, not O(n^2).
  const int k = language_->alphabet().size();
  if (power_exponent_ < 0) power_ = 1, power_exponent_ = 0;
  if (r == power_exponent_ + 1) {
    power_ *= k;
  } else if (r == power_exponent_ - 1) {
    power_ /= k;
  } else if (r != power_exponent_) {
    power_ = boost::multiprecision::pow(BigInt(k), static_cast<unsigned>(r));
  }
  power_exponent_ = r;
  return power_;
}

const BigInt& CountTable::accepted(int n) {
  check_length(n);
  return count(language_->runner().start(), n);
}

void CountTable::check_length(int n) {
  const Config start = language_->runner().start();
  if (n < 0) throw InputError(fmt::format("negative length {}", n));
  // Sizing a table costs about as much as building it: it is done for long lengths only, and
  // again only when the length has grown by a quarter since (the entry and memory checks made
  // while the table grows cover the rest, only more slowly).
  if (n >= kPredictFrom && n > predicted_length_ + predicted_length_ / 4 && !lookup(start, n)) {
    predict(start, n);
    predicted_length_ = n;
  }
}

void CountTable::predict(const Config& start, int n) {
  // The depth-first count creates one entry per alive key reachable at each depth: the same
  // keys a breadth-first walk over layers finds (with one representative configuration per
  // key), but without big integers. So the table's size is known before it is built, and a
  // length it cannot reach is refused at once instead of after filling the memory.
  const Machine& m = language_->machine();
  const int k = language_->alphabet().size();
  const double bits_per_symbol = std::log2(static_cast<double>(k));
  std::vector<Config> layer{start}, next_layer;
  std::unordered_set<Key, KeyHash> seen;
  double entries = static_cast<double>(memo_.size()) + 1, bytes = static_cast<double>(bytes_);
  Progress progress(fmt::format("{}: sizing the count table for length {}", language_->name(), n));
  // Throws when the table (`table_entries`, `table_bytes`), or the walk itself (its layers and
  // their keys, `held` bytes), would exceed the budgets.
  auto check = [&](double table_entries, double table_bytes, double held) {
    if (table_entries > static_cast<double>(max_entries_))
      throw LimitError(fmt::format(
          "--table-limit: {}: the exact count table for length {} needs more than {} entries "
          "(this language's configuration space is too large for exact counting and sampling "
          "at this length)",
          language_->name(), n, max_entries_));
    if (table_bytes + held > static_cast<double>(memory_budget()))
      require_memory(table_bytes + held, "--table-limit",
                     fmt::format("{}: the exact count table for length {} ({:.3g} entries and "
                                 "more, counts of up to {:.0f} bits)",
                                 language_->name(), n, table_entries, n * bits_per_symbol));
  };
  // Bytes a configuration of the walk holds, with its key in the `seen` set.
  auto held_bytes = [](const Config& c, const Key& key) {
    double b = sizeof(Config) + 8.0 * static_cast<double>(c.regs.size() + key.size()) + 96;
    for (const auto& st : c.stacks) b += 24 + sizeof(Symbol) * static_cast<double>(st.size());
    return b;
  };
  double layer_bytes = 0;
  for (int t = 1; t <= n && !layer.empty(); ++t) {
    const int r = n - t;
    next_layer.clear();
    seen.clear();
    double next_bytes = 0;
    for (const Config& c : layer)
      for (int s = 0; s < k; ++s) {
        Config next = c;
        m.step(next, static_cast<Symbol>(s));
        key_.clear();
        if (!m.key(next, r, all_, /*count_only=*/true, key_)) continue;
        if (!seen.insert(key_).second) continue;
        next_bytes += held_bytes(next, key_);
        next_layer.push_back(std::move(next));
        // Languages whose keys are the values read (binary arithmetic) double each layer:
        // checked while the layer grows, not only once it is complete.
        if ((next_layer.size() & 0xFFFF) == 0)
          check(entries + static_cast<double>(next_layer.size()), bytes, layer_bytes + next_bytes);
      }
    entries += static_cast<double>(next_layer.size());
    // An entry holds a key, a hash node and a count below |Σ|^r: an upper bound, close for
    // dense languages (majority, Dyck), loose for sparse ones (a^n b^n, whose counts are 0 or
    // 1), which the entry limit catches first.
    bytes += static_cast<double>(next_layer.size()) *
             (96.0 + 8.0 * (static_cast<double>(key_.size()) + 1) + r * bits_per_symbol / 8);
    check(entries, bytes, next_bytes);
    progress.update(t, n);
    std::swap(layer, next_layer);
    layer_bytes = next_bytes;
  }
}

const BigInt& CountTable::accepted_from(const Config& c, int remaining) {
  if (remaining < 0) throw InputError(fmt::format("negative length {}", remaining));
  return count(c, remaining);
}

const BigInt* CountTable::lookup(const Config& c, int r) {
  key_.clear();
  if (!language_->machine().key(c, r, all_, /*count_only=*/true, key_)) return &kZero;
  key_.push_back(r);
  auto it = memo_.find(key_);
  return it == memo_.end() ? nullptr : &it->second;
}

const BigInt& CountTable::count(const Config& start, int r0) {
  if (const BigInt* known = lookup(start, r0)) return *known;
  // Depth-first over (configuration, remaining) with an explicit stack: the depth is the word
  // length, which may be 10^5 and more. Frames are reused across calls, so that their
  // configurations and keys keep their capacity (no allocation per step once warm).
  const Machine& m = language_->machine();
  const int k = language_->alphabet().size();
  std::size_t top = 0;  // frames_[0, top) are live
  auto push = [&](const Config& c, int r) {
    if (top == frames_.size()) frames_.emplace_back();
    Frame& f = frames_[top++];
    f.c = c;
    f.key = key_;
    f.r = r;
    f.next_symbol = 0;
    f.total = 0;
  };
  push(start, r0);
  const BigInt* result = nullptr;
  long steps = 0;
  while (top > 0) {
    if ((++steps & 0xffff) == 0) check_interrupt();
    Frame& f = frames_[top - 1];
    if (f.r > 0 && f.next_symbol < k) {
      next_ = f.c;
      m.step(next_, static_cast<Symbol>(f.next_symbol++));
      if (const BigInt* known = lookup(next_, f.r - 1))
        f.total += *known;
      else
        push(next_, f.r - 1);  // f may be invalid from here on
      continue;
    }
    if (f.r == 0) f.total = m.accepting(f.c) ? 1 : 0;
    if (memo_.size() >= max_entries_)
      throw LimitError(fmt::format(
          "--table-limit: {}: the exact count table exceeds {} entries (at {} symbols "
          "remaining): this language's configuration space is too large for exact counting and "
          "sampling at this length",
          language_->name(), max_entries_, f.r));
    bytes_ += entry_bytes(f.key, f.total);
    if (static_cast<double>(bytes_) > static_cast<double>(memory_budget()))
      require_memory(static_cast<double>(bytes_), "--table-limit",
                     fmt::format("{}: the exact count table (at {} symbols remaining)",
                                 language_->name(), f.r));
    result = &memo_.emplace(std::move(f.key), std::move(f.total)).first->second;
    --top;
    if (top > 0) frames_[top - 1].total += *result;
  }
  return *result;
}

BigInt count_accepted_words(const Language& language, int n) {
  if (n < 0) throw InputError(fmt::format("negative length {}", n));
  const Dfa& dfa = *language.dfa();
  const int states = dfa.num_states(), k = dfa.num_symbols();
  // at[q] = accepted words of length r from state q, for r = 0, 1, ..., n: two layers.
  std::vector<BigInt> at(states), next(states);
  for (int q = 0; q < states; ++q) at[q] = dfa.accepting(q) ? 1 : 0;
  std::vector<StateId> delta(static_cast<std::size_t>(states) * k);
  for (int q = 0; q < states; ++q)
    for (int s = 0; s < k; ++s) delta[static_cast<std::size_t>(q) * k + s] = dfa.next(q, s);
  Progress progress(fmt::format("counting {} at length {}", language.name(), n));
  for (int r = 1; r <= n; ++r) {
    progress.update(r, n);
    for (int q = 0; q < states; ++q) {
      BigInt& sum = next[q];
      sum = 0;
      for (int s = 0; s < k; ++s)
        if (const StateId t = delta[static_cast<std::size_t>(q) * k + s]; t != kNoState)
          sum += at[t];
    }
    std::swap(at, next);
  }
  return at[dfa.start()];
}

}  // namespace saturn
