// saturn: a workbench for the formal-language theory of transformers.
// Exit codes: 0 success, 2 bad input or a budget exceeded (the message names the file, JSON
// path, flag or key), 130 interrupted (Ctrl-C), 1 a bug in saturn (the message says so);
// `verify` adds 1 counterexample and 3 unknown.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "cli/app_help.h"
#include "cli/commands.h"

namespace {

// --memory-limit applies to every command and may stand anywhere before `--`; it is taken out
// of the arguments before CLI11 sees them (each command keeps its own options and words).
std::string take_memory_limit(std::vector<std::string>& args) {
  std::string limit;
  for (std::size_t i = 1; i < args.size();) {
    if (args[i] == "--") break;
    if (args[i] == "--memory-limit") {
      if (i + 1 >= args.size()) throw saturn::InputError("--memory-limit: expected a size");
      limit = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    } else if (args[i].rfind("--memory-limit=", 0) == 0) {
      limit = args[i].substr(15);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return limit;
}

int report(const std::string& message, int code) {
  std::fflush(stdout);
  fmt::print(stderr, "saturn: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"saturn: formal languages, small transformers, saturated networks, proofs",
               "saturn"};  // the name starts every usage line: "Usage: saturn train [OPTIONS]"
  app.require_subcommand(1);
  app.set_version_flag("--version", saturn::cli::version_text,
                       "Print the version, the commit and the build, then exit");
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::string unused;  // listed for --help; take_memory_limit reads it
  app.add_option("--memory-limit", unused,
                 "Memory budget for sizes you control, e.g. 8G, anywhere on the command line "
                 "(default: half the physical memory, or SATURN_MEMORY_LIMIT)");
  saturn::cli::add_lang_commands(app);
  saturn::cli::add_nets_commands(app);
  saturn::cli::add_saturate_commands(app);
  saturn::cli::add_verify_commands(app);
  saturn::cli::add_extract_command(app);
  saturn::cli::add_inspect_command(app);
  saturn::cli::add_theory_command(app);
  saturn::cli::add_keys_command(app);
  saturn::cli::add_memories_command(app);
  saturn::cli::add_sweep_command(app);
  saturn::install_interrupt_handler();
  try {
    saturn::progress_interval();  // a bad SATURN_PROGRESS_SECONDS is refused before any work
    std::vector<std::string> args(argv, argv + argc);
    if (const std::string limit = take_memory_limit(args); !limit.empty())
      saturn::set_memory_budget(saturn::parse_memory_size(limit, "--memory-limit"));
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11's order
    app.parse(reversed);
    saturn::check_stdout();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    fmt::print("{}", e.what());
    try {
      saturn::check_stdout();
    } catch (const saturn::InputError& error) {
      return report(error.what(), 2);
    }
    return 0;
  } catch (const CLI::RuntimeError& e) {
    saturn::check_stdout();
    return e.get_exit_code();  // a command's own exit status (verify: 1 counterexample, 3 unknown)
  } catch (const CLI::ParseError& e) {
    return report(saturn::cli::parse_error_message(app, e.what()), 2);
  } catch (const saturn::InputError& e) {
    return report(e.what(), 2);
  } catch (const saturn::Interrupted&) {
    return report("interrupted", 130);
  } catch (const std::filesystem::filesystem_error& e) {
    // A path that cannot be read, created or listed: name it and the system's reason.
    const std::string path = e.path1().empty() ? "" : e.path1().string() + ": ";
    return report(fmt::format("{}{}", path, e.code().message()), 2);
  } catch (const std::bad_alloc&) {
    return report(
        "out of memory: a size was not checked against the memory budget (a bug in saturn; "
        "please report the command)",
        1);
  } catch (const std::exception& e) {
    return report(
        fmt::format("internal error (a bug in saturn; please report the command): {}", e.what()),
        1);
  }
  return 0;
}
