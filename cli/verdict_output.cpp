#include "cli/verdict_output.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

namespace saturn::cli {

void add_verdict_fields(nlohmann::ordered_json& j, const verify::Verdict& v,
                        const saturate::Circuit& circuit) {
  j["verdict"] = v.kind == verify::Verdict::equivalent       ? "equivalent"
                 : v.kind == verify::Verdict::counterexample ? "counterexample"
                                                             : "unknown";
  j["method"] = v.method;
  j["seconds"] = v.seconds;
  j["min_length"] = v.min_length;
  j["max_length"] = v.max_length;
  j["proved_up_to"] = v.proved_up_to;
  if (v.kind == verify::Verdict::counterexample) {
    j["word"] = circuit.alphabet.format(v.word);
    j["length"] = v.word.size();
    j["canonical"] = v.canonical;
    j["circuit_accepts"] = v.circuit_accepts;
    j["reference_accepts"] = v.reference_accepts;
  }
  if (v.kind == verify::Verdict::unknown) j["reason"] = v.reason;
}

void print_verdict(const verify::Verdict& v, const saturate::Circuit& circuit,
                   const verify::Reference& reference, const std::string& extra) {
  fmt::print("{}\n", verify::describe(v, circuit, reference));
  // The equivalent line names its method and time; the others' fixed format does not, so they
  // follow on stderr.
  if (v.kind == verify::Verdict::equivalent) return;
  std::fflush(stdout);
  fmt::print(stderr, "({}, {:.2f} s{}{})\n", v.method, v.seconds,
             v.kind == verify::Verdict::counterexample && !v.canonical
                 ? "; time ran out before the least word of this length was found"
                 : "",
             extra);
}

void exit_with_verdict(const verify::Verdict& v) {
  if (v.kind != verify::Verdict::equivalent)
    throw CLI::RuntimeError(v.kind == verify::Verdict::counterexample ? 1 : 3);
}

}  // namespace saturn::cli
