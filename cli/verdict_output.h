// How `saturn verify` and `saturn extract` report a verdict: the contract's line on stdout with
// (method, time) after it on stderr (the JSON fields: loop/report.h); and the exit code.
#pragma once

#include <string>

#include "saturate/circuit.h"
#include "verify/equivalence.h"

namespace saturn::cli {

// The verdict line on stdout; after a counterexample or unknown, "(method, time[; note])" on
// stderr, the note saying when a counterexample may not be the least word, plus `extra`.
void print_verdict(const verify::Verdict& v, const saturate::Circuit& circuit,
                   const verify::Reference& reference, const std::string& extra = "");

// Exit 1 for a counterexample, 3 for unknown (0: returns).
void exit_with_verdict(const verify::Verdict& v);

}  // namespace saturn::cli
