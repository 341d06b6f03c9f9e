// The buffers the kernels read and write through Eigen: 64-byte aligned. Eigen's vectorized
// loops start at the first packet-aligned element of a buffer and sum in another order than
// its scalar ones, so the same numbers at a differently aligned address can give different
// bits. With malloc's 16-byte alignment and 64-byte AVX-512 packets (the default -march=native
// build), that made two identical trainings in one process differ; aligned buffers make the
// alignment of every row a function of the shapes alone, so results depend only on the inputs.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace saturn::nets {

inline constexpr std::size_t kBufferAlignment = 64;

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kBufferAlignment)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete(p, std::align_val_t(kBufferAlignment));
  }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using Buffer = std::vector<T, AlignedAllocator<T>>;

}  // namespace saturn::nets
