// Safe outputs. A regular file (or a new one) is written to a temporary file beside it,
// NAME.tmp.PID, and renamed into place, so an interrupted run never leaves a half-written
// dataset or checkpoint; the temporary file is removed on every error path. A target that is
// not a regular file (/dev/null, a FIFO, a terminal) is written directly — renaming over it
// would replace the device — and "-" is standard output. A symbolic link to a regular file is
// followed: the file it names is replaced, the link stays.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace saturn {

// Throws InputError naming the path if it cannot be written.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// The same rules for output produced piece by piece (datasets of any size): write() appends,
// commit() puts the file in place. Destroyed without commit() (an error, Ctrl-C), a temporary
// file is removed and the target is left as it was.
class OutputFile {
 public:
  explicit OutputFile(const std::filesystem::path& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view text);
  // Flushes (and fsyncs when `durable`) and renames the temporary file into place.
  void commit(bool durable = false);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_, target_, temporary_;  // temporary_ empty: written directly
  std::FILE* file_ = nullptr;
  bool owned_ = false;  // file_ is ours to close (not stdout)
  bool committed_ = false;
};

// NAME.tmp.PID files in `dir` whose process no longer runs (left by kill -9) are removed;
// returns their paths.
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir);

// Fails with "standard output: write failed (REASON)" when stdout had a write error; call
// before exiting successfully.
void check_stdout();

}  // namespace saturn
