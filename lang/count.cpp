#include "lang/count.h"

#include <fmt/format.h>

#include "base/error.h"

namespace saturn {

namespace {
const BigInt kZero = 0;
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
  if (powers_.empty()) powers_.push_back(1);
  while (static_cast<int>(powers_.size()) <= r)
    powers_.push_back(powers_.back() * language_->alphabet().size());
  return powers_[r];
}

const BigInt& CountTable::accepted_from(const Config& c, int remaining) {
  if (remaining < 0) throw InputError(fmt::format("negative length {}", remaining));
  if (static_cast<int>(scratch_.size()) <= remaining) scratch_.resize(remaining + 1, c);
  return count(c, remaining);
}

const BigInt& CountTable::count(const Config& c, int r) {
  const Machine& m = language_->machine();
  key_.clear();
  if (!m.key(c, r, all_, /*count_only=*/true, key_)) return kZero;
  key_.push_back(r);
  if (auto it = memo_.find(key_); it != memo_.end()) return it->second;
  if (memo_.size() >= max_entries_)
    throw LimitError(
        fmt::format("{}: exact count table exceeds {} entries (at {} symbols remaining); this "
                    "language's configuration space "
                    "is too large for exact counting and sampling at this length",
                    language_->name(), max_entries_, r));
  Key here = key_;  // key_ is reused by the recursion
  BigInt total = 0;
  if (r == 0) {
    total = m.accepting(c) ? 1 : 0;
  } else {
    Config& next = scratch_[r];
    for (int s = 0; s < language_->alphabet().size(); ++s) {
      next = c;
      m.step(next, static_cast<Symbol>(s));
      total += count(next, r - 1);
    }
  }
  return memo_.emplace(std::move(here), std::move(total)).first->second;
}

}  // namespace saturn
