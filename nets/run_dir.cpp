#include "nets/run_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/atomic_file.h"
#include "base/error.h"

namespace saturn::nets {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".lock";

bool starts_ends(const std::string& name, const char* prefix, const char* suffix) {
  const std::string p = prefix, s = suffix;
  return name.size() >= p.size() + s.size() && name.compare(0, p.size(), p) == 0 &&
         name.compare(name.size() - s.size(), s.size(), s) == 0;
}

}  // namespace

bool is_run_file(const std::string& name) {
  static const std::set<std::string> fixed = {
      "config.toml",       "metrics.jsonl",  "summary.json",   "norms.csv",
      "norms.svg",         "saturation.csv", "saturation.svg", "heads.json",
      "learnability.json", "result.json",    "norms.png",      "saturation.png"};
  return fixed.count(name) > 0 || starts_ends(name, "ckpt-", ".safetensors") ||
         starts_ends(name, "attention-", ".svg") || starts_ends(name, "attention-", ".png") ||
         name.find(".tmp.") != std::string::npos;
}

RunDirectory::RunDirectory(const fs::path& path, Mode mode) : path_(path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::exists(status) && !fs::is_directory(status))
    throw InputError(fmt::format("--out: {} exists and is not a directory", path.string()));
  if (!fs::exists(status)) {
    if (mode == Mode::resume)
      throw InputError(fmt::format("--resume: {}: no such run directory", path.string()));
    fs::create_directories(path, ec);
    if (ec)
      throw InputError(fmt::format("--out: cannot create {} ({})", path.string(), ec.message()));
  }
  const fs::path lock = path / kLockName;
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw InputError(
        fmt::format("--out: cannot write in {} ({})", path.string(), std::strerror(errno)));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char buffer[32] = {};
    const ssize_t got = ::pread(lock_fd_, buffer, sizeof(buffer) - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    const std::string pid = got > 0 ? std::string(buffer, strnlen(buffer, sizeof(buffer))) : "?";
    throw InputError(fmt::format("--out: {} is in use by another saturn (pid {})", path.string(),
                                 pid.substr(0, pid.find('\n'))));
  }
  try {
    prepare(mode);
  } catch (...) {
    ::close(lock_fd_);  // the destructor does not run for a constructor that throws
    lock_fd_ = -1;
    throw;
  }
}

void RunDirectory::prepare(Mode mode) {
  const fs::path& path = path_;
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(lock_fd_, 0) != 0 ||
      ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The pid is only for the message a second writer gets; the lock holds without it.
  }
  remove_stale_temporaries(path);

  std::vector<fs::path> entries, run_files;
  for (const auto& e : fs::directory_iterator(path)) {
    const std::string name = e.path().filename().string();
    if (name == kLockName) continue;
    entries.push_back(e.path());
    if (is_run_file(name)) run_files.push_back(e.path());
  }
  if (mode == Mode::fresh && !entries.empty())
    throw InputError(fmt::format(
        "--out: {} is not empty{}; continue it with --resume, or replace it with --overwrite",
        path.string(), run_files.empty() ? "" : " (it holds a run)"));
  if (mode == Mode::overwrite) {
    if (run_files.empty() && !entries.empty())
      throw InputError(fmt::format(
          "--overwrite: {} is not empty and holds no saturn run; choose a new directory",
          path.string()));
    for (const auto& f : run_files) fs::remove(f);
  }
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

}  // namespace saturn::nets
