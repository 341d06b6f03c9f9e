#include "base/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace saturn {

namespace fs = std::filesystem;

namespace {

std::string reason() {
  return std::strerror(errno);
}

// Where the renamed file must land: `path`, or the regular file a symbolic link names.
fs::path rename_target(const fs::path& path) {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    const fs::path resolved = fs::canonical(path, ec);
    if (!ec) return resolved;
  }
  return path;
}

// True when `path` exists and is not a regular file (a device, FIFO, socket, terminal).
bool special_target(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return !S_ISREG(st.st_mode);
}

bool process_alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

OutputFile::OutputFile(const fs::path& path) : path_(path) {
  if (path.string() == "-") {
    file_ = stdout;
    return;
  }
  if (special_target(path)) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_)
      throw InputError(fmt::format("{}: cannot open for writing ({})", path.string(), reason()));
    owned_ = true;
    return;
  }
  target_ = rename_target(path);
  temporary_ = target_;
  temporary_ += fmt::format(".tmp.{}", ::getpid());
  const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    const std::string why = reason();
    temporary_.clear();
    throw InputError(fmt::format("{}: cannot open for writing ({})", path.string(), why));
  }
  file_ = ::fdopen(fd, "wb");
  if (!file_) {
    ::close(fd);
    ::unlink(temporary_.c_str());
    temporary_.clear();
    throw InputError(fmt::format("{}: cannot open for writing", path.string()));
  }
  owned_ = true;
}

OutputFile::~OutputFile() {
  if (owned_ && file_) std::fclose(file_);
  if (!committed_ && !temporary_.empty()) ::unlink(temporary_.c_str());
}

void OutputFile::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
    throw InputError(fmt::format("{}: write failed ({})", path_.string(), reason()));
}

void OutputFile::commit(bool durable) {
  if (std::fflush(file_) != 0 || std::ferror(file_))
    throw InputError(fmt::format("{}: write failed ({})", path_.string(), reason()));
  if (durable && owned_ && ::fsync(::fileno(file_)) != 0 && errno != EINVAL)
    throw InputError(fmt::format("{}: fsync failed ({})", path_.string(), reason()));
  if (owned_) {
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0)
      throw InputError(fmt::format("{}: write failed ({})", path_.string(), reason()));
  }
  if (!temporary_.empty() && ::rename(temporary_.c_str(), target_.c_str()) != 0)
    throw InputError(fmt::format("{}: cannot rename the temporary file into place ({})",
                                 path_.string(), reason()));
  committed_ = true;
}

void write_file_atomically(const fs::path& path, std::string_view contents) {
  OutputFile out(path);
  out.write(contents);
  out.commit(/*durable=*/true);
}

std::vector<fs::path> remove_stale_temporaries(const fs::path& dir) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size() || name.size() - at > 5 + 10) continue;
    long pid = 0;
    bool digits = true;
    for (std::size_t i = at + 5; i < name.size(); ++i) {
      digits = digits && name[i] >= '0' && name[i] <= '9';
      if (digits) pid = pid * 10 + (name[i] - '0');
    }
    if (!digits || process_alive(pid) || !it->is_regular_file()) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) removed.push_back(it->path());
  }
  return removed;
}

void check_stdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    throw InputError(fmt::format("standard output: write failed ({})",
                                 errno ? reason() : std::string("unknown error")));
}

}  // namespace saturn
