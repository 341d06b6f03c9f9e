// What `saturn verify --json` and `saturn extract --json` print, composed here so that the CLI
// and the Python package (python/) give the same fields from the same code; and `verify`'s own
// steps (its --against, its checks), which both call.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "loop/close.h"
#include "saturate/circuit.h"
#include "verify/equivalence.h"

namespace saturn::loop {

// --against of verify: a circuit file (a path ending in .json), else a language (built-in or
// spec). Throws InputError naming what is not found.
verify::Reference resolve_reference(const std::string& what);

struct VerifyOptions {
  std::string circuit;          // circuit file
  std::string against;          // language (built-in or spec) or a second circuit file
  int min_length = 0;           // shortest word checked
  int max_length = -1;          // longest word checked
  std::string method = "auto";  // auto, enumerate, smt or counts
  double timeout = 0;           // seconds (0: none)
  bool progress = false;        // verify's progress line on stderr
};

struct VerifyResult {
  saturate::Circuit circuit;
  verify::Reference reference;
  verify::Verdict verdict;
};

// `saturn verify`: loads the circuit, resolves --against, checks --method and --timeout
// (InputError naming the flag), then verify::check_equivalence.
VerifyResult verify_circuit(const VerifyOptions& options);

// verdict, method, seconds, min_length, max_length, proved_up_to; for a counterexample word,
// length, canonical, circuit_accepts, reference_accepts; for unknown, reason.
void add_verdict_fields(nlohmann::ordered_json& j, const verify::Verdict& v,
                        const saturate::Circuit& circuit);

// `saturn verify --json`: circuit (the path as given), against, the verdict's fields, tie.
nlohmann::ordered_json verify_json(const std::string& circuit_path, const VerifyResult& r);

// `saturn extract --json`: checkpoint, step, against, circuit, faithfulness, heads, the verdict's
// fields and the all-words pass's.
nlohmann::ordered_json extract_json(const LoopResult& r);

}  // namespace saturn::loop
