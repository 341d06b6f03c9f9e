#include "base/interrupt.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "base/error.h"

namespace saturn {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

extern "C" void on_sigint_in_scope(int) {
  g_interrupted.store(true);
}

// The handler an InterruptScope replaced, and how deep scopes are nested.
struct sigaction g_previous {};
std::atomic<int> g_scope_depth{0};

}  // namespace

InterruptScope::InterruptScope() {
  if (g_scope_depth.fetch_add(1) != 0) return;
  outermost_ = true;
  g_interrupted.store(false);
  struct sigaction action {};
  action.sa_handler = on_sigint_in_scope;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &g_previous);
}

InterruptScope::~InterruptScope() {
  g_scope_depth.fetch_sub(1);
  if (!outermost_) return;
  ::sigaction(SIGINT, &g_previous, nullptr);
  g_interrupted.store(false);
}

void install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
}

bool interrupted() {
  return g_interrupted.load(std::memory_order_relaxed);
}

void check_interrupt() {
  if (interrupted()) throw Interrupted();
}

std::chrono::milliseconds progress_interval() {
  const char* text = std::getenv("SATURN_PROGRESS_SECONDS");
  if (!text || !*text) return std::chrono::seconds(5);
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds >= 0 && seconds <= 1e6))
    throw InputError(fmt::format(
        "SATURN_PROGRESS_SECONDS: expected seconds between progress lines, 0 (none) to 1e6 "
        "(got '{}')",
        text));
  if (seconds == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max(1LL, static_cast<long long>(seconds * 1000)));
}

Progress::Progress(std::string what, bool enabled)
    : what_(std::move(what)),
      enabled_(enabled),
      terminal_(::isatty(STDERR_FILENO)),
      last_(std::chrono::steady_clock::now()) {
  if (enabled_ && !terminal_) {
    interval_ = progress_interval();
    if (interval_.count() == 0) enabled_ = false;
  }
}

Progress::~Progress() {
  clear();
}

void Progress::clear() {
  if (shown_ && terminal_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
  }
}

bool Progress::due() {
  check_interrupt();
  if (!enabled_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return false;
  } else if (now - last_ < interval_) {
    return false;  // the first line too: short work prints none
  }
  last_ = now;
  shown_ = true;
  return true;
}

void Progress::update(double done, double total) {
  if (!due()) return;
  show(total > 0 ? fmt::format("{:.0f}/{:.0f} ({:.0f}%)", done, total, 100 * done / total)
                 : fmt::format("{:.0f}", done));
}

void Progress::update(const std::string& text) {
  if (due()) show(text);
}

void Progress::show(const std::string& text) const {
  if (terminal_)
    fmt::print(stderr, "\r\033[K{}: {}", what_, text);
  else
    fmt::print(stderr, "{}: {}\n", what_, text);
  std::fflush(stderr);
}

}  // namespace saturn
