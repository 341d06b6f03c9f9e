// Ctrl-C and progress for long work. The first SIGINT sets a flag that long loops poll
// (check_interrupt() throws Interrupted, which the CLI turns into exit code 130); a second
// SIGINT ends the process at once. Progress goes to stderr: on a terminal one line rewritten in
// place; otherwise (a log, CI) a full line every few seconds, so a long command shows life.
#pragma once

#include <chrono>
#include <string>

namespace saturn {

void install_interrupt_handler();
bool interrupted();
// Throws Interrupted once SIGINT was received. Cheap: one relaxed atomic load.
void check_interrupt();

// For a host that keeps running after Ctrl-C (the Python package): while a scope lives, SIGINT
// only sets the flag (every time; nothing ends the process), so long work stops at its next
// check_interrupt(); on leaving, the previous SIGINT handler is back and the flag is cleared.
// Scopes nest (only the outermost installs). Use from the thread that receives SIGINT.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  // Whether SIGINT arrived while the scope lived.
  bool fired() const { return interrupted(); }

 private:
  bool outermost_ = false;
};

// "\rWHAT: 1234/5678 (21%)" on stderr, at most five times a second, erased when done, when
// stderr is a terminal. Otherwise "WHAT: 1234/5678 (21%)" as a line of its own once the work has
// run for progress_interval() and every progress_interval() after that (none for short work).
class Progress {
 public:
  explicit Progress(std::string what, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Reports progress and polls Ctrl-C (throws Interrupted).
  void update(double done, double total);
  void update(const std::string& text);
  // Erases the line on a terminal, before other output is printed there.
  void clear();

 private:
  bool due();  // polls Ctrl-C; true when a line may be shown now
  void show(const std::string& text) const;
  std::string what_;
  bool enabled_;
  bool shown_ = false;
  bool terminal_;
  std::chrono::milliseconds interval_{0};  // between lines when not on a terminal
  std::chrono::steady_clock::time_point last_;
};

// The interval between progress lines when stderr is not a terminal: SATURN_PROGRESS_SECONDS
// (a number > 0; 0 turns them off), default 5 s. Throws InputError for another value.
std::chrono::milliseconds progress_interval();

}  // namespace saturn
