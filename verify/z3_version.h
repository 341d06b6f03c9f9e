// The version of the Z3 library this saturn runs with (for `saturn --version`), without
// exposing z3++.h beyond verify/.
#pragma once

#include <string>

namespace saturn::verify {

// "MAJOR.MINOR.BUILD.REVISION" as the loaded libz3 reports it.
std::string z3_version();

}  // namespace saturn::verify
