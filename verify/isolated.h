// Runs a solver query in a forked child process with a hard deadline: Z3 does not always stop
// at its own timeout in nonlinear arithmetic (neither its timeout nor an interrupt is polled
// inside some nlsat computations), but a killed process does.
#pragma once

#include <functional>

#include "verify/encode.h"

namespace saturn::verify::detail {

// `query`'s answer, computed in a child process, or unknown if it has not answered `seconds`
// (plus a second's grace for Z3's own timeout) after the start (seconds <= 0: no deadline):
// the child is then killed. Ctrl-C kills the child and throws Interrupted. Without fork (or a
// pipe), the query runs in this process.
SolverAnswer run_isolated(double seconds, const std::function<SolverAnswer()>& query);

}  // namespace saturn::verify::detail
