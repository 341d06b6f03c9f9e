// Circuit files (JSON): any text; a circuit that loads is written back and read again to the
// same JSON, and small ones are evaluated exactly on a short word.
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto circuit = saturn::saturate::parse_circuit(saturn::fuzz::text(data, size), "fuzz");
    const std::string json = saturn::saturate::circuit_json(circuit);
    saturn::fuzz::require(
        saturn::saturate::circuit_json(saturn::saturate::parse_circuit(json, "again")) == json,
        "circuit_json round-trips");
    const auto& cfg = circuit.config;
    if (cfg.d_model <= 16 && cfg.d_ff <= 32 && cfg.n_layers <= 2 && cfg.max_length >= 2) {
      const saturn::saturate::ExactEvaluator exact(circuit);
      exact.run(saturn::Word{0, static_cast<saturn::Symbol>(circuit.alphabet.size() - 1)});
    }
  } catch (const saturn::InputError&) {
  }
  return 0;
}
