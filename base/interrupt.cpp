#include "base/interrupt.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

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

}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
}

bool interrupted() {
  return g_interrupted.load(std::memory_order_relaxed);
}

void check_interrupt() {
  if (interrupted()) throw Interrupted();
}

Progress::Progress(std::string what, bool enabled)
    : what_(std::move(what)), enabled_(enabled && ::isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (shown_) fmt::print(stderr, "\r\033[K");
}

bool Progress::due() {
  check_interrupt();
  if (!enabled_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(200)) return false;
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
  fmt::print(stderr, "\r\033[K{}: {}", what_, text);
  std::fflush(stderr);
}

}  // namespace saturn
