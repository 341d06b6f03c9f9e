#include "verify/isolated.h"

#include "base/interrupt.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>

namespace saturn::verify::detail {

// The answer crosses a pipe as "kind length symbols... reason".
SolverAnswer run_isolated(double seconds, const std::function<SolverAnswer()>& query) {
  int fds[2];
  if (pipe(fds) != 0) return query();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return query();
  }
  if (pid == 0) {  // child: answer, then leave without running the parent's exit handlers
    close(fds[0]);
    SolverAnswer a;
    try {
      a = query();
    } catch (const std::exception& e) {
      a.kind = SolverAnswer::unknown;
      a.reason = e.what();
    }
    std::string text = fmt::format("{} {}", static_cast<int>(a.kind), a.word.size());
    for (Symbol s : a.word) text += fmt::format(" {}", static_cast<int>(s));
    text += " " + a.reason;
    for (std::size_t at = 0; at < text.size();) {
      const ssize_t n = write(fds[1], text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  const bool has_deadline = seconds > 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds + 1);
  std::string text;
  char buffer[4096];
  bool finished = false;
  while (!interrupted()) {
    // Short waits, so that Ctrl-C stops the solver at once.
    long wait = 100;
    if (has_deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      wait = std::min(wait, static_cast<long>(left));
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait)) <= 0) continue;
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) {
      finished = true;  // end of file: the child wrote its answer and exited
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (!finished) kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  check_interrupt();
  SolverAnswer a;
  a.kind = SolverAnswer::unknown;
  if (!finished) {
    a.reason = fmt::format("timeout: Z3 had not answered after {:.1f} s (stopped)", seconds);
    return a;
  }
  std::istringstream in(text);
  int kind = 0;
  std::size_t size = 0;
  if (!(in >> kind >> size)) {
    a.reason = "the solver process ended without an answer";
    return a;
  }
  for (std::size_t i = 0; i < size; ++i) {
    int s = 0;
    in >> s;
    a.word.push_back(static_cast<Symbol>(s));
  }
  std::getline(in >> std::ws, a.reason);
  a.kind = static_cast<SolverAnswer::Kind>(kind);
  return a;
}

}  // namespace saturn::verify::detail
