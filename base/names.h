// Enums named in spec/config files and on the command line: one table of names per enum (in
// the enum's order) serves both parsing, with an error naming the key and the allowed values,
// and printing.
#pragma once

#include <fmt/format.h>

#include <array>
#include <string>

#include "base/error.h"

namespace saturn {

template <class E, std::size_t N>
E parse_name(const std::array<const char*, N>& names, const std::string& key,
             const std::string& value) {
  for (std::size_t i = 0; i < N; ++i)
    if (value == names[i]) return static_cast<E>(i);
  throw InputError(
      fmt::format("{}: unknown value '{}' (expected {})", key, value, fmt::join(names, ", ")));
}

template <class E, std::size_t N>
const char* name_of(const std::array<const char*, N>& names, E value) {
  return names[static_cast<std::size_t>(value)];
}

}  // namespace saturn
