// Registration of the `saturn` subcommands, one function per stage.
#pragma once

#include <CLI/CLI.hpp>

namespace saturn::cli {

void add_lang_commands(CLI::App& app);
void add_nets_commands(CLI::App& app);
void add_saturate_commands(CLI::App& app);
void add_verify_commands(CLI::App& app);
void add_extract_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_theory_command(CLI::App& app);
void add_keys_command(CLI::App& app);
void add_memories_command(CLI::App& app);
void add_sweep_command(CLI::App& app);

}  // namespace saturn::cli
