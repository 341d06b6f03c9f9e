#include "base/read_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/budget.h"
#include "base/error.h"

namespace saturn {

std::ifstream open_for_reading(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, expected a {}", path.string(), what));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(fmt::format("{}: cannot read {} ({})", path.string(), what,
                                 std::strerror(errno ? errno : ENOENT)));
  return in;
}

std::string read_file(const std::filesystem::path& path, std::string_view what,
                      std::uint64_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, expected a {}", path.string(), what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read {}", path.string(), what));
  auto too_large = [&] {
    return InputError(fmt::format("{}: {} larger than {}", path.string(), what,
                                  format_bytes(static_cast<double>(max_bytes))));
  };
  const auto size = std::filesystem::is_regular_file(path, ec)
                        ? std::filesystem::file_size(path, ec)
                        : std::uintmax_t(0);
  if (!ec && size > max_bytes) throw too_large();
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(size));
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    bytes.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > max_bytes) throw too_large();
  }
  if (in.bad()) throw InputError(fmt::format("{}: cannot read {}", path.string(), what));
  return bytes;
}

}  // namespace saturn
