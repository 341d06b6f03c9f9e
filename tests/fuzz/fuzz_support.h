// Shared by the libFuzzer targets: a small memory budget (so that a size the input controls is
// refused by the budget long before libFuzzer's RSS limit), and errors the readers may throw.
// Anything else — a crash, a sanitizer report, an exception that is not InputError — is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/budget.h"
#include "base/error.h"

#define SATURN_FUZZ_INIT                                 \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {   \
    saturn::set_memory_budget(std::uint64_t(256) << 20); \
    return 0;                                            \
  }

namespace saturn::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A property the target checks on accepted inputs; a failure aborts (libFuzzer reports it).
inline void require(bool ok, const char* what) {
  if (!ok) {
    __builtin_printf("property violated: %s\n", what);
    __builtin_trap();
  }
}

}  // namespace saturn::fuzz
