// Whole files read with a bound, so that /dev/zero or a multi-gigabyte file given by mistake
// is refused with a message instead of read until memory runs out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace saturn {

inline constexpr std::uint64_t kMaxTextFile = std::uint64_t(64) << 20;  // specs, configs

// The file's bytes. Throws InputError "PATH: cannot read WHAT" or "PATH: WHAT larger than N
// bytes" (checked against the size of a regular file before reading, and while reading
// anything else: pipes, devices).
std::string read_file(const std::filesystem::path& path, std::string_view what,
                      std::uint64_t max_bytes);

// The file opened for reading as a stream (for LineReader): a regular file, device, FIFO or
// pipe. Throws InputError "PATH: is a directory, expected WHAT" or "PATH: cannot read WHAT
// (REASON)". Read errors later on (EIO) surface through LineReader as InputError too.
std::ifstream open_for_reading(const std::filesystem::path& path, std::string_view what);

}  // namespace saturn
