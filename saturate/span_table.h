// A hash table from sequences of 8-byte words (row ids, or a double row's bits) to ints, for
// the exact evaluator's interner and memo: keys live in one arena and slots in one open-
// addressing array, so an insertion allocates nothing but amortised growth and clearing frees
// nothing (enumeration clears these tables every few hundred thousand rows).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace saturn::saturate::detail {

class SpanTable {
 public:
  // The value stored for key[0..n), or nullptr.
  const int* find(const void* key, std::size_t n) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t h = hash(key, n);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.length == kEmpty) return nullptr;
      if (s.hash == h && s.length == n &&
          std::memcmp(arena_.data() + s.offset, key, n * sizeof(std::uint64_t)) == 0)
        return &s.value;
    }
  }
  // Stores value for key[0..n) (a key not present: find first).
  void insert(const void* key, std::size_t n, int value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const std::uint64_t h = hash(key, n);
    place({h, arena_.size(), static_cast<std::uint32_t>(n), value});
    arena_.resize(arena_.size() + n);
    if (n) std::memcpy(arena_.data() + arena_.size() - n, key, n * sizeof(std::uint64_t));
    ++size_;
  }
  void clear() {
    arena_.clear();
    for (Slot& s : slots_) s.length = kEmpty;
    size_ = 0;
  }
  std::size_t size() const { return size_; }

  // Keys given as vectors of longs (ids) or doubles (a row's values, by their bits: equal
  // bits are equal values; -0 and +0 merely get two entries).
  template <class T>
  const int* find(const std::vector<T>& key) const {
    static_assert(sizeof(T) == sizeof(std::uint64_t));
    return find(static_cast<const void*>(key.data()), key.size());
  }
  template <class T>
  void insert(const std::vector<T>& key, int value) {
    static_assert(sizeof(T) == sizeof(std::uint64_t));
    insert(static_cast<const void*>(key.data()), key.size(), value);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    std::uint64_t hash = 0;
    std::size_t offset = 0;
    std::uint32_t length = kEmpty;
    int value = 0;
  };
  static std::uint64_t hash(const void* key, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(key);
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t word;
      std::memcpy(&word, bytes + i * sizeof word, sizeof word);
      h = (h ^ word) * 0xbf58476d1ce4e5b9ull;
      h ^= h >> 31;
    }
    return h;
  }
  void place(const Slot& slot) {
    for (std::size_t i = slot.hash & mask_;; i = (i + 1) & mask_)
      if (slots_[i].length == kEmpty) {
        slots_[i] = slot;
        return;
      }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.length != kEmpty) place(s);
  }
  std::vector<std::uint64_t> arena_;
  std::vector<Slot> slots_;  // a power of two, at most 3/4 full
  std::size_t mask_ = 0, size_ = 0;
};

}  // namespace saturn::saturate::detail
