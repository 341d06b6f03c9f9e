// The `--emit-slurm` option block, shared by `saturn sweep` and `saturn theory`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sweep/sweep.h"

namespace saturn::cli {

// Adds --slurm-ntasks, --slurm-threads, --slurm-time, --slurm-partition and --slurm-array
// (described by `array_help`) to `cmd`, writing into `slurm`.
void add_slurm_options(CLI::App* cmd, sweep::SlurmOptions& slurm, const char* array_help);

// The options checked for a script: every value written into it (the `paths` given, as
// flag/value pairs, and the options' own strings) must hold no character a shell could read
// otherwise, and the counts must be in range; throws InputError naming the flag. The result
// runs this very binary (a filesystem shared by the nodes is assumed anyway).
sweep::SlurmOptions checked_slurm_options(
    const sweep::SlurmOptions& slurm,
    const std::vector<std::pair<std::string, std::string>>& paths);

}  // namespace saturn::cli
