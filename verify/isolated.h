// Solver queries in a forked child process: Z3 does not always stop at its own timeout in
// nonlinear arithmetic (neither its timeout nor an interrupt is polled inside some nlsat
// computations), but a killed process does; and a query in a child can run beside work in the
// parent (verify --method auto races smt against enumeration).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>

#include "verify/encode.h"

namespace saturn::verify::detail {

class IsolatedQuery {
 public:
  // Starts `query` in a child process (without fork or a pipe it runs here, at once).
  explicit IsolatedQuery(const std::function<SolverAnswer()>& query);
  ~IsolatedQuery();  // kills a child that is still running
  IsolatedQuery(const IsolatedQuery&) = delete;
  IsolatedQuery& operator=(const IsolatedQuery&) = delete;

  // The answer, or unknown when it has not come `seconds` (plus 0.15 s of grace for Z3's
  // own timeout; <= 0: no limit) after the start, or when `stop()` turns true (polled ten times a
  // second): the child is then killed. Ctrl-C kills it and throws Interrupted.
  SolverAnswer wait(double seconds, const std::function<bool()>& stop = {});

 private:
  void kill_child();
  pid_t pid_ = -1;
  int fd_ = -1;
  std::optional<SolverAnswer> answer_;  // when the query ran in this process
  double started_ = 0;
};

// IsolatedQuery(query).wait(seconds).
SolverAnswer run_isolated(double seconds, const std::function<SolverAnswer()>& query);

}  // namespace saturn::verify::detail
