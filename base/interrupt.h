// Ctrl-C and progress for long work. The first SIGINT sets a flag that long loops poll
// (check_interrupt() throws Interrupted, which the CLI turns into exit code 130); a second
// SIGINT ends the process at once. Progress lines go to stderr only when it is a terminal.
#pragma once

#include <chrono>
#include <string>

namespace saturn {

void install_interrupt_handler();
bool interrupted();
// Throws Interrupted once SIGINT was received. Cheap: one relaxed atomic load.
void check_interrupt();

// "\rWHAT: 1234/5678 (21%)" on stderr, at most five times a second, erased when done.
class Progress {
 public:
  explicit Progress(std::string what, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Reports progress and polls Ctrl-C (throws Interrupted).
  void update(double done, double total);
  void update(const std::string& text);

 private:
  bool due();  // polls Ctrl-C; true when a line may be shown now
  void show(const std::string& text) const;
  std::string what_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace saturn
