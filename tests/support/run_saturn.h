// Running the `saturn` binary from a test: exit code, stdout and stderr of one command line
// (through the shell, so redirections and pipes may be part of `args`).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace saturn::test {

struct Run {
  int code;
  std::string out, err;
};

inline std::filesystem::path scratch_dir(const std::string& what) {
  auto dir = std::filesystem::temp_directory_path() /
             ("saturn-" + what + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `SATURN ARGS` with stdout and stderr captured; ARGS is shell text.
inline Run run_saturn(const std::string& args) {
  static int counter = 0;
  const auto dir = scratch_dir("run");
  const auto out = dir / ("out" + std::to_string(counter)),
             err = dir / ("err" + std::to_string(counter++));
  // No progress lines unless a test asks for them (SATURN_PROGRESS_SECONDS set in this
  // process): a slow machine or a sanitizer build must not add lines to a one-line refusal.
  const std::string cmd = "SATURN_PROGRESS_SECONDS=${SATURN_PROGRESS_SECONDS:-0} " +
                          std::string(SATURN_BINARY) + " " + args + " >" + out.string() + " 2>" +
                          err.string();
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

inline int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace saturn::test
