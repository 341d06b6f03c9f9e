#include "cli/slurm_option.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <filesystem>

#include "base/error.h"

namespace saturn::cli {

namespace {

constexpr const char* kPathCharacters = "/_-.+,=@ ";

void check_plain(const std::string& flag, const std::string& value, const char* allowed) {
  for (unsigned char ch : value)
    if (!std::isalnum(ch) && !std::strchr(allowed, ch))
      throw InputError(fmt::format(
          "{}: has a character an sbatch script cannot hold safely (allowed: letters, digits "
          "and {})",
          flag, allowed));
}

void check_slurm_range(const char* flag, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw InputError(fmt::format("{}: expected {}..{} (got {})", flag, lo, hi, value));
}

}  // namespace

void add_slurm_options(CLI::App* cmd, sweep::SlurmOptions& slurm, const char* array_help) {
  cmd->add_option("--slurm-ntasks", slurm.ntasks, "MPI ranks (or concurrent array elements)")
      ->capture_default_str();
  cmd->add_option("--slurm-threads", slurm.threads, "Cores per rank")->capture_default_str();
  cmd->add_option("--slurm-time", slurm.time, "Time limit")->capture_default_str();
  cmd->add_option("--slurm-partition", slurm.partition, "Partition");
  cmd->add_flag("--slurm-array", slurm.array, array_help);
}

sweep::SlurmOptions checked_slurm_options(
    const sweep::SlurmOptions& slurm,
    const std::vector<std::pair<std::string, std::string>>& paths) {
  check_plain("--slurm-time", slurm.time, ":-");
  check_plain("--slurm-partition", slurm.partition, "_-,.");
  for (const auto& [flag, value] : paths) check_plain(flag, value, kPathCharacters);
  check_slurm_range("--slurm-ntasks", slurm.ntasks, 1, 1 << 20);
  check_slurm_range("--slurm-threads", slurm.threads, 1, 4096);
  sweep::SlurmOptions checked = slurm;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    check_plain("the saturn binary's path", self.string(), kPathCharacters);
    checked.binary = self.string();
  }
  return checked;
}

}  // namespace saturn::cli
