#include "verify/isolated.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>

#include "base/interrupt.h"

namespace saturn::verify::detail {

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The answer crosses the pipe as "kind canonical length symbols... reason".
std::string encode_answer(const SolverAnswer& a) {
  std::string text =
      fmt::format("{} {} {}", static_cast<int>(a.kind), a.canonical ? 1 : 0, a.word.size());
  for (Symbol s : a.word) text += fmt::format(" {}", static_cast<int>(s));
  return text + " " + a.reason;
}

SolverAnswer decode_answer(const std::string& text) {
  SolverAnswer a;
  a.kind = SolverAnswer::unknown;
  std::istringstream in(text);
  int kind = 0, canonical = 0;
  std::size_t size = 0;
  if (!(in >> kind >> canonical >> size) || kind < 0 || kind > 2) {
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
  a.canonical = canonical == 1;
  return a;
}

}  // namespace

IsolatedQuery::IsolatedQuery(const std::function<SolverAnswer()>& query) : started_(now()) {
  int fds[2];
  if (pipe(fds) != 0) {
    answer_ = query();
    return;
  }
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    answer_ = query();
    return;
  }
  if (pid_ == 0) {  // child: answer, then leave without running the parent's exit handlers
    close(fds[0]);
    SolverAnswer a;
    try {
      a = query();
    } catch (const std::exception& e) {
      a.kind = SolverAnswer::unknown;
      a.reason = e.what();
    }
    const std::string text = encode_answer(a);
    for (std::size_t at = 0; at < text.size();) {
      const ssize_t n = write(fds[1], text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  fd_ = fds[0];
}

IsolatedQuery::~IsolatedQuery() {
  kill_child();
}

void IsolatedQuery::kill_child() {
  if (fd_ >= 0) close(fd_), fd_ = -1;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

// How long after its timeout a child may still answer (Z3's own timeout returns unknown):
// --timeout is a promise (the whole command within timeout + 0.3 s, process start and loading
// included: 1.31 s for --timeout 1 with 0.25 s here on a loaded machine), so this is short.
constexpr double kGrace = 0.15;

SolverAnswer IsolatedQuery::wait(double seconds, const std::function<bool()>& stop) {
  if (answer_) return *answer_;
  const bool has_deadline = seconds > 0;
  const double deadline = started_ + seconds + kGrace;
  std::string text;
  char buffer[4096];
  bool finished = false, stopped = false;
  while (fd_ >= 0 && !interrupted()) {
    if (stop && stop()) {
      stopped = true;
      break;
    }
    // Short waits, so that Ctrl-C and `stop` act at once.
    long wait_ms = 100;
    if (has_deadline) {
      const double left = deadline - now();
      if (left <= 0) break;
      wait_ms = std::min(wait_ms, static_cast<long>(left * 1000) + 1);
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait_ms)) <= 0) continue;
    const ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n <= 0) {
      finished = true;  // end of file: the child wrote its answer and exited
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  kill_child();  // reaps a finished child too
  check_interrupt();
  if (finished) return *(answer_ = decode_answer(text));
  SolverAnswer a;
  a.kind = SolverAnswer::unknown;
  a.reason = stopped
                 ? "stopped: another method answered first"
                 : fmt::format("timeout: Z3 had not answered after {:.1f} s (stopped)", seconds);
  return a;
}

SolverAnswer run_isolated(double seconds, const std::function<SolverAnswer()>& query) {
  return IsolatedQuery(query).wait(seconds);
}

}  // namespace saturn::verify::detail
