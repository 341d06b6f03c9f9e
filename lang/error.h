// Errors a user can cause (bad spec, unknown symbol, bad flag). The CLI prints the message
// as is and exits with code 2; the message names the place (file:line:col, symbol, flag).
#pragma once

#include <stdexcept>
#include <string>

namespace saturn {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A limit of the exact algorithms was reached (e.g. a count table grew past its cap).
// Also exit code 2: the input asks for more than saturn can do exactly.
class LimitError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace saturn
