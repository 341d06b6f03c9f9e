// A run directory (`saturn train --out DIR`): locked for the whole run (flock on DIR/.lock, so
// a second writer is refused and told the holder's pid), and opened in one of three ways:
// fresh (the directory is new or empty), overwrite (an old run's files are removed first) or
// resume (the run's own files are kept). Temporary files left by a killed run are removed.
#pragma once

#include <filesystem>

namespace saturn::nets {

class RunDirectory {
 public:
  enum class Mode { fresh, overwrite, resume };
  // Throws InputError naming --out when the directory cannot be used in this mode.
  RunDirectory(const std::filesystem::path& path, Mode mode);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  // With the lock held: stale temporaries, then the checks and removals of `mode`.
  void prepare(Mode mode);
  std::filesystem::path path_;
  int lock_fd_ = -1;
};

// Whether `name` is a file saturn writes into a run directory (config.toml, metrics.jsonl,
// summary.json, ckpt-STEP.safetensors, the analyses' outputs, temporary files).
bool is_run_file(const std::string& name);

}  // namespace saturn::nets
