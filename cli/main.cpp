// saturn: a workbench for the formal-language theory of transformers.
// Exit codes: 0 success, 2 bad input (the message names the file, symbol or flag), 1 internal;
// `verify` adds 1 counterexample and 3 unknown.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "lang/error.h"

int main(int argc, char** argv) {
  CLI::App app{"saturn: formal languages, small transformers, saturated networks, proofs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  saturn::cli::add_lang_commands(app);
  saturn::cli::add_nets_commands(app);
  saturn::cli::add_saturate_commands(app);
  saturn::cli::add_verify_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own exit status (verify: 1 counterexample, 3 unknown)
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "saturn: {}\n", e.what());
    return 2;
  } catch (const saturn::InputError& e) {
    fmt::print(stderr, "saturn: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "saturn: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
