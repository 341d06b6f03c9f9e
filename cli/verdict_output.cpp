#include "cli/verdict_output.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

namespace saturn::cli {

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
