// --threads T, shared by every command that computes (train, learn, eval, saturate, heads,
// circuit, extract, inspect, keys, memories, verify).
#pragma once

#include <CLI/CLI.hpp>

namespace saturn::cli {

// Adds `--threads T` to `cmd`: the number of threads the command's computation uses (OpenMP's
// thread count, for the whole command). Without it, SATURN_THREADS when set and not empty, else
// OMP_NUM_THREADS, else every core. T and SATURN_THREADS are 1..4096; anything else exits 2
// naming the flag or the variable (a bad SATURN_THREADS is refused even beside --threads).
void add_threads_option(CLI::App* cmd);

}  // namespace saturn::cli
