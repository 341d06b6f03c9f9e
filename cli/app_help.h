// What the `saturn` command itself tells a user, beside its subcommands: `--version`, and the
// nearest names ("did you mean") for a misspelled subcommand or flag.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace saturn::cli {

// `saturn --version`: "saturn VERSION", "commit: ...", "build: native|portable, MPI|no MPI, Z3 X".
std::string version_text();

// The message for a parse error of `app`: when an argument was not understood and a subcommand
// or flag of the deepest command given is near it, "unknown option '--stpes' (did you mean
// '--set steps=VALUE'?)" or "unknown command 'lnag' (did you mean 'lang'?)"; else `message`.
// Flags near a model or training key point to `--set KEY=VALUE`.
std::string parse_error_message(const CLI::App& app, const std::string& message);

}  // namespace saturn::cli
