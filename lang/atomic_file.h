// Files are written to a temporary name beside the target and renamed into place, so an
// interrupted run never leaves a half-written dataset or checkpoint.
#pragma once

#include <filesystem>
#include <string_view>

namespace saturn {

// Throws InputError naming the path if it cannot be written.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace saturn
