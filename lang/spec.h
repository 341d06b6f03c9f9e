// Spec files: a user defines a language in TOML without writing C++ (see README, "Spec files").
//   name = "anbn"
//   alphabet = ["a", "b"]
//   [accept]
//   regex = "a*b*"
//   counts = ["#a == #b"]
// Every error names the place: "anbn.toml:7:12: unknown symbol 'c' in count term".
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "lang/language.h"

namespace saturn {

// Parses spec text; `source` names it in error messages (a path, or "builtin:NAME").
std::shared_ptr<const Language> load_spec(std::string_view text, const std::string& source);
std::shared_ptr<const Language> load_spec_file(const std::filesystem::path& path);

}  // namespace saturn
