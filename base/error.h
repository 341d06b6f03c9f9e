// Errors a user can cause (bad spec, unknown symbol, bad flag, a size over a budget). The CLI
// prints the message as is and exits with code 2; the message names the place (file:line:col,
// JSON path, symbol, flag or key).
#pragma once

#include <stdexcept>
#include <string>

namespace saturn {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A limit of the exact algorithms or a resource budget was reached (a count table, the memory
// budget, a length bound). Also exit code 2: the input asks for more than saturn can do
// exactly within its stated limits; the message names the knob that raises the limit.
class LimitError : public InputError {
 public:
  using InputError::InputError;
};

// The user pressed Ctrl-C (SIGINT): long loops stop at once (base/interrupt.h). Exit 130.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace saturn
