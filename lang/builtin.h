// The built-in language zoo (`saturn lang list`): spec files compiled into the binary from
// lang/zoo/*.toml, plus C++ machines for languages a spec cannot express.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lang/language.h"

namespace saturn {

// All built-in names, sorted.
std::vector<std::string> builtin_names();
// The built-in language, or nullptr. Built once and cached (thread-safe).
std::shared_ptr<const Language> builtin(const std::string& name);
// A built-in name, or else a path to a spec file. Throws InputError naming `what` otherwise.
std::shared_ptr<const Language> resolve_language(const std::string& what);

}  // namespace saturn
