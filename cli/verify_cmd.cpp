// `saturn verify` (a circuit against a language or a second circuit, up to a length) and
// `saturn construct` (the hand-built circuits of verify/constructions/).
// Exit codes of verify: 0 equivalent, 1 counterexample, 3 unknown, 2 bad input.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "cli/verdict_output.h"
#include "lang/builtin.h"
#include "loop/report.h"
#include "saturate/circuit.h"
#include "verify/constructions/constructions.h"
#include "verify/equivalence.h"

namespace saturn::cli {

void add_verify_commands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand(
        "verify",
        "Prove a circuit equivalent to a language up to a length, or find the "
        "shortest counterexample (exit 0 equivalent, 1 counterexample, 3 unknown)");
    add_threads_option(cmd);
    auto circuit_file = std::make_shared<std::string>();
    auto against = std::make_shared<std::string>();
    auto max_length = std::make_shared<int>(-1);
    auto min_length = std::make_shared<int>(0);
    auto method = std::make_shared<std::string>("auto");
    auto timeout = std::make_shared<double>(0);
    auto json = std::make_shared<bool>(false);
    cmd->add_option("CIRCUIT", *circuit_file, "Circuit file (saturn circuit / construct)")
        ->required();
    cmd->add_option("--against", *against, "Language (built-in or spec) or a second circuit")
        ->required();
    cmd->add_option("--max-length", *max_length, "Longest word checked")->required();
    cmd->add_option("--min-length", *min_length, "Shortest word checked")->capture_default_str();
    cmd->add_option("--method", *method, "auto, enumerate, smt or counts")->capture_default_str();
    cmd->add_option("--timeout", *timeout, "Seconds before giving up with `unknown` (0: none)")
        ->capture_default_str();
    cmd->add_flag("--json", *json, "JSON output");
    cmd->callback([=] {
      const auto r = loop::verify_circuit(
          {*circuit_file, *against, *min_length, *max_length, *method, *timeout, !*json});
      const auto& v = r.verdict;
      if (*json)
        fmt::print("{}\n", loop::verify_json(*circuit_file, r).dump(2));
      else
        print_verdict(v, r.circuit, r.reference);
      exit_with_verdict(v);
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "construct", "Write a hand-built circuit (majority, dyck1, anbn, first) as JSON");
    auto name = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto broken = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "majority, dyck1, anbn or first")->required();
    cmd->add_option("-o,--out", *out, "Circuit file to write")->required();
    cmd->add_flag("--broken", *broken, "The variant with one deliberate bug");
    cmd->callback([=] {
      const auto c = verify::build_construction(*name, *broken);
      saturate::save_circuit(*out, c);
      fmt::print("wrote {} (recognises {}{})\n  {}\n", *out, verify::construction_language(*name),
                 *broken ? " -- except for its deliberate bug" : "", c.comment);
    });
  }
}

}  // namespace saturn::cli
