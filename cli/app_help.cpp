// `saturn --version` and "did you mean" for arguments CLI11 did not understand.
#include "cli/app_help.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/suggest.h"
#include "base/version.h"
#include "nets/config.h"
#include "nets/run_config.h"
#include "sweep/mpi.h"
#include "verify/z3_version.h"

namespace saturn::cli {

std::string version_text() {
  return fmt::format("saturn {}\ncommit: {}\nbuild: {}, {}, Z3 {}\n", version(), commit(),
                     native_build() ? "native (-march=native)" : "portable (SATURN_PORTABLE)",
                     sweep::mpi_available() ? "MPI" : "no MPI", verify::z3_version());
}

namespace {

// The deepest subcommand the arguments selected (the app itself when none).
const CLI::App* selected_command(const CLI::App& app) {
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return command;
}

bool accepts_config_keys(const CLI::App& command) {
  return command.get_option_no_throw("--set") != nullptr;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += fmt::format("{}'{}'", i == 0 ? "" : i + 1 == names.size() ? " or " : ", ", names[i]);
  return text;
}

// The message for one argument that was not understood, naming its nearest names; "" when none
// is near.
std::string suggestion(const CLI::App& command, const std::string& arg) {
  if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
    // --name or --name=value: the command's long flags, then config keys for --set.
    const std::string name = arg.substr(2, arg.find('=') - 2);
    std::vector<std::string> flags;
    for (const CLI::Option* option : command.get_options())
      for (const auto& long_name : option->get_lnames()) flags.push_back(long_name);
    auto candidates = flags;
    if (accepts_config_keys(command)) {
      candidates.insert(candidates.end(), nets::model_keys().begin(), nets::model_keys().end());
      candidates.insert(candidates.end(), nets::training_keys().begin(),
                        nets::training_keys().end());
    }
    std::vector<std::string> shown;
    for (const auto& near : nearest_names(name, candidates))
      shown.push_back(std::find(flags.begin(), flags.end(), near) != flags.end()
                          ? "--" + near
                          : "--set " + near + "=VALUE");
    if (shown.empty()) return "";
    return fmt::format("unknown option '{}' (did you mean {}?)", arg.substr(0, arg.find('=')),
                       quoted_list(shown));
  }
  if (arg.empty() || arg[0] == '-') return "";
  // A word where a subcommand was expected.
  std::vector<std::string> names;
  for (const CLI::App* sub : command.get_subcommands({})) names.push_back(sub->get_name());
  const auto near = nearest_names(arg, names);
  if (near.empty()) return "";
  const std::string path = command.get_parent() ? command.get_name() + " " : "";
  return fmt::format("unknown command '{}{}' (did you mean {}?)", path, arg, quoted_list(near));
}

}  // namespace

std::string parse_error_message(const CLI::App& app, const std::string& message) {
  const CLI::App* command = selected_command(app);
  for (const auto& arg : app.remaining(true))
    if (std::string text = suggestion(*command, arg); !text.empty()) return text;
  return message;
}

}  // namespace saturn::cli
